//! What a running server signs with and publishes, swapped as one piece when
//! `keys_dir` or the clock changes a key's state, and the task that watches.
//!
//! Readers (every signature, every JWKS or realm request) load the current
//! `Published` without a lock; the watcher renders the documents once per
//! change, never per request.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;

use super::turns::Turns;
use super::{KeyError, KeyHome, KeyRing, SigningKey, lifecycle};
use crate::domain::token::Claims;

/// The public documents rendered from a key ring (by the realm), each with
/// its strong ETag, computed when rendered and never per request.
#[derive(Debug, Clone)]
pub struct Documents {
    /// The JWKS: every published key.
    pub jwks: Bytes,
    pub jwks_etag: http::HeaderValue,
    /// The Keycloak realm document; its `public_key` is the signer's.
    pub info: Bytes,
    pub info_etag: http::HeaderValue,
}

impl Default for Documents {
    /// Nothing rendered: empty bodies, tagged as such.
    fn default() -> Self {
        let empty = http::HeaderValue::from_static("\"empty\"");
        Documents {
            jwks: Bytes::new(),
            jwks_etag: empty.clone(),
            info: Bytes::new(),
            info_etag: empty,
        }
    }
}

/// A key ring and the documents made from it: a handler that reads both
/// from one `Published` sees a signer that the documents agree with.
#[derive(Debug)]
pub struct Published {
    pub ring: KeyRing,
    pub documents: Documents,
}

pub struct LiveKeys {
    current: ArcSwap<Published>,
    turns: Arc<Turns>,
}

impl std::fmt::Debug for LiveKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveKeys")
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

impl LiveKeys {
    pub fn new(ring: KeyRing, documents: Documents) -> Self {
        LiveKeys {
            current: ArcSwap::from_pointee(Published { ring, documents }),
            turns: Arc::default(),
        }
    }

    /// The current ring and documents, consistent with each other.
    pub fn current(&self) -> Arc<Published> {
        self.current.load_full()
    }

    /// Replaces the ring and its documents in one step.
    pub fn publish(&self, ring: KeyRing, documents: Documents) {
        self.current.store(Arc::new(Published { ring, documents }));
    }

    /// The key that signs new tokens now.
    pub fn signer(&self) -> Arc<SigningKey> {
        self.current.load().ring.signer_arc().clone()
    }

    /// The published keys, signer first.
    pub fn keys(&self) -> Vec<Arc<SigningKey>> {
        self.current.load().ring.keys().to_vec()
    }

    pub fn jwks(&self) -> serde_json::Value {
        self.current.load().ring.jwks()
    }

    /// Signs `claims` with the current signer (see `KeyRing::sign`).
    pub fn sign(&self, claims: &Claims) -> Result<String, KeyError> {
        self.current.load().ring.sign(claims)
    }

    /// Runs `work` with the current ring in its turn: signatures are made
    /// in the order they were asked for, one per runtime worker at a time
    /// (see `turns`). Request paths sign this way; `sign` signs at once, on
    /// the caller's thread.
    pub async fn in_turn<T, F>(&self, work: F) -> Result<T, KeyError>
    where
        T: Send + 'static,
        F: FnOnce(&KeyRing) -> T + Send + 'static,
    {
        let keys = self.current();
        self.turns
            .run(move || work(&keys.ring))
            .await
            .map_err(|_| KeyError::Sign("the signature was not made: its task stopped".into()))
    }

    /// Signs `claims` with the current signer in its turn (`in_turn`).
    pub async fn sign_in_turn(&self, claims: Claims) -> Result<String, KeyError> {
        self.in_turn(move |keys| keys.sign(&claims)).await?
    }
}

/// Keeps `live` in step with where the keys live (`home`): re-reads them
/// every `reload_interval` and at each scheduled activation or retirement,
/// rotates when the period says so, and publishes a new ring (with
/// `render`ed documents) whenever a key appears, disappears or changes
/// state. Runs until aborted.
pub async fn watch<F>(live: Arc<LiveKeys>, home: KeyHome, render: F)
where
    F: Fn(&KeyRing) -> Documents + Send + 'static,
{
    let interval = Duration::from_secs(home.settings().reload_interval.max(1));
    let mut wait = wait_for(live.current().ring.next_change(), interval);
    loop {
        tokio::time::sleep(wait).await;
        let ring = match home.refresh().await {
            Ok(ring) => ring,
            Err(e) => {
                tracing::warn!(error = %e, from = %home.describe(), "could not re-read the keys; keeping the current ones");
                wait = interval;
                continue;
            }
        };
        wait = wait_for(ring.next_change(), interval);
        let current = live.current();
        if ring.same_as(&current.ring) {
            continue;
        }
        log_changes(&current.ring, &ring);
        let documents = render(&ring);
        live.publish(ring, documents);
    }
}

/// Until the next reload: the interval, or sooner if a state changes first
/// (a little past that second, so the state has flipped when we look).
fn wait_for(next_change: Option<u64>, interval: Duration) -> Duration {
    match next_change {
        Some(at) => until(at).unwrap_or(Duration::ZERO).min(interval),
        None => interval,
    }
}

/// Time from now until 50 ms past Unix second `at`; `None` if already past.
fn until(at: u64) -> Option<Duration> {
    use crate::clock::{Clock as _, SystemClock};
    let target = Duration::from_secs(at) + Duration::from_millis(50);
    let now = Duration::from_millis(u64::try_from(SystemClock.now_ms()).ok()?);
    target.checked_sub(now).filter(|d| !d.is_zero())
}

fn log_changes(old: &KeyRing, new: &KeyRing) {
    if old.signer().kid() != new.signer().kid() {
        tracing::info!(target: "audit", event = "key.activated", kid = %new.signer().kid(), previous = %old.signer().kid(), "signing key changed");
    }
    for entry in new.entries() {
        let before = old.state_of(entry.key.kid());
        if before != Some(entry.status.state) {
            tracing::info!(
                kid = %entry.key.kid(),
                state = %entry.status.state,
                before = before.map_or("absent", |s| s.as_str()),
                activates_at = %lifecycle::format_time(entry.key.dates.activates_at),
                "key state changed"
            );
        }
    }
    for entry in old.entries() {
        if new.state_of(entry.key.kid()).is_none() {
            tracing::info!(kid = %entry.key.kid(), "key no longer stored");
        }
    }
}
