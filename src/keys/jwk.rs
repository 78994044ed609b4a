//! The public half of a signing key in the forms consumers ask for: JWK
//! (RFC 7517) with an RFC 7638 thumbprint as `kid` and, when the key has a
//! certificate, `x5c`/`x5t`/`x5t#S256`; SPKI DER; and PEM.

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::DecodingKey;
use serde_json::{Value, json};

use super::cert;

/// The public key of one signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyInfo {
    pub kid: String,
    /// Modulus, base64url without padding.
    pub n: String,
    /// Public exponent, base64url without padding.
    pub e: String,
    /// DER SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
    /// DER of the key's self-signed certificate, published as `x5c`.
    pub cert_der: Option<Vec<u8>>,
}

impl PublicKeyInfo {
    pub fn new(modulus: &[u8], exponent: &[u8], spki_der: Vec<u8>) -> Self {
        let n = URL_SAFE_NO_PAD.encode(modulus);
        let e = URL_SAFE_NO_PAD.encode(exponent);
        let kid = thumbprint(&n, &e);
        PublicKeyInfo {
            kid,
            n,
            e,
            spki_der,
            cert_der: None,
        }
    }

    /// The JWK as published in the JWKS.
    pub fn jwk(&self) -> Value {
        let mut jwk = json!({
            "kid": self.kid,
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "n": self.n,
            "e": self.e,
        });
        if let (Some(der), Some(map)) = (&self.cert_der, jwk.as_object_mut()) {
            // RFC 7517 §4.7: standard base64 (not base64url) DER.
            map.insert("x5c".into(), json!([STANDARD.encode(der)]));
            map.insert("x5t".into(), json!(cert::x5t(der)));
            map.insert("x5t#S256".into(), json!(cert::x5t_s256(der)));
        }
        jwk
    }

    /// Base64 DER SPKI: the realm document's `public_key`.
    pub fn spki_base64(&self) -> String {
        STANDARD.encode(&self.spki_der)
    }

    /// `-----BEGIN PUBLIC KEY-----`, the form Keep's `keyFile` takes.
    pub fn pem(&self) -> String {
        pem::encode(&pem::Pem::new("PUBLIC KEY", self.spki_der.clone()))
    }

    pub fn decoding_key(&self) -> Result<DecodingKey, jsonwebtoken::errors::Error> {
        DecodingKey::from_rsa_components(&self.n, &self.e)
    }
}

/// RFC 7638 §3: SHA-256 over the required members in lexicographic order.
pub fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
}

/// `{"keys": [...]}` for the given keys.
pub fn jwks<'a>(keys: impl IntoIterator<Item = &'a PublicKeyInfo>) -> Value {
    json!({ "keys": keys.into_iter().map(PublicKeyInfo::jwk).collect::<Vec<_>>() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example() {
        // RFC 7638 §3.1.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
