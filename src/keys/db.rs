//! Keys kept in the database (`key_store = "database"`), shared by every
//! instance on it: the same life cycle as `keys_dir` (see `lifecycle`), with
//! the private key sealed under `key_encryption_key` (see `sealed`).
//!
//! Coordination without locks: each key has a `generation`, unique in the
//! table. A process that adds a key (the first one, a rotation) numbers it
//! one past the highest it read and writes it together with the new dates
//! of the older keys in one transaction; if another process added a key
//! meanwhile, the number is taken, nothing is written, and this process
//! reads again. Archiving and retiring change one row each.

use std::path::PathBuf;
use std::sync::Arc;

use super::key::{Parsed, SigningKey};
use super::lifecycle::{self, KeyDates, KeyState};
use super::rotate::{
    Rotation, activation, auto_rotation_due, fresh_key, log_auto_rotation, refuse_if_pending,
};
use super::sealed::Sealer;
use super::{KeyError, KeyRing, KeySettings, cert};
use crate::store::{Store, StoredKey, StoredKeyDates};

#[derive(Clone)]
pub struct DbKeys {
    store: Arc<dyn Store>,
    sealer: Arc<Sealer>,
    settings: KeySettings,
}

/// What the table holds, parsed.
struct Stored {
    live: Vec<SigningKey>,
    archived: Vec<SigningKey>,
    /// The highest generation in the table (0 when empty).
    generation: i64,
}

impl DbKeys {
    pub fn new(store: Arc<dyn Store>, sealer: Sealer, settings: KeySettings) -> Self {
        DbKeys {
            store,
            sealer: Arc::new(sealer),
            settings,
        }
    }

    pub fn settings(&self) -> &KeySettings {
        &self.settings
    }

    /// The keys at `now`, without writing anything (for the CLI).
    pub async fn load_at(&self, now: u64) -> Result<KeyRing, KeyError> {
        let stored = self.read().await?;
        KeyRing::from_keys(stored.live, now, self.settings.retirement_delay)
            .ok_or(KeyError::NoStoredKeys)
    }

    /// The archived (retired) keys, for listing.
    pub async fn archived(&self) -> Result<Vec<SigningKey>, KeyError> {
        Ok(self.read().await?.archived)
    }

    /// What a server does at start and on every reload: creates the first
    /// key if there is none, rotates when the period says so, and archives
    /// retired keys.
    pub async fn refresh(&self) -> Result<KeyRing, KeyError> {
        let mut stored = self.read().await?;
        if stored.live.is_empty() {
            let now = super::now();
            if self.add(&stored, now, now).await?.is_some() {
                tracing::info!(
                    "generated a new RSA-2048 signing key, stored encrypted in the database"
                );
            }
            stored = self.read().await?;
        }
        let delay = self.settings.retirement_delay;
        let mut ring =
            KeyRing::from_keys(stored.live, super::now(), delay).ok_or(KeyError::NoStoredKeys)?;
        if auto_rotation_due(&self.settings, &ring) {
            let rotated = self.rotate(self.settings.rotation_lead, false).await;
            log_auto_rotation(rotated, ring.signer().kid());
            ring = self.load_at(super::now()).await?;
        }
        for entry in ring.entries() {
            if entry.status.state == KeyState::Retired {
                let kid = entry.key.kid();
                match self.archive(&entry.key.dates, super::now()).await {
                    Ok(()) => tracing::info!(%kid, "retired key archived: no longer published"),
                    Err(e) => {
                        tracing::warn!(%kid, error = %e, "could not archive a retired key")
                    }
                }
            }
        }
        Ok(ring)
    }

    /// Adds a new key, published at once and signing from `now + lead`;
    /// refuses while another key is still waiting to sign, unless `force`.
    pub async fn rotate(&self, lead: u64, force: bool) -> Result<Rotation, KeyError> {
        // A concurrent rotation makes `add` find its generation taken; the
        // re-read then sees that key (and, without `force`, refuses).
        for _ in 0..5 {
            let stored = self.read().await?;
            let now = super::now();
            if !force {
                refuse_if_pending(&stored.live, now, self.settings.retirement_delay)?;
            }
            let activates_at = activation(&stored.live, now, lead);
            if let Some(rotation) = self.add(&stored, now, activates_at).await? {
                return Ok(rotation);
            }
        }
        Err(KeyError::Store(
            "other processes kept adding keys at the same time; try again".into(),
        ))
    }

    /// Takes `kid` out of the JWKS now (for a key that leaked, or to cancel
    /// a pending rotation). The active key cannot be retired: rotate first.
    pub async fn retire(&self, kid: &str) -> Result<(), KeyError> {
        let ring = self.load_at(super::now()).await?;
        let now = super::now();
        let (_, dates) = ring.retirement(kid, now)?;
        self.archive(&dates, now).await
    }

    async fn archive(&self, dates: &KeyDates, now: u64) -> Result<(), KeyError> {
        let found = self
            .store
            .update_signing_key(&dates.kid, &to_stored(dates), Some(to_i64(now)))
            .await
            .map_err(|e| KeyError::Store(e.to_string()))?;
        if found {
            Ok(())
        } else {
            Err(KeyError::UnknownKey(dates.kid.clone()))
        }
    }

    /// Generates a key signing from `activates_at` and stores it with the
    /// older keys' new pins, as generation `stored.generation + 1`. `None`
    /// when another process took that generation first.
    async fn add(
        &self,
        stored: &Stored,
        now: u64,
        activates_at: u64,
    ) -> Result<Option<Rotation>, KeyError> {
        let name = self.settings.cert_name.clone();
        let fresh = tokio::task::spawn_blocking(move || {
            fresh_key(&name, |_| PathBuf::from("database"), now, activates_at)
        })
        .await
        .map_err(|e| KeyError::Store(format!("key generation task failed: {e}")))??;
        let kid = fresh.key.kid().to_owned();
        let sealed = self
            .sealer
            .seal(&kid, &fresh.pkcs8)
            .map_err(|why| KeyError::Sealed {
                kid: kid.clone(),
                why,
            })?;

        let mut all: Vec<&KeyDates> = stored.live.iter().map(|k| &k.dates).collect();
        all.push(&fresh.key.dates);
        let pins = lifecycle::repin(&all, self.settings.retirement_delay);
        let mut supersedes = None;
        let mut pinned = Vec::new();
        for (dates, pin) in all.iter().zip(pins) {
            let Some(pin) = pin else { continue };
            if pin.superseded_at == Some(activates_at) {
                supersedes = Some((dates.kid.clone(), pin.retire_after.unwrap_or(activates_at)));
            }
            pinned.push((pin.kid.clone(), to_stored(&pin)));
        }
        let row = StoredKey {
            kid: kid.clone(),
            generation: stored.generation + 1,
            sealed_private_key: sealed,
            certificate: fresh.cert_der,
            dates: to_stored(&fresh.key.dates),
            archived_at: None,
        };
        let added = self
            .store
            .add_signing_key(&row, &pinned)
            .await
            .map_err(|e| KeyError::Store(e.to_string()))?;
        if !added {
            tracing::debug!(%kid, "another process added a key first; re-reading");
            return Ok(None);
        }
        Ok(Some(Rotation {
            kid,
            activates_at,
            supersedes,
        }))
    }

    async fn read(&self) -> Result<Stored, KeyError> {
        let rows = self
            .store
            .list_signing_keys()
            .await
            .map_err(|e| KeyError::Store(e.to_string()))?;
        let generation = rows.iter().map(|r| r.generation).max().unwrap_or(0);
        let mut live = Vec::new();
        let mut archived = Vec::new();
        for row in rows {
            let key = self.parse(&row)?;
            match row.archived_at {
                None => live.push(key),
                Some(_) => archived.push(key),
            }
        }
        Ok(Stored {
            live,
            archived,
            generation,
        })
    }

    fn parse(&self, row: &StoredKey) -> Result<SigningKey, KeyError> {
        let kid = &row.kid;
        let sealed = |why: String| KeyError::Sealed {
            kid: kid.clone(),
            why,
        };
        let pkcs8 = self
            .sealer
            .open(kid, &row.sealed_private_key)
            .map_err(sealed)?;
        let text = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8));
        let location = PathBuf::from("database");
        let parsed = Parsed::from_pem(&location, &text)
            .map_err(|e| sealed(format!("not a usable key: {e}")))?;
        if parsed.public.kid != *kid {
            return Err(sealed(format!(
                "the row says kid {kid} but the key is {}",
                parsed.public.kid
            )));
        }
        let dates = from_stored(kid, &row.dates);
        let mut public = parsed.public;
        public.cert_der = Some(if cert::carries_key(&row.certificate, &public.spki_der) {
            row.certificate.clone()
        } else {
            tracing::warn!(%kid, "stored certificate does not match its key; using a fresh one");
            cert::self_signed(&parsed.pkcs8, &self.settings.cert_name, kid, dates.created)
                .map_err(|why| sealed(format!("cannot make its certificate: {why}")))?
        });
        Ok(SigningKey {
            public,
            encoding: parsed.encoding,
            path: location,
            dates,
        })
    }
}

fn to_i64(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

fn to_u64(secs: i64) -> u64 {
    u64::try_from(secs).unwrap_or(0)
}

fn to_stored(dates: &KeyDates) -> StoredKeyDates {
    StoredKeyDates {
        created: to_i64(dates.created),
        activates_at: to_i64(dates.activates_at),
        superseded_at: dates.superseded_at.map(to_i64),
        retire_after: dates.retire_after.map(to_i64),
    }
}

fn from_stored(kid: &str, dates: &StoredKeyDates) -> KeyDates {
    KeyDates {
        kid: kid.to_owned(),
        created: to_u64(dates.created),
        activates_at: to_u64(dates.activates_at),
        superseded_at: dates.superseded_at.map(to_u64),
        retire_after: dates.retire_after.map(to_u64),
    }
}
