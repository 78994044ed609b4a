//! An `https://` upstream (a Python server with a certificate from a CA the
//! test makes, `tls_upstream.py`) through the proxy.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{ProxyProcess, run_proxy};
use crate::certs::{ca, localhost};
use crate::helpers::idp_command;
use crate::process::spawn_until_listening;

/// A CA named `name`, its certificate written to `name`-ca.pem in `dir`.
fn ca_file(dir: &Path, name: &str) -> (PathBuf, rcgen::Issuer<'static, rcgen::KeyPair>) {
    let (pem, issuer) = ca(name);
    let file = dir.join(format!("{name}-ca.pem"));
    std::fs::write(&file, pem).unwrap();
    (file, issuer)
}

/// An `https://` upstream is reached over TLS, its certificate checked
/// against the system's roots (here `SSL_CERT_FILE`, which the platform
/// verifier reads on Linux): trusted, the request goes through with the
/// token; from a CA the system does not trust, it is a 502 that says why.
#[tokio::test]
async fn an_https_upstream_is_checked_against_the_system_roots() {
    let dir = tempfile::tempdir().unwrap();
    let (trusted, issuer) = ca_file(dir.path(), "upstream");
    let (other, _) = ca_file(dir.path(), "other");
    let (crt, key) = localhost(dir.path(), "upstream", &issuer);
    let mut cmd = crate::python::python_script("domino_proxy/tls_upstream.py");
    cmd.arg(crt).arg(key);
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
