//! In-process gates in front of the store's reservations (see `super`).

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// In-process gates in front of the store's reservations: at most
/// `max_failures` attempts on one account go to the store at once from this
/// process, the others wait here in order. A burst on one account (50
/// parallel logins of one user, or an attacker's) then waits on a semaphore
/// instead of polling the database, and the argon2 workers stay busy. The
/// store's reservation still bounds the budget across instances. The same
/// gates, one place each, stand per API key in front of the write of its
/// shared session (`Issuer::key_sessions`).
#[derive(Default)]
pub struct LoginGates {
    gates: std::sync::Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// A place at an account's gate; dropping it lets the next attempt in.
pub struct Gate<'a> {
    gates: &'a LoginGates,
    key: String,
    semaphore: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
}

impl LoginGates {
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

    /// Accounts with attempts in flight or waiting (for tests and metrics).
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
