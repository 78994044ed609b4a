//! The realm's signing keys: loaded from `keys_dir` (or generated there on
//! first start), held parsed in memory, and used to sign and verify RS256 JWTs.

pub mod file;
pub mod jwk;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};
use jsonwebtoken::{Algorithm, EncodingKey, Header, Validation};

use crate::domain::token::Claims;
pub use jwk::PublicKeyInfo;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("keys directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {path}: {why}")]
    BadKey { path: PathBuf, why: String },
    #[error(
        "no signing key in {0}: start `domino-idp serve` once to create one, or point keys_dir at the right directory"
    )]
    NoKeys(PathBuf),
    #[error("RSA key generation failed")]
    Generate,
    #[error("signing failed: {0}")]
    Sign(String),
}

/// Why a token did not verify. The text is safe to show.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("algorithm {0} is not accepted; this issuer signs RS256 only")]
    Algorithm(String),
    #[error("unknown kid {0:?}: no published key has it")]
    UnknownKid(String),
    #[error("the token has no kid and several keys are published")]
    NoKid,
    #[error("{0}")]
    Invalid(String),
}

/// One private key with its derived public forms.
pub struct SigningKey {
    pub public: PublicKeyInfo,
    encoding: EncodingKey,
    pub path: PathBuf,
    pub created: SystemTime,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.public.kid)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    fn from_pem(path: &Path, text: &str, created: SystemTime) -> Result<Self, KeyError> {
        let bad = |why: String| KeyError::BadKey {
            path: path.to_owned(),
            why,
        };
        let block = pem::parse(text).map_err(|e| bad(format!("not PEM: {e}")))?;
        let pair = match block.tag() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(block.contents()),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(block.contents()),
            other => {
                return Err(bad(format!(
                    "expected an RSA private key, found a {other:?} PEM block"
                )));
            }
        }
        .map_err(|e| bad(format!("not a usable RSA key: {e}")))?;
        if pair.public_modulus_len() < 256 {
            return Err(bad("RSA keys must have at least 2048 bits".into()));
        }
        let public = pair.public_key();
        let spki = public
            .as_der()
            .map_err(|_| bad("cannot encode the public key".into()))?;
        let info = PublicKeyInfo::new(
            public.modulus().big_endian_without_leading_zero(),
            public.exponent().big_endian_without_leading_zero(),
            spki.as_ref().to_vec(),
        );
        let encoding = EncodingKey::from_rsa_pem(text.as_bytes())
            .map_err(|e| bad(format!("jsonwebtoken rejected the key: {e}")))?;
        Ok(SigningKey {
            public: info,
            encoding,
            path: path.to_owned(),
            created,
        })
    }
}

/// Every key in `keys_dir`. The newest signs; all are published.
#[derive(Debug)]
pub struct KeyRing {
    /// Newest first.
    keys: Vec<SigningKey>,
}

impl KeyRing {
    /// Loads the keys in `dir`, generating an RSA-2048 key there if it has none.
    pub async fn load_or_create(dir: &Path) -> Result<KeyRing, KeyError> {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || match Self::load(&dir) {
            Err(KeyError::NoKeys(_)) => {
                let key = generate(&dir)?;
                tracing::info!(kid = %key.kid(), path = %key.path.display(), "generated a new RSA-2048 signing key");
                Ok(KeyRing { keys: vec![key] })
            }
            other => other,
        })
        .await
        .map_err(|_| KeyError::Generate)?
    }

    /// Loads the keys in `dir`; `NoKeys` when there are none.
    pub fn load(dir: &Path) -> Result<KeyRing, KeyError> {
        let io = |source| KeyError::Io {
            path: dir.to_owned(),
            source,
        };
        file::ensure_dir(dir).map_err(io)?;
        let mut keys = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("pem") || !path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|source| KeyError::Io {
                path: path.clone(),
                source,
            })?;
            let created = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let key = SigningKey::from_pem(&path, &text, created)?;
            if file::too_open(&path) {
                tracing::warn!(path = %path.display(), "private key file is readable by others; chmod 600 it");
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(KeyError::NoKeys(dir.to_owned()));
        }
        keys.sort_by(|a, b| {
            b.created
                .cmp(&a.created)
                .then_with(|| a.public.kid.cmp(&b.public.kid))
        });
        keys.dedup_by(|a, b| a.public.kid == b.public.kid);
        Ok(KeyRing { keys })
    }

    /// The key that signs new tokens.
    pub fn signer(&self) -> &SigningKey {
        &self.keys[0]
    }

    /// Every published key, signer first.
    pub fn keys(&self) -> &[SigningKey] {
        &self.keys
    }

    pub fn jwks(&self) -> serde_json::Value {
        jwk::jwks(self.keys.iter().map(|k| &k.public))
    }

    /// Signs `claims` as an RS256 JWT with the signer's `kid` in the header.
    pub fn sign(&self, claims: &Claims) -> Result<String, KeyError> {
        let signer = self.signer();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(signer.public.kid.clone());
        jsonwebtoken::encode(&header, claims, &signer.encoding)
            .map_err(|e| KeyError::Sign(e.to_string()))
    }

    /// Verifies a JWT the way a consumer of the JWKS would: RS256 only, key by
    /// `kid`, `exp`/`nbf` with leeway, and `iss`/`aud` when given.
    pub fn verify(
        &self,
        token: &str,
        issuer: Option<&str>,
        audience: Option<&str>,
        leeway: u64,
    ) -> Result<(String, Claims), VerifyError> {
        self.verify_with(token, issuer, audience, leeway, true)
    }

    /// Checks signature and issuer but not expiry: for hints such as the
    /// `id_token_hint` of a logout, which may name an expired ID token.
    pub fn verify_ignoring_expiry(
        &self,
        token: &str,
        issuer: &str,
    ) -> Result<(String, Claims), VerifyError> {
        self.verify_with(token, Some(issuer), None, 0, false)
    }

    fn verify_with(
        &self,
        token: &str,
        issuer: Option<&str>,
        audience: Option<&str>,
        leeway: u64,
        check_time: bool,
    ) -> Result<(String, Claims), VerifyError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| VerifyError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(VerifyError::Algorithm(format!("{:?}", header.alg)));
        }
        let key = match &header.kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| &k.public.kid == kid)
                .ok_or_else(|| VerifyError::UnknownKid(kid.clone()))?,
            None if self.keys.len() == 1 => &self.keys[0],
            None => return Err(VerifyError::NoKid),
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = leeway;
        validation.validate_nbf = check_time;
        validation.validate_exp = check_time;
        validation.set_required_spec_claims(&["exp", "iat"]);
        match issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        let decoding = key
            .public
            .decoding_key()
            .map_err(|e| VerifyError::Invalid(e.to_string()))?;
        let data = jsonwebtoken::decode::<Claims>(token, &decoding, &validation)
            .map_err(|e| VerifyError::Invalid(e.to_string()))?;
        Ok((key.public.kid.clone(), data.claims))
    }
}

/// Generates an RSA-2048 key and stores it as `<kid>.pem` (mode 0600).
fn generate(dir: &Path) -> Result<SigningKey, KeyError> {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
    let der = pair.as_der().map_err(|_| KeyError::Generate)?;
    let text = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()));
    let staged = SigningKey::from_pem(dir, &text, SystemTime::now())?;
    let path = dir.join(format!("{}.pem", staged.kid()));
    file::write_private(&path, text.as_bytes()).map_err(|source| KeyError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(SigningKey { path, ..staged })
}
