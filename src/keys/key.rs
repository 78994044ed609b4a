//! One signing key as it lies in `keys_dir`: `<stem>.pem` (the private key),
//! `<stem>.json` (its dates) and `<stem>.crt` (its self-signed certificate).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};
use jsonwebtoken::EncodingKey;

use super::lifecycle::KeyDates;
use super::signer::PreparedKey;
use super::{KeyError, PublicKeyInfo, cert, file};

/// One private key with its derived public forms and its dates.
pub struct SigningKey {
    pub public: PublicKeyInfo,
    pub(super) encoding: PreparedKey,
    pub path: PathBuf,
    pub dates: KeyDates,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.public.kid)
            .field("path", &self.path)
            .field("dates", &self.dates)
            .finish_non_exhaustive()
    }
}

/// What `read` found missing beside the PEM (so a writer can fill it in).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Missing {
    pub dates: bool,
    pub cert: bool,
}

impl SigningKey {
    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    /// The bare RS256 signature (RSASSA-PKCS1-v1_5, SHA-256) of `message`,
    /// no JWT around it: what one signature costs (`domino-idp bench sign`).
    pub fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.encoding.sign_rs256(message)
    }

    /// `<stem>.<ext>` beside the PEM.
    pub fn companion(&self, ext: &str) -> PathBuf {
        self.path.with_extension(ext)
    }

    /// The PEM and its companions, for moving them together.
    pub fn files(&self) -> Vec<PathBuf> {
        vec![
            self.path.clone(),
            self.companion("json"),
            self.companion("crt"),
        ]
    }

    /// Reads `path` and its companions. A missing dates file means a key from
    /// before rotation existed: active since its file time. A missing or
    /// foreign certificate is made afresh (deterministically) when `cert_name`
    /// is given; archived keys, which are never published, skip it.
    pub(super) fn read(
        path: &Path,
        cert_name: Option<&str>,
    ) -> Result<(SigningKey, Missing), KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(io)?;
        let parsed = Parsed::from_pem(path, &text)?;
        let kid = parsed.public.kid.clone();
        let mut missing = Missing::default();

        let dates_path = path.with_extension("json");
        let dates = match std::fs::read(&dates_path) {
            Ok(bytes) => {
                let dates: KeyDates = serde_json::from_slice(&bytes).map_err(|e| KeyError::BadKey {
                    path: dates_path.clone(),
                    why: format!("unreadable key dates ({e}); fix the file or delete it to treat the key as active since its file time"),
                })?;
                if dates.kid != kid {
                    return Err(KeyError::BadKey {
                        path: dates_path,
                        why: format!(
                            "belongs to kid {} but the key beside it is {kid}; delete the file",
                            dates.kid
                        ),
                    });
                }
                dates
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                missing.dates = true;
                let since = std::fs::metadata(path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs());
                KeyDates::active_since(&kid, since)
            }
            Err(e) => {
                return Err(KeyError::Io {
                    path: dates_path,
                    source: e,
                });
            }
        };

        let mut public = parsed.public;
        if let Some(name) = cert_name {
            let cert_path = path.with_extension("crt");
            let stored = match std::fs::read_to_string(&cert_path) {
                Ok(text) => match cert::from_pem(&text) {
                    Ok(der) if cert::carries_key(&der, &public.spki_der) => Some(der),
                    Ok(_) | Err(_) => {
                        tracing::warn!(path = %cert_path.display(), "certificate does not match its key; using a fresh one");
                        None
                    }
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    return Err(KeyError::Io {
                        path: cert_path,
                        source: e,
                    });
                }
            };
            let der = match stored {
                Some(der) => der,
                None => {
                    missing.cert = true;
                    cert::self_signed(&parsed.pkcs8, name, &kid, dates.created).map_err(|why| {
                        KeyError::BadKey {
                            path: path.to_owned(),
                            why: format!("cannot make its certificate: {why}"),
                        }
                    })?
                }
            };
            public.cert_der = Some(der);
        }

        if file::too_open(path) {
            tracing::warn!(path = %path.display(), "private key file is readable by others; chmod 600 it");
        }
        Ok((
            SigningKey {
                public,
                encoding: parsed.encoding,
                path: path.to_owned(),
                dates,
            },
            missing,
        ))
    }

    /// Writes the dates file.
    pub(super) fn store_dates(&self, dates: &KeyDates) -> Result<(), KeyError> {
        let path = self.companion("json");
        let text = serde_json::to_vec_pretty(dates).map_err(|e| KeyError::BadKey {
            path: path.clone(),
            why: e.to_string(),
        })?;
        file::write_public(&path, &text).map_err(|source| KeyError::Io { path, source })
    }

    /// Fills in what `read` found missing, never replacing what another
    /// process wrote meanwhile.
    pub(super) fn fill_in(&self, missing: Missing) -> Result<(), KeyError> {
        if missing.dates {
            let path = self.companion("json");
            let text = serde_json::to_vec_pretty(&self.dates).map_err(|e| KeyError::BadKey {
                path: path.clone(),
                why: e.to_string(),
            })?;
            file::create_public(&path, &text).map_err(|source| KeyError::Io { path, source })?;
        }
        if missing.cert
            && let Some(der) = &self.public.cert_der
        {
            // Deterministic, so a concurrent writer writes the same bytes.
            let path = self.companion("crt");
            file::write_public(&path, cert::to_pem(der).as_bytes())
                .map_err(|source| KeyError::Io { path, source })?;
        }
        Ok(())
    }
}

/// A PEM private key, parsed and checked.
pub(super) struct Parsed {
    pub public: PublicKeyInfo,
    /// Registered with the signer: parsed once, not per signature.
    pub encoding: PreparedKey,
    /// PKCS#8 DER, for making the certificate.
    pub pkcs8: Vec<u8>,
}

impl Parsed {
    pub fn from_pem(path: &Path, text: &str) -> Result<Parsed, KeyError> {
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
        let pkcs8 = pair
            .as_der()
            .map_err(|_| bad("cannot encode the key as PKCS#8".into()))?
            .as_ref()
            .to_vec();
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
        Ok(Parsed {
            public: info,
            encoding: PreparedKey::new(pair, encoding),
            pkcs8,
        })
    }
}
