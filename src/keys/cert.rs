//! A self-signed X.509 certificate per signing key, for the JWK `x5c`: some
//! consumers (Keep's "public key or certificate") want a certificate, not n/e.
//!
//! The certificate only wraps the key; the JWKS decides whether it is trusted,
//! so it never expires on its own (RFC 5280 §4.1.2.5's 99991231235959Z). Every
//! field is derived from the key and its creation date, and RSA PKCS#1 v1.5
//! signatures are deterministic, so regenerating a lost `.crt` gives the same bytes.

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyUsagePurpose};
use time::OffsetDateTime;

/// DER of a self-signed certificate for the PKCS#8 RSA key `pkcs8_der`,
/// subject `CN=<name>, OU=<kid>`, valid from `created`.
pub fn self_signed(
    pkcs8_der: &[u8],
    name: &str,
    kid: &str,
    created: u64,
) -> Result<Vec<u8>, String> {
    let key = rcgen::KeyPair::try_from(pkcs8_der).map_err(|e| format!("rcgen: {e}"))?;
    if !key.is_compatible(&rcgen::PKCS_RSA_SHA256) {
        return Err("not an RSA key".into());
    }
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn.push(DnType::OrganizationalUnitName, kid);
    let mut params = CertificateParams::default();
    params.distinguished_name = dn;
    params.not_before = i64::try_from(created)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    params.not_after = rcgen::date_time_ymd(9999, 12, 31)
        .replace_time(time::Time::from_hms(23, 59, 59).unwrap_or(time::Time::MIDNIGHT));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = params
        .self_signed(&key)
        .map_err(|e| format!("rcgen: {e}"))?;
    Ok(cert.der().to_vec())
}

/// `x5t`: base64url SHA-1 of the DER (RFC 7517 §4.8; SHA-1 is what the field names).
pub fn x5t(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref())
}

/// `x5t#S256`: base64url SHA-256 of the DER (RFC 7517 §4.9).
pub fn x5t_s256(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, der).as_ref())
}

/// True when `cert_der` carries exactly the public key `spki_der`: the SPKI
/// is embedded verbatim in the TBSCertificate, so a byte search suffices to
/// reject a `.crt` that belongs to another key.
pub fn carries_key(cert_der: &[u8], spki_der: &[u8]) -> bool {
    !spki_der.is_empty() && cert_der.windows(spki_der.len()).any(|w| w == spki_der)
}

pub fn to_pem(der: &[u8]) -> String {
    pem::encode(&pem::Pem::new("CERTIFICATE", der.to_vec()))
}

/// The DER inside a `-----BEGIN CERTIFICATE-----` file.
pub fn from_pem(text: &str) -> Result<Vec<u8>, String> {
    let block = pem::parse(text).map_err(|e| format!("not PEM: {e}"))?;
    if block.tag() != "CERTIFICATE" {
        return Err(format!(
            "expected a CERTIFICATE PEM block, found {:?}",
            block.tag()
        ));
    }
    Ok(block.into_contents())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};

    #[test]
    fn the_certificate_is_deterministic_and_carries_the_key() {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let pkcs8 = pair.as_der().unwrap();
        let spki = pair.public_key().as_der().unwrap();
        let a = self_signed(pkcs8.as_ref(), "DominoRealm", "kid-1", 1_700_000_000).unwrap();
        let b = self_signed(pkcs8.as_ref(), "DominoRealm", "kid-1", 1_700_000_000).unwrap();
        assert_eq!(a, b);
        assert!(carries_key(&a, spki.as_ref()));
        let other = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        assert!(!carries_key(
            &a,
            other.public_key().as_der().unwrap().as_ref()
        ));
        assert_eq!(from_pem(&to_pem(&a)).unwrap(), a);
        assert_eq!(x5t(&a).len(), 27);
        assert_eq!(x5t_s256(&a).len(), 43);
    }
}
