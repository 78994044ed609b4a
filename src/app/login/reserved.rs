//! The password checks an attempt reserves on its counters, and their
//! release (see `super`).

use std::sync::Arc;

use crate::clock::Clock;
use crate::store::{FailureKind, LockPolicy, Reservation, Store, StoreError};

/// How long a reservation holds at most: longer than any password check
/// waits in the argon2 queue, short enough that a crashed process's
/// reservations do not keep an account refusing logins for long.
pub const RESERVATION_LEASE_MS: i64 = 60_000;

/// How long an attempt waits for a place while the budget is taken by
/// checks in flight, before it is refused with 429.
const BUSY_WAIT_MS: i64 = 10_000;

/// Why a reservation was refused, with when to retry (Unix ms).
pub(super) struct Refusal {
    pub(super) scope: FailureKind,
    pub(super) until: i64,
}

/// The password checks an attempt holds: one place on its login name's
/// counter and one on its address's. Settled by recording the failure, by
/// `LockoutStore::settle_login_success` or by `released`; if
/// the request is dropped first (the client went away), the places are
/// given back without a failure, since nobody learnt the answer.
pub(super) struct Reserved {
    store: Arc<dyn Store>,
    pub(super) counters: Vec<(FailureKind, String)>,
}

impl Reserved {
    /// Takes a place on every counter, or none: a refusal gives back what
    /// was taken.
    pub(super) async fn take(
        store: &Arc<dyn Store>,
        clock: &dyn Clock,
        counters: Vec<(FailureKind, String, LockPolicy)>,
        now: i64,
    ) -> Result<Result<Reserved, Refusal>, StoreError> {
        let mut held = Reserved {
            store: store.clone(),
            counters: Vec::new(),
        };
        let deadline = now.saturating_add(BUSY_WAIT_MS);
        for (kind, key, policy) in counters {
            let mut pause = 10;
            loop {
                let now = clock.now_ms();
                let nonce = i64::from_ne_bytes(uuid::Uuid::new_v4().as_u64_pair().0.to_ne_bytes());
                match store
                    .reserve_login_attempt(kind, &key, now, &policy, RESERVATION_LEASE_MS, nonce)
                    .await?
                {
                    Reservation::Granted => {
                        held.counters.push((kind, key));
                        break;
                    }
                    Reservation::Locked(until) => {
                        held.released().await;
                        return Ok(Err(Refusal { scope: kind, until }));
                    }
                    // Checks in flight fill the budget: wait for one to
                    // settle. Successes free their place and reset the
                    // count, so a burst of right passwords gets through;
                    // failures fill the budget and lock, which ends the wait.
                    Reservation::Busy if now < deadline => {
                        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                        pause = (pause * 2).min(100);
                    }
                    Reservation::Busy => {
                        held.released().await;
                        return Ok(Err(Refusal {
                            scope: kind,
                            until: now.saturating_add(1000),
                        }));
                    }
                }
            }
        }
        Ok(Ok(held))
    }

    /// Gives the places back without a failure (nor a reset: a success
    /// settles with `LockoutStore::settle_login_success`).
    async fn released(mut self) {
        for (kind, key) in std::mem::take(&mut self.counters) {
            if let Err(e) = self.store.release_login_attempt(kind, &key, false).await {
                tracing::warn!(error = %e, kind = kind.as_str(), "could not release a login reservation");
            }
        }
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        let counters = std::mem::take(&mut self.counters);
        if counters.is_empty() {
            return;
        }
        let store = self.store.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for (kind, key) in counters {
                    let _ = store.release_login_attempt(kind, &key, false).await;
                }
            });
        }
    }
}
