//! Opaque credentials: authorization codes, session cookies, CSRF tokens,
//! generated client secrets (and refresh tokens issued before they became
//! JWTs). Each is 256 random bits, sent as base64url and stored only as its
//! SHA-256 digest, as refresh JWTs are too. A fast hash is the right
//! tool here: the inputs are high-entropy, so there is nothing to brute-force.

use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use aws_lc_rs::{constant_time, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A fresh random credential (43 base64url characters).
pub fn generate() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// `N` bytes from the operating system's CSPRNG, through AWS-LC.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // AWS-LC's RAND_bytes aborts rather than return without random bytes, so
    // this branch is not taken; if it were, no credential may be made.
    if SystemRandom::new().fill(&mut bytes).is_err() {
        std::process::abort();
    }
    bytes
}

/// The stored form of a credential: base64url(SHA-256(value)).
pub fn digest(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, value.as_bytes()))
}

/// The stored form of a salted secret: base64url(SHA-256(salt || value)).
pub fn salted_digest(salt: &str, value: &str) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(salt.as_bytes());
    ctx.update(&[0]);
    ctx.update(value.as_bytes());
    URL_SAFE_NO_PAD.encode(ctx.finish())
}

/// Compares two strings in time that depends only on their lengths.
pub fn equal(a: &str, b: &str) -> bool {
    constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// `at_hash` / `c_hash` of OIDC Core §3.1.3.6: the left half of the SHA-256 of
/// the token's ASCII, base64url-encoded (RS256 uses SHA-256).
pub fn left_half_hash(token: &str) -> String {
    let full = digest::digest(&digest::SHA256, token.as_bytes());
    URL_SAFE_NO_PAD.encode(&full.as_ref()[..16])
}

/// PKCE S256 (RFC 7636 §4.6): base64url(SHA-256(ASCII(code_verifier))).
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_values_are_distinct_and_url_safe() {
        let a = generate();
        assert_eq!(a.len(), 43);
        assert_ne!(a, generate());
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(salted_digest("s1", &a), salted_digest("s2", &a));
    }

    #[test]
    fn rfc7636_appendix_b() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn equal_compares_contents() {
        assert!(equal("abc", "abc"));
        assert!(!equal("abc", "abd"));
        assert!(!equal("abc", "ab"));
    }
}
