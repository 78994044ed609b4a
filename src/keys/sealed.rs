//! Private keys at rest in the database: AES-256-GCM under the
//! `key_encryption_key` from the configuration, a fresh random nonce per
//! seal, and the kid as associated data, so a sealed key copied onto
//! another key's row does not open.
//!
//! Layout: `1 || nonce (12 bytes) || ciphertext || tag (16 bytes)`; the
//! leading version byte leaves room for another scheme later.

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const VERSION: u8 = 1;
const TAG_LEN: usize = 16;

pub struct Sealer {
    key: RandomizedNonceKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    /// The key from its configured form: 32 bytes in standard base64.
    pub fn from_base64(text: &str) -> Result<Sealer, String> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| {
            "not base64: give 32 random bytes in base64, e.g. `head -c32 /dev/urandom | base64`"
                .to_owned()
        })?;
        if bytes.len() != 32 {
            return Err(format!(
                "decodes to {} bytes; AES-256 needs exactly 32 (`head -c32 /dev/urandom | base64`)",
                bytes.len()
            ));
        }
        let key = RandomizedNonceKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| "not a usable AES-256 key".to_owned())?;
        Ok(Sealer { key })
    }

    /// Encrypts `plain` (a PKCS#8 DER private key) bound to `kid`.
    pub fn seal(&self, kid: &str, plain: &[u8]) -> Result<Vec<u8>, String> {
        let mut body = plain.to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(kid.as_bytes()), &mut body)
            .map_err(|_| "encryption failed".to_owned())?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + body.len());
        out.push(VERSION);
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decrypts what `seal` produced for the same `kid`.
    pub fn open(&self, kid: &str, sealed: &[u8]) -> Result<Vec<u8>, String> {
        let Some((&VERSION, rest)) = sealed.split_first() else {
            return Err("unknown encryption format".into());
        };
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err("sealed key is truncated".into());
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| "sealed key has a bad nonce".to_owned())?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut body)
            .map_err(|_| {
                "cannot decrypt it: key_encryption_key is not the key it was stored with, or the row was altered".to_owned()
            })?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> Sealer {
        Sealer::from_base64(&STANDARD.encode([byte; 32])).unwrap()
    }

    #[test]
    fn round_trip_with_fresh_nonces() {
        let s = sealer(7);
        let a = s.seal("kid-1", b"secret key bytes").unwrap();
        let b = s.seal("kid-1", b"secret key bytes").unwrap();
        assert_ne!(a, b, "a fresh nonce per seal");
        assert!(!a.windows(6).any(|w| w == b"secret"));
        assert_eq!(s.open("kid-1", &a).unwrap(), b"secret key bytes");
        assert_eq!(s.open("kid-1", &b).unwrap(), b"secret key bytes");
    }

    #[test]
    fn wrong_key_kid_or_bytes_do_not_open() {
        let sealed = sealer(7).seal("kid-1", b"secret").unwrap();
        assert!(sealer(8).open("kid-1", &sealed).is_err());
        assert!(sealer(7).open("kid-2", &sealed).is_err());
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(sealer(7).open("kid-1", &flipped).is_err());
        assert!(sealer(7).open("kid-1", &sealed[..10]).is_err());
        assert!(sealer(7).open("kid-1", &[]).is_err());
        assert!(sealer(7).open("kid-1", &[2; 40]).is_err());
    }

    #[test]
    fn configured_form_is_checked() {
        assert!(Sealer::from_base64("not base64!").is_err());
        assert!(Sealer::from_base64(&STANDARD.encode([1; 16])).is_err());
        assert!(Sealer::from_base64(&format!(" {}\n", STANDARD.encode([1; 32]))).is_ok());
    }
}
