//! An `https://` upstream (a Python server with a certificate from a CA the
//! test makes, `tls_upstream.py`) through the proxy.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{ProxyProcess, run_proxy};
use crate::helpers::idp_command;
use crate::process::spawn_until_listening;

fn pem(tag: &str, der: &[u8]) -> String {
    ::pem::encode(&::pem::Pem::new(tag, der.to_vec()))
}

/// A CA (its certificate in PEM) and, when `leaf` is given, a certificate
/// and key from it for `localhost`, written to `leaf`.crt and `leaf`.key.
fn ca_and_leaf(dir: &Path, name: &str, leaf: bool) -> PathBuf {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let ca = params.self_signed(&key).unwrap();
    let ca_file = dir.join(format!("{name}-ca.pem"));
    std::fs::write(&ca_file, pem("CERTIFICATE", ca.der())).unwrap();
    if leaf {
        let issuer = Issuer::new(params, key);
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        std::fs::write(
            dir.join(format!("{name}.crt")),
            pem("CERTIFICATE", cert.der()),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{name}.key")),
            pem("PRIVATE KEY", &key.serialize_der()),
        )
        .unwrap();
    }
    ca_file
}

/// An `https://` upstream is reached over TLS, its certificate checked
/// against the system's roots (here `SSL_CERT_FILE`, which the platform
/// verifier reads on Linux): trusted, the request goes through with the
/// token; from a CA the system does not trust, it is a 502 that says why.
#[tokio::test]
async fn an_https_upstream_is_checked_against_the_system_roots() {
    let dir = tempfile::tempdir().unwrap();
    let trusted = ca_and_leaf(dir.path(), "upstream", true);
    let other = ca_and_leaf(dir.path(), "other", false);
    let mut cmd = crate::python::python_script("domino_proxy/tls_upstream.py");
    cmd.arg(dir.path().join("upstream.crt"))
        .arg(dir.path().join("upstream.key"));
    let (child, addr, _) = spawn_until_listening(cmd, "listening on ");
    let _upstream = ProxyProcess {
        child,
        base: String::new(),
    };
    let port = addr.rsplit(':').next().unwrap();
    let api_host = format!("https://localhost:{port}/base/");
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "header.payload.sig\n").unwrap();

    for (roots, ok) in [(&trusted, true), (&other, false)] {
        let mut cmd = idp_command(dir.path());
        cmd.env("DOMINO_API_HOST", &api_host)
            .env("DOMINO_TOKEN_FILE", &token_file)
            .env("SSL_CERT_FILE", roots)
            .env_remove("SSL_CERT_DIR")
            .env_remove("DOMINO_USER_API_KEY");
        let proxy = run_proxy(cmd);
        let resp = reqwest::get(format!("{}/v4/users/self?x=1", proxy.base))
            .await
            .unwrap();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if ok {
            assert_eq!(body["path"], "/base/v4/users/self?x=1", "{body}");
            assert_eq!(body["authorization"], "Bearer header.payload.sig");
        } else {
            assert_eq!(body["error"], "bad_gateway", "{body}");
            let message = body["message"].as_str().unwrap().to_lowercase();
            assert!(message.contains("certificate"), "{body}");
        }
    }
}
