//! Where the keys live, as one handle for the server, the CLI and `token
//! verify`: `keys_dir` (PEM files, the SQLite default) or the database (the
//! Postgres default, shared by every instance). Both follow the same life
//! cycle; only storage and coordination differ.

use std::sync::Arc;

use super::db::DbKeys;
use super::sealed::Sealer;
use super::{KeyError, KeyRing, KeySettings, Rotation, SigningKey, rotate};
use crate::config::{Config, KeyStoreKind};
use crate::store::Store;

#[derive(Clone)]
pub enum KeyHome {
    Dir(KeySettings),
    Database(DbKeys),
}

impl std::fmt::Debug for KeyHome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl KeyHome {
    /// The home `config` names; `store` is used when the keys are in the
    /// database (and may be opened lazily by the caller only then).
    pub fn new(config: &Config, store: Option<Arc<dyn Store>>) -> Result<KeyHome, KeyError> {
        let settings = KeySettings::from_config(config);
        match config.key_store() {
            KeyStoreKind::Dir => Ok(KeyHome::Dir(settings)),
            KeyStoreKind::Database => {
                let store = store.ok_or_else(|| {
                    KeyError::Store("key_store = database needs the database open".into())
                })?;
                let kek = config.key_encryption_key.as_ref().ok_or_else(|| {
                    KeyError::Store("key_store = database needs key_encryption_key".into())
                })?;
                let sealer = Sealer::from_base64(kek.expose())
                    .map_err(|why| KeyError::Store(format!("key_encryption_key: {why}")))?;
                Ok(KeyHome::Database(DbKeys::new(store, sealer, settings)))
            }
        }
    }

    pub fn settings(&self) -> &KeySettings {
        match self {
            KeyHome::Dir(settings) => settings,
            KeyHome::Database(db) => db.settings(),
        }
    }

    /// For messages: "keys_dir <path>" or "the database".
    pub fn describe(&self) -> String {
        match self {
            KeyHome::Dir(settings) => format!("keys_dir {}", settings.dir.display()),
            KeyHome::Database(_) => "the database".into(),
        }
    }

    /// What a server does at start and on every reload: creates the first
    /// key if there is none, fills in what is missing, rotates when the
    /// period says so, and archives retired keys.
    pub async fn refresh(&self) -> Result<KeyRing, KeyError> {
        match self {
            KeyHome::Dir(settings) => {
                let s = settings.clone();
                blocking(move || rotate::refresh(&s)).await
            }
            KeyHome::Database(db) => db.refresh().await,
        }
    }

    /// The keys now, without writing anything (for the CLI).
    pub async fn load(&self) -> Result<KeyRing, KeyError> {
        match self {
            KeyHome::Dir(settings) => {
                let s = settings.clone();
                blocking(move || KeyRing::load_with(&s)).await
            }
            KeyHome::Database(db) => db.load_at(super::now()).await,
        }
    }

    /// The retired keys kept for the record (never published).
    pub async fn archived(&self) -> Result<Vec<SigningKey>, KeyError> {
        match self {
            KeyHome::Dir(settings) => {
                let s = settings.clone();
                blocking(move || super::archived(&s)).await
            }
            KeyHome::Database(db) => db.archived().await,
        }
    }

    /// See `rotate::rotate`.
    pub async fn rotate(&self, lead: u64, force: bool) -> Result<Rotation, KeyError> {
        match self {
            KeyHome::Dir(settings) => {
                let s = settings.clone();
                blocking(move || rotate::rotate(&s, lead, force)).await
            }
            KeyHome::Database(db) => db.rotate(lead, force).await,
        }
    }

    /// Stops publishing `kid` now; says where the key was archived.
    pub async fn retire(&self, kid: &str) -> Result<String, KeyError> {
        match self {
            KeyHome::Dir(settings) => {
                let s = settings.clone();
                let kid = kid.to_owned();
                let to = blocking(move || rotate::retire(&s, &kid)).await?;
                Ok(format!("files moved to {}", to.display()))
            }
            KeyHome::Database(db) => {
                db.retire(kid).await?;
                Ok("kept in the database, marked archived".into())
            }
        }
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, KeyError> + Send + 'static,
) -> Result<T, KeyError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| KeyError::Store(format!("key task failed: {e}")))?
}
