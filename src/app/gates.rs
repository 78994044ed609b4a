//! In-process gates: one queue per key (an account, an API key) in front
//! of work that only one, or a few, of a key's requests should do at once.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// In-process gates, one per key, each with a number of places; those who
/// find no place wait in order. Two uses:
/// - `Issuer::login_gates`, in front of the store's login reservations
///   (`app::login`): at most `max_failures` attempts on one account go to
///   the store at once from this process. A burst on one account (50
///   parallel logins of one user, or an attacker's) then waits on a
///   semaphore instead of polling the database, and the argon2 workers stay
///   busy. The store's reservation still bounds the budget across
///   instances.
/// - `Issuer::key_sessions`, one place per API key, in front of the write
///   of its shared session (`app::apikeys`).
///
/// A key's gate exists only while someone is at it.
#[derive(Default)]
pub struct Gates {
    gates: std::sync::Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// A place at a key's gate; dropping it lets the next one in.
pub struct Gate<'a> {
    gates: &'a Gates,
    key: String,
    semaphore: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Gates {
    pub(crate) async fn enter(&self, key: &str, places: usize) -> Gate<'_> {
        let semaphore = {
            let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
            gates
                .entry(key.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(places.max(1))))
                .clone()
        };
        // The semaphore is never closed, so acquiring cannot fail.
        let permit = semaphore.clone().acquire_owned().await.ok();
        Gate {
            gates: self,
            key: key.to_owned(),
            semaphore,
            permit,
        }
    }

    /// Keys with someone in or waiting at their gate (for tests and metrics).
    pub fn open(&self) -> usize {
        self.gates.lock().map_or(0, |g| g.len())
    }
}

impl Drop for Gate<'_> {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut gates = self.gates.gates.lock().unwrap_or_else(|e| e.into_inner());
        // Only the map and this gate hold it: nobody else is in or waiting.
        if Arc::strong_count(&self.semaphore) == 2 {
            gates.remove(&self.key);
        }
    }
}
