//! The keys in `keys_dir` at one moment, each with its state: the signer,
//! the published set, and RS256 signing and verification with them.

use std::path::Path;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, Header, Validation};

use super::key::{Missing, SigningKey};
use super::lifecycle::{self, KeyDates, KeyState, Status};
use super::verified::{Check, Verified, digest_of};
use super::{KeyError, KeySettings, VerifyError, file, jwk};
use crate::domain::token::Claims;

/// One key and where it stands.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    pub key: Arc<SigningKey>,
    pub status: Status,
}

/// An immutable snapshot of the key set. A running server swaps in a new
/// one when the directory or the clock changes a state (see `live`).
#[derive(Debug)]
pub struct KeyRing {
    /// Every key in `keys_dir`: the signer, then the next keys in activation
    /// order, then retiring and retired keys, newest first.
    entries: Vec<KeyEntry>,
    /// The published keys (not retired), signer first, in `entries` order.
    published: Vec<Arc<SigningKey>>,
    as_of: u64,
    /// The tokens `verify` accepted, for their next use (`verified`).
    verified: Verified,
}

impl KeyRing {
    /// Reads `keys_dir` without writing anything (for the CLI); `NoKeys`
    /// when it holds none.
    pub fn load_with(settings: &KeySettings) -> Result<KeyRing, KeyError> {
        Self::load_at(settings, super::now())
    }

    /// `load_with` the states computed at `now`.
    pub fn load_at(settings: &KeySettings, now: u64) -> Result<KeyRing, KeyError> {
        let keys = read_dir(&settings.dir, Some(&settings.cert_name))?;
        let keys: Vec<SigningKey> = keys.into_iter().map(|(k, _)| k).collect();
        Self::from_keys(keys, now, settings.retirement_delay)
            .ok_or_else(|| KeyError::NoKeys(settings.dir.clone()))
    }

    /// Like `load`, and writes the dates and certificates that are missing
    /// beside the PEMs, so that every process sees the same ones from now on.
    pub(super) fn load_and_fill_in(settings: &KeySettings, now: u64) -> Result<KeyRing, KeyError> {
        let keys = read_dir(&settings.dir, Some(&settings.cert_name))?;
        let mut ready = Vec::with_capacity(keys.len());
        for (key, missing) in keys {
            if missing.dates || missing.cert {
                if missing.dates {
                    tracing::info!(kid = %key.kid(), path = %key.path.display(), "recording the dates of a key from before rotation: active since its file time");
                }
                // A read-only keys_dir still serves: the values are derived.
                if let Err(e) = key.fill_in(missing) {
                    tracing::warn!(kid = %key.kid(), error = %e, "could not write the key's dates or certificate beside it");
                }
            }
            ready.push(key);
        }
        Self::from_keys(ready, now, settings.retirement_delay)
            .ok_or_else(|| KeyError::NoKeys(settings.dir.clone()))
    }

    /// The ring of `keys` at `now`; `None` when there are none.
    pub(super) fn from_keys(
        keys: Vec<SigningKey>,
        now: u64,
        retirement_delay: u64,
    ) -> Option<KeyRing> {
        let dates: Vec<&KeyDates> = keys.iter().map(|k| &k.dates).collect();
        let statuses = lifecycle::schedule(&dates, now, retirement_delay);
        let mut position = vec![0i64; dates.len()];
        for (pos, &i) in lifecycle::activation_order(&dates).iter().enumerate() {
            position[i] = pos as i64;
        }
        let mut positioned: Vec<(i64, KeyEntry)> = keys
            .into_iter()
            .zip(statuses)
            .enumerate()
            .map(|(i, (key, status))| {
                let key = Arc::new(key);
                (position[i], KeyEntry { key, status })
            })
            .collect();
        // The signer, then next keys soonest first, then superseded keys
        // newest first (so retiring before retired).
        positioned.sort_by_key(|(pos, e)| match e.status.state {
            KeyState::Active => (0, 0),
            KeyState::Next => (1, *pos),
            KeyState::Retiring | KeyState::Retired => (2, -*pos),
        });
        let entries: Vec<KeyEntry> = positioned.into_iter().map(|(_, e)| e).collect();
        if entries.is_empty() {
            return None;
        }
        let published = entries
            .iter()
            .filter(|e| e.status.state.is_published())
            .map(|e| e.key.clone())
            .collect();
        Some(KeyRing {
            entries,
            published,
            as_of: now,
            verified: Verified::default(),
        })
    }

    /// The key that signs new tokens.
    pub fn signer(&self) -> &SigningKey {
        &self.published[0]
    }

    pub(super) fn signer_arc(&self) -> &Arc<SigningKey> {
        &self.published[0]
    }

    /// Every published key (next, active, retiring), signer first.
    pub fn keys(&self) -> &[Arc<SigningKey>] {
        &self.published
    }

    /// Every key in the directory with its state, retired ones included.
    pub fn entries(&self) -> &[KeyEntry] {
        &self.entries
    }

    /// Retiring `kid` at `now`: its entry and its dates with `retire_after`
    /// now (or earlier, if it was due sooner). The active key cannot be
    /// retired: rotate first.
    pub(super) fn retirement(
        &self,
        kid: &str,
        now: u64,
    ) -> Result<(&KeyEntry, KeyDates), KeyError> {
        let entry = self
            .entries()
            .iter()
            .find(|e| e.key.kid() == kid)
            .ok_or_else(|| KeyError::UnknownKey(kid.to_owned()))?;
        if entry.status.state == KeyState::Active {
            return Err(KeyError::RetireActive(kid.to_owned()));
        }
        let dates = KeyDates {
            retire_after: Some(entry.status.retires_at.map_or(now, |t| t.min(now))),
            ..entry.key.dates.clone()
        };
        Ok((entry, dates))
    }

    /// The moment the states were computed for.
    pub fn as_of(&self) -> u64 {
        self.as_of
    }

    /// The state of the key `kid`, if it is in the directory.
    pub fn state_of(&self, kid: &str) -> Option<KeyState> {
        self.entries
            .iter()
            .find(|e| e.key.kid() == kid)
            .map(|e| e.status.state)
    }

    /// The next moment a state changes (an activation or a retirement).
    pub fn next_change(&self) -> Option<u64> {
        let dates: Vec<&KeyDates> = self.entries.iter().map(|e| &e.key.dates).collect();
        let statuses: Vec<Status> = self.entries.iter().map(|e| e.status).collect();
        lifecycle::next_change(&dates, &statuses, self.as_of)
    }

    /// True when both rings publish and sign the same way: same keys, same
    /// states and dates, same certificates.
    pub fn same_as(&self, other: &KeyRing) -> bool {
        self.entries.len() == other.entries.len()
            && self.entries.iter().zip(&other.entries).all(|(a, b)| {
                a.status == b.status && a.key.public == b.key.public && a.key.dates == b.key.dates
            })
    }

    pub fn jwks(&self) -> serde_json::Value {
        jwk::jwks(self.published.iter().map(|k| &k.public))
    }

    /// Signs `claims` as an RS256 JWT with the signer's `kid` in the header.
    pub fn sign(&self, claims: &Claims) -> Result<String, KeyError> {
        let signer = self.signer();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(signer.public.kid.clone());
        jsonwebtoken::encode(&header, claims, signer.encoding.encoding())
            .map_err(|e| KeyError::Sign(e.to_string()))
    }

    /// Verifies a JWT the way a consumer of the JWKS would: RS256 only, key by
    /// `kid` among the published keys, `exp`/`nbf` with leeway, and
    /// `iss`/`aud` when given. A token this ring accepted before for the
    /// same check is not verified again while it is in time (`verified`).
    pub fn verify(
        &self,
        token: &str,
        issuer: Option<&str>,
        audience: Option<&str>,
        leeway: u64,
    ) -> Result<(String, Claims), VerifyError> {
        let check = Check {
            issuer,
            audience,
            leeway,
        };
        let digest = digest_of(token);
        // The system's clock, in whole seconds, as jsonwebtoken's own check reads it.
        let now = super::now();
        // The claims are read from the token itself: its exact bytes passed
        // the full check (the digest says so), so nothing is trusted that
        // was not verified.
        if let Some(kid) = self.verified.get(&digest, &check, now)
            && let Ok(claims) = jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(token)
        {
            return Ok((kid, claims));
        }
        let (kid, claims) = self.verify_with(token, issuer, audience, leeway, true)?;
        self.verified.put(digest, &check, &kid, &claims, now);
        Ok((kid, claims))
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

    /// The signature alone (any issuer, any time): for the operator revoking
    /// a token, which the keys prove is this issuer's whatever URL it was
    /// minted under.
    pub fn verify_signature(&self, token: &str) -> Result<(String, Claims), VerifyError> {
        self.verify_with(token, None, None, 0, false)
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
                .published
                .iter()
                .find(|k| &k.public.kid == kid)
                .ok_or_else(|| VerifyError::UnknownKid(kid.clone()))?,
            None if self.published.len() == 1 => &self.published[0],
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

/// The keys in `dir` (`*.pem`, one per kid), with what is missing beside
/// each. Certificates are read or made when `cert_name` is given.
pub(super) fn read_dir(
    dir: &Path,
    cert_name: Option<&str>,
) -> Result<Vec<(SigningKey, Missing)>, KeyError> {
    let io = |source| KeyError::Io {
        path: dir.to_owned(),
        source,
    };
    if cert_name.is_some() {
        file::ensure_dir(dir).map_err(io)?;
    } else if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().and_then(|e| e.to_str()) == Some("pem") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let mut keys: Vec<(SigningKey, Missing)> = Vec::with_capacity(paths.len());
    for path in paths {
        let read = match SigningKey::read(&path, cert_name) {
            // Moved away (retired) by another process since the listing.
            Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                continue;
            }
            other => other?,
        };
        if let Some((kept, _)) = keys.iter().find(|(k, _)| k.kid() == read.0.kid()) {
            tracing::warn!(kid = %kept.kid(), kept = %kept.path.display(), ignored = %path.display(), "the same key is in two files; using the first");
            continue;
        }
        keys.push(read);
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::keys::rotate;

    /// A ring remembers the tokens it accepted (`verified`), and a new
    /// ring does not: once a leaked key is retired, the next ring refuses
    /// its tokens, however often the last ring accepted them.
    #[test]
    fn a_new_ring_forgets_what_the_last_one_verified() {
        let dir = tempfile::tempdir().unwrap();
        let settings = KeySettings {
            dir: dir.path().join("keys"),
            cert_name: "DominoRealm".into(),
            retirement_delay: 3600,
            rotation_lead: 0,
            rotation_period: 0,
            reload_interval: 5,
        };
        let old = rotate::refresh(&settings).unwrap();
        let now = super::super::now();
        let claims = json!({"iss": "https://idp", "iat": now, "exp": now + 300})
            .as_object()
            .cloned()
            .unwrap();
        let token = old.sign(&claims).unwrap();
        let check = |ring: &KeyRing| ring.verify(&token, Some("https://idp"), None, 5);
        let (kid, got) = check(&old).unwrap();
        assert_eq!(got, claims);
        assert_eq!(check(&old).unwrap().1, claims, "again, from memory");
        assert_eq!(old.verified.len(), 1);
        assert!(old.verify(&token, Some("https://other"), None, 5).is_err());
        let tampered = format!("{}x", &token[..token.len() - 1]);
        assert!(check(&old).is_ok());
        assert!(old.verify(&tampered, Some("https://idp"), None, 5).is_err());

        // Rotate, and retire the old key once its successor signs (as of
        // that second rather than by waiting for it).
        let at = rotate::rotate(&settings, 0, true).unwrap().activates_at;
        let ring = KeyRing::load_at(&settings, at).unwrap();
        let (entry, dates) = ring.retirement(&kid, at).unwrap();
        entry.key.store_dates(&dates).unwrap();
        let new = KeyRing::load_at(&settings, at).unwrap();
        assert!(matches!(check(&new), Err(VerifyError::UnknownKid(k)) if k == kid));
        assert!(check(&old).is_ok(), "the old ring, until it is replaced");
    }
}
