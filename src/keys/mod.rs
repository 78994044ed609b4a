//! The realm's signing keys: kept in `keys_dir` (generated there on first
//! start), each with its dates and certificate; rotated without breaking
//! consumers (SPEC §6); held parsed in memory to sign and verify RS256 JWTs.
//!
//! - `lifecycle`: the states next → active → retiring → retired, from dates.
//! - `key`, `file`, `cert`: one key's files, written atomically; its `x5c`.
//! - `ring`: the keys at one moment (`KeyRing`), signing and verification.
//! - `rotate`: changes on disk (rotate, retire, automatic rotation, archive).
//! - `live`: what a running server holds (`LiveKeys`) and the reload task.

pub mod cert;
mod db;
pub mod file;
mod home;
pub mod jwk;
mod key;
pub mod lifecycle;
pub mod live;
mod ring;
pub mod rotate;
pub mod sealed;
mod signer;
mod turns;
mod verified;

use std::path::PathBuf;

use crate::clock::{Clock as _, SystemClock};

use crate::config::Config;
pub use db::DbKeys;
pub use home::KeyHome;
pub use jwk::PublicKeyInfo;
pub use key::SigningKey;
pub use lifecycle::{KeyDates, KeyState};
pub use live::{Documents, LiveKeys, Published};
pub use ring::{KeyEntry, KeyRing};
pub use rotate::Rotation;

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
    #[error(
        "no signing key in the database: start `domino-idp serve` once to create one, or check database_url"
    )]
    NoStoredKeys,
    #[error("stored key {kid}: {why}")]
    Sealed { kid: String, why: String },
    #[error("key store: {0}")]
    Store(String),
    #[error("RSA key generation failed")]
    Generate,
    #[error("signing failed: {0}")]
    Sign(String),
    #[error(
        "key {kid} is already waiting to sign (from {}); wait for it, or pass --force to add another",
        lifecycle::format_time(*activates_at)
    )]
    Pending { kid: String, activates_at: u64 },
    #[error("no key with kid {0:?} in keys_dir (`domino-idp keys list` shows them)")]
    UnknownKey(String),
    #[error(
        "key {0} is the active signing key: rotate first (`keys rotate`, or `keys rotate --lead 0` in an emergency), then retire it"
    )]
    RetireActive(String),
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

/// The key settings, taken from `Config` once.
#[derive(Debug, Clone)]
pub struct KeySettings {
    pub dir: PathBuf,
    /// Common name of the keys' certificates: the realm.
    pub cert_name: String,
    /// How long a superseded key stays published (`Config::retirement_delay`).
    pub retirement_delay: u64,
    /// How long a new key is published before it signs (`Config::rotation_lead`).
    pub rotation_lead: u64,
    /// Rotate automatically after this many seconds of signing (0 = never).
    pub rotation_period: u64,
    /// How often a server re-reads `dir`, in seconds.
    pub reload_interval: u64,
}

impl KeySettings {
    pub fn from_config(config: &Config) -> Self {
        KeySettings {
            dir: config.keys_dir.clone(),
            cert_name: config.realm.clone(),
            retirement_delay: config.retirement_delay(),
            rotation_lead: config.rotation_lead(),
            rotation_period: config.key_rotation_period,
            reload_interval: config.key_reload_interval,
        }
    }

    /// Where retired keys are moved: `keys_dir/retired/`.
    pub fn archive_dir(&self) -> PathBuf {
        self.dir.join("retired")
    }
}

/// Now, in whole Unix seconds (rounded down), from the system clock: key
/// lifecycles are shared through files and the database with other
/// processes, which read the same clock.
pub fn now() -> u64 {
    u64::try_from(SystemClock.now()).unwrap_or(0)
}

/// Now, in whole Unix seconds rounded up.
pub fn now_ceil() -> u64 {
    u64::try_from(SystemClock.now_ms().saturating_add(999).div_euclid(1000)).unwrap_or(0)
}

/// The keys archived in `keys_dir/retired/`, for listing. Never published.
pub fn archived(settings: &KeySettings) -> Result<Vec<SigningKey>, KeyError> {
    Ok(ring::read_dir(&settings.archive_dir(), None)?
        .into_iter()
        .map(|(k, _)| k)
        .collect())
}
