//! Housekeeping: expired grants and brute-force counters that no longer
//! count are deleted every ten minutes (and at start), as of the issuer's
//! clock, so the tables hold only what can still matter.
//!
//! A purge goes table by table, at most `CHUNK` rows a statement, with a
//! pause after each full chunk. After a storm (its refresh tokens expire in
//! one ten-minute window) one `DELETE` held SQLite's only writer for seconds
//! (600,000 tokens: about 8 s) while every login and refresh waited; chunks
//! let them in between, and the pause leaves the writer idle so that they
//! do not wait at all (docs/design.md, "Housekeeping"). The store runs one
//! statement a call; how much and how fast is decided here.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::store::{Expiring, GrantStore, LockoutStore, StoreError};

/// The most rows one purge statement deletes.
pub const CHUNK: u32 = 1000;

/// The pause after each full chunk.
const PAUSE: Duration = Duration::from_millis(50);

/// How often the purge runs.
const EVERY: Duration = Duration::from_secs(600);

/// Purges now and then every `EVERY`, until the task is dropped.
pub async fn run<S>(store: Arc<S>, clock: Arc<dyn Clock>)
where
    S: GrantStore + LockoutStore + ?Sized,
{
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        match purge(store.as_ref(), clock.as_ref()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(rows = n, "purged expired grants"),
            Err(e) => tracing::warn!(error = %e, "could not purge expired grants"),
        }
    }
}

/// Deletes everything expired as of `clock`'s time when the purge began:
/// codes, tokens and deny-list entries before the sessions they belong to
/// (so a session's delete cascades into no uncounted rows), then the
/// brute-force counters. Returns how many rows went.
pub async fn purge<S>(store: &S, clock: &dyn Clock) -> Result<u64, StoreError>
where
    S: GrantStore + LockoutStore + ?Sized,
{
    let now = clock.now();
    let mut purged = 0;
    for table in Expiring::ALL {
        purged += chunked(|| store.purge_expired(table, now, CHUNK)).await?;
    }
    let now_ms = now.saturating_mul(1000);
    purged += chunked(|| store.purge_login_failures(now_ms, CHUNK)).await?;
    Ok(purged)
}

/// Runs `chunk` until it deletes fewer than `CHUNK` rows, pausing after
/// each full one.
async fn chunked<F, Fut>(mut chunk: F) -> Result<u64, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, StoreError>>,
{
    let mut purged = 0;
    loop {
        let deleted = chunk().await?;
        purged += deleted;
        if deleted < u64::from(CHUNK) {
            return Ok(purged);
        }
        // The writer idles between chunks: a login or a refresh that
        // arrives then does not wait at all.
        tokio::time::sleep(PAUSE).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::scenarios::grants::{Fixture, NOW};
    use crate::store::sqlite::testdb;
    use crate::store::{FailureKind, LockPolicy, Store};

    /// The clock at `NOW`, still.
    struct At(i64);

    impl Clock for At {
        fn now_ms(&self) -> i64 {
            self.0 * 1000
        }
    }

    /// A purge goes on, chunk after chunk, until nothing expired is left:
    /// more expired deny-list entries than a chunk holds, an expired
    /// session with its refresh token (each counted: the token goes before
    /// the session its delete would cascade into) and an expired counter,
    /// beside live ones that stay.
    #[tokio::test]
    async fn a_purge_deletes_everything_expired_chunk_by_chunk() {
        let Some((store, _dir)) = testdb::fresh().await else {
            return;
        };
        let s: &dyn Store = &store;
        let f = Fixture::new(s).await;
        let expired = CHUNK + 7;
        f.expiring_grants(s, expired).await;
        let policy = LockPolicy {
            max_failures: 5,
            wait_increment_ms: 1000,
            max_wait_ms: 60_000,
            quick_check_ms: 0,
            quick_wait_ms: 0,
            failure_reset_ms: 60_000,
        };
        let ms = NOW * 1000;
        let (ip, user) = (FailureKind::Ip, FailureKind::User);
        s.record_login_failure(ip, "192.0.2.1", ms - 120_000, &policy)
            .await
            .unwrap();
        s.record_login_failure(user, "doc", ms, &policy)
            .await
            .unwrap();

        let clock = At(NOW);
        let purged = purge(s, &clock).await.unwrap();
        assert_eq!(
            purged,
            u64::from(expired) + 3,
            "deny-list, token, session, counter"
        );
        assert!(!s.is_jti_denied("old-0").await.unwrap());
        assert!(
            !s.is_jti_denied(&format!("old-{}", expired - 1))
                .await
                .unwrap()
        );
        assert!(s.is_jti_denied("live").await.unwrap());
        assert_eq!(s.get_refresh("gone-rt").await.unwrap(), None);
        assert!(s.get_refresh("live-rt").await.unwrap().is_some());
        assert_eq!(s.get_session("gone").await.unwrap(), None);
        assert_eq!(purge(s, &clock).await.unwrap(), 0, "nothing left");
        let st = s
            .record_login_failure(user, "doc", ms, &policy)
            .await
            .unwrap();
        assert_eq!(st.failures, 2, "the live counter stayed");
    }
}
