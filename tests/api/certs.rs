//! Certificates the TLS tests make: a CA of their own and a `localhost`
//! certificate from it (Postgres over TLS, the proxy's `https://` upstream).

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

pub fn pem(tag: &str, der: &[u8]) -> String {
    ::pem::encode(&::pem::Pem::new(tag, der.to_vec()))
}

/// A CA named `name`: its certificate (PEM) and its issuer.
pub fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&key).unwrap();
    (pem("CERTIFICATE", cert.der()), Issuer::new(params, key))
}

/// A certificate for `localhost` only, from `issuer`, and its key, written
/// to `name`.crt and `name`.key in `dir`.
pub fn localhost(dir: &Path, name: &str, issuer: &Issuer<'_, KeyPair>) -> (PathBuf, PathBuf) {
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    let (crt, k) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    std::fs::write(&crt, pem("CERTIFICATE", cert.der())).unwrap();
    std::fs::write(&k, pem("PRIVATE KEY", &key.serialize_der())).unwrap();
    (crt, k)
}
