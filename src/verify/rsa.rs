//! One RSA public key and what it may verify: read from DER (a
//! SubjectPublicKeyInfo or an X.509 certificate) or n/e, its size checked,
//! its RFC 7638 thumbprint taken. Parsing goes through jsonwebtoken and
//! `x509-cert`; nothing here decodes DER by hand.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey};
use x509_cert::Certificate;
use x509_cert::der::Decode as _;
use x509_cert::spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};

/// What an RSA key verifies: RSASSA-PKCS1-v1_5. HMAC is never accepted from a
/// public-key source; PSS, EC and EdDSA are out of scope (Keep speaks RS256).
pub const RSA_ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512];

/// `rsaEncryption`, the SPKI algorithm of an RSA public key (RFC 8017).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// aws-lc-rs refuses smaller RSA keys; say so instead of "bad signature".
const MIN_RSA_BITS: usize = 2048;

/// One public key and what it may verify.
#[derive(Debug, Clone)]
pub struct VerifyingKey {
    /// The JWK `kid`; `None` for a bare PEM key or a realm's `public_key`.
    pub kid: Option<String>,
    /// RFC 7638 SHA-256 thumbprint (this issuer's kids are exactly that).
    pub thumbprint: String,
    pub algorithms: Vec<Algorithm>,
    /// Where the key came from: `JWKS key #1`, `realm public_key`, a file.
    pub origin: String,
    pub(super) key: DecodingKey,
}

impl VerifyingKey {
    /// How a report names the key.
    pub fn label(&self) -> String {
        match &self.kid {
            Some(kid) => format!("kid {kid}"),
            None => format!("{} (thumbprint {})", self.origin, self.thumbprint),
        }
    }

    /// Wraps an RSA key given as DER or n/e; jsonwebtoken (aws-lc-rs) parses
    /// it here so a broken key is reported at load time, not as a bad signature.
    pub(super) fn rsa(
        key: DecodingKey,
        kid: Option<String>,
        origin: String,
        algorithms: Vec<Algorithm>,
    ) -> Result<Self, String> {
        let jwk = Jwk::from_decoding_key(&key, None)
            .map_err(|e| format!("not a usable RSA public key ({e})"))?;
        let AlgorithmParameters::RSA(params) = &jwk.algorithm else {
            return Err("not an RSA public key".into());
        };
        check_modulus(&params.n)?;
        let thumbprint = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|e| format!("cannot compute the key's thumbprint ({e})"))?;
        Ok(VerifyingKey {
            kid,
            thumbprint,
            algorithms,
            origin,
            key,
        })
    }
}

/// A base64url big-endian integer's octets, leading zero octets dropped.
fn magnitude(b64url: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let bytes = URL_SAFE_NO_PAD.decode(b64url.trim_end_matches('='))?;
    Ok(bytes.into_iter().skip_while(|b| *b == 0).collect())
}

/// Compares two base64url big-endian integers, ignoring leading zero octets.
pub(super) fn same_integer(a: &str, b: &str) -> bool {
    matches!((magnitude(a), magnitude(b)), (Ok(x), Ok(y)) if x == y)
}

/// The RSA key of a DER certificate, named by its subject.
pub(super) fn certificate_key(der: &[u8]) -> Result<(DecodingKey, String), String> {
    let cert = Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate ({e})"))?;
    let tbs = &cert.tbs_certificate;
    let spki = &tbs.subject_public_key_info;
    let key = rsa_key(spki.algorithm.oid, spki.subject_public_key.as_bytes())?;
    Ok((key, format!("certificate {}", tbs.subject)))
}

/// The RSA key of a DER SubjectPublicKeyInfo.
pub(super) fn spki_key(der: &[u8]) -> Result<DecodingKey, String> {
    let spki = SubjectPublicKeyInfoRef::try_from(der)
        .map_err(|e| format!("not a DER SubjectPublicKeyInfo ({e})"))?;
    rsa_key(spki.algorithm.oid, spki.subject_public_key.as_bytes())
}

fn rsa_key(oid: ObjectIdentifier, pkcs1: Option<&[u8]>) -> Result<DecodingKey, String> {
    if oid != RSA_ENCRYPTION {
        return Err(format!("the key is not RSA (algorithm {oid})"));
    }
    let pkcs1 = pkcs1.ok_or("the public key is not a whole number of octets")?;
    Ok(DecodingKey::from_rsa_der(pkcs1))
}

fn check_modulus(n: &str) -> Result<(), String> {
    let significant = magnitude(n).map_err(|e| format!("the modulus is not base64url ({e})"))?;
    let bits = match significant.first() {
        Some(first) => significant.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    };
    if bits < MIN_RSA_BITS {
        return Err(format!(
            "the RSA key has {bits} bits; at least {MIN_RSA_BITS} are required"
        ));
    }
    Ok(())
}
