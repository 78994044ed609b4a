//! RS256 signatures with a private key parsed once. jsonwebtoken still
//! builds every JWT (header, claims, base64url); only the RSA operation is
//! ours. Its own aws-lc signer parses (and checks) the DER into an
//! `RsaKeyPair` for every signature, which costs more than the signature
//! itself: a token cost 2.7 times as much (benches/hot_paths.rs).
//!
//! jsonwebtoken picks the signer through a process-wide `CryptoProvider`
//! whose factory is a plain `fn` given only the `EncodingKey`, so the parsed
//! pair is found by the SHA-256 of the key's DER in a registry filled when a
//! `SigningKey` is built. The registry holds weak references (a key no ring
//! holds any more leaves nothing behind) and digests, never key bytes.
//! Anything not registered, and all verification, goes to jsonwebtoken's
//! aws-lc provider unchanged.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock, PoisonError, RwLock, Weak};

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, aws_lc};
use jsonwebtoken::signature::{Error as SignatureError, Signer};
use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey};

use super::KeyError;

type KeyId = [u8; 32];

/// The pairs of the keys alive in this process, by the digest of their DER.
static REGISTRY: LazyLock<RwLock<HashMap<KeyId, Weak<RsaKeyPair>>>> =
    LazyLock::new(Default::default);

/// jsonwebtoken's aws-lc provider with our signer factory in front.
static PROVIDER: LazyLock<CryptoProvider> = LazyLock::new(|| CryptoProvider {
    signer_factory: new_signer,
    ..aws_lc::DEFAULT_PROVIDER.clone()
});

static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Makes our provider jsonwebtoken's default, once per process. False when
/// another was installed first (or jsonwebtoken was used before this):
/// tokens are then still signed correctly, at jsonwebtoken's usual cost.
pub(super) fn install() -> bool {
    *INSTALLED.get_or_init(|| match PROVIDER.install_default() {
        Ok(()) => true,
        Err(other) if std::ptr::eq(other, &*PROVIDER) => true,
        Err(_) => {
            tracing::warn!(
                "another jsonwebtoken crypto provider is installed; every signature re-parses its key"
            );
            false
        }
    })
}

/// A private key as jsonwebtoken takes it, with the same key parsed for
/// aws-lc, registered so that signing with `encoding` uses `pair`.
pub(super) struct PreparedKey {
    encoding: EncodingKey,
    pair: Arc<RsaKeyPair>,
}

impl std::fmt::Debug for PreparedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreparedKey([redacted])")
    }
}

impl PreparedKey {
    /// `pair` and `encoding` must be the same key (both come from one PEM).
    pub(super) fn new(pair: RsaKeyPair, encoding: EncodingKey) -> PreparedKey {
        install();
        let id = key_id(&encoding);
        let mut registry = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
        registry.retain(|_, pair| pair.strong_count() > 0);
        // Re-reading keys_dir parses the same keys again: share one pair.
        let pair = match registry.get(&id).and_then(Weak::upgrade) {
            Some(known) => known,
            None => {
                let pair = Arc::new(pair);
                registry.insert(id, Arc::downgrade(&pair));
                pair
            }
        };
        PreparedKey { encoding, pair }
    }

    pub(super) fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }

    /// The bare RS256 signature (RSASSA-PKCS1-v1_5 with SHA-256) of `message`.
    pub(super) fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        rs256(&self.pair, message).map_err(|e| KeyError::Sign(e.to_string()))
    }
}

fn key_id(encoding: &EncodingKey) -> KeyId {
    let mut id = KeyId::default();
    id.copy_from_slice(digest::digest(&digest::SHA256, encoding.as_bytes()).as_ref());
    id
}

fn registered(encoding: &EncodingKey) -> Option<Arc<RsaKeyPair>> {
    let id = key_id(encoding);
    REGISTRY
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&id)
        .and_then(Weak::upgrade)
}

fn rs256(pair: &RsaKeyPair, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut signature,
    )
    .map_err(SignatureError::from_source)?;
    Ok(signature)
}

/// The provider's signer factory: a registered RSA key signs RS256 with its
/// parsed pair; everything else is jsonwebtoken's.
fn new_signer(
    algorithm: &Algorithm,
    key: &EncodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    if *algorithm == Algorithm::RS256
        && key.family() == AlgorithmFamily::Rsa
        && let Some(pair) = registered(key)
    {
        return Ok(Box::new(Rs256Signer(pair)));
    }
    (aws_lc::DEFAULT_PROVIDER.signer_factory)(algorithm, key)
}

struct Rs256Signer(Arc<RsaKeyPair>);

impl Signer<Vec<u8>> for Rs256Signer {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
        rs256(&self.0, message)
    }
}

impl JwtSigner for Rs256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer as _;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

    fn prepared() -> (PreparedKey, Vec<u8>) {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let spki = pair.public_key().as_der().unwrap().as_ref().to_vec();
        let der = pair.as_der().unwrap();
        let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()));
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
        let pair = RsaKeyPair::from_pkcs8(der.as_ref()).unwrap();
        (PreparedKey::new(pair, encoding), spki)
    }

    #[test]
    fn a_registered_key_signs_with_its_parsed_pair() {
        let (key, spki) = prepared();
        let pair = registered(key.encoding()).unwrap();
        assert!(Arc::ptr_eq(&pair, &key.pair));
        let signer = new_signer(&Algorithm::RS256, key.encoding()).unwrap();
        assert_eq!(signer.algorithm(), Algorithm::RS256);
        let signature = signer.try_sign(b"header.claims").unwrap();
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &spki)
            .verify(b"header.claims", &signature)
            .unwrap();
        // PKCS#1 v1.5 is deterministic: jsonwebtoken's own signer agrees.
        let theirs = (aws_lc::DEFAULT_PROVIDER.signer_factory)(&Algorithm::RS256, key.encoding())
            .unwrap()
            .try_sign(b"header.claims")
            .unwrap();
        assert_eq!(signature, theirs);
        assert_eq!(key.sign_rs256(b"header.claims").unwrap(), theirs);
    }

    #[test]
    fn the_same_key_read_twice_shares_one_pair_and_is_forgotten_when_dropped() {
        let (first, _) = prepared();
        let again = PreparedKey::new(
            RsaKeyPair::from_der(first.encoding().as_bytes())
                .or_else(|_| RsaKeyPair::from_pkcs8(first.encoding().as_bytes()))
                .unwrap(),
            first.encoding().clone(),
        );
        assert!(Arc::ptr_eq(&first.pair, &again.pair));
        let encoding = first.encoding().clone();
        drop(first);
        assert!(registered(&encoding).is_some());
        drop(again);
        assert!(registered(&encoding).is_none());
    }

    #[test]
    fn other_keys_and_algorithms_fall_back_to_jsonwebtoken() {
        let (key, _) = prepared();
        let rs384 = new_signer(&Algorithm::RS384, key.encoding()).unwrap();
        assert_eq!(rs384.algorithm(), Algorithm::RS384);
        let hmac = EncodingKey::from_secret(b"a shared secret of some length");
        let hs256 = new_signer(&Algorithm::HS256, &hmac).unwrap();
        assert_eq!(hs256.algorithm(), Algorithm::HS256);
        let (other, _) = prepared();
        let unregistered = EncodingKey::from_rsa_der(other.encoding().as_bytes());
        drop(other);
        assert!(registered(&unregistered).is_none());
        let fallback = new_signer(&Algorithm::RS256, &unregistered).unwrap();
        assert!(fallback.try_sign(b"m").is_ok());
    }
}
