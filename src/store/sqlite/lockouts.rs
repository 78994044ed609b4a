//! Brute-force counters' SQL. A reservation, a failure and its lockout are
//! each one `INSERT ... SELECT ... ON CONFLICT DO UPDATE ... RETURNING`:
//! SQLite takes the write lock before the statement reads the old row, so
//! instances sharing the file never lose a count or over-grant a reservation.

use async_trait::async_trait;

use super::{SqliteStore, unavailable};
use crate::store::{
    FailureKind, LockPolicy, LockState, Lockout, LockoutStore, Reservation, StoreError,
};

/// `?1` kind, `?2` key, `?3` now, `?4` max_failures, `?5` failure_reset,
/// `?6` lease, `?7` nonce. Granted (`ok`) when the counter is not locked and
/// its live failures plus the checks in flight leave room for one more, or
/// no check is in flight (after a lockout ends, one guess at a time: its
/// failure locks again for twice as long, as before); a
/// grant adds one to `in_flight`, renews the lease and writes the nonce, which
/// `RETURNING` compares to tell the caller whether its reservation won.
const RESERVE: &str = "
INSERT INTO login_failures
    (kind, key, failures, last_failure, locked_at, locked_until, expires_at,
     in_flight, in_flight_until, grant_nonce)
SELECT ?1, ?2, c.failures, c.last, c.old_at, c.old_until,
       CASE WHEN c.ok THEN MAX(c.expires, ?3 + ?6) ELSE c.expires END,
       CASE WHEN c.ok THEN c.in_flight + 1 ELSE c.in_flight END,
       CASE WHEN c.ok THEN ?3 + ?6 ELSE c.until END,
       CASE WHEN c.ok THEN ?7 ELSE c.nonce END
FROM (
    SELECT s.*, (s.old_until <= ?3
                 AND (s.live_failures + s.in_flight < ?4 OR s.in_flight = 0)) AS ok
    FROM (
        SELECT COALESCE(f.failures, 0) AS failures,
               COALESCE(f.last_failure, 0) AS last,
               COALESCE(f.locked_at, 0) AS old_at,
               COALESCE(f.locked_until, 0) AS old_until,
               COALESCE(f.expires_at, 0) AS expires,
               CASE WHEN f.failures IS NULL OR ?3 - f.last_failure > ?5
                    THEN 0 ELSE f.failures END AS live_failures,
               CASE WHEN f.in_flight_until > ?3 THEN f.in_flight ELSE 0 END AS in_flight,
               COALESCE(f.in_flight_until, 0) AS until,
               COALESCE(f.grant_nonce, 0) AS nonce
        FROM (SELECT 1) AS one
        LEFT JOIN login_failures AS f ON f.kind = ?1 AND f.key = ?2
    ) AS s
) AS c
WHERE true
ON CONFLICT (kind, key) DO UPDATE SET
    expires_at = excluded.expires_at,
    in_flight = excluded.in_flight,
    in_flight_until = excluded.in_flight_until,
    grant_nonce = excluded.grant_nonce
RETURNING grant_nonce = ?7, locked_until";

/// `?1` kind, `?2` key, `?3` now, `?4` max_failures, `?5` wait_increment,
/// `?6` max_wait, `?7` quick_check, `?8` quick_wait, `?9` failure_reset.
/// `c` is the counter after this failure, `n` adds the lockout it earns; the
/// shift is capped at 32 (validation keeps wait_increment under 2^27 ms) so
/// it cannot overflow. A row keeps the longer of its old and new lockout.
const RECORD_FAILURE: &str = "
INSERT INTO login_failures (kind, key, failures, last_failure, locked_at, locked_until, expires_at)
SELECT ?1, ?2, n.failures, ?3,
       CASE WHEN n.lock > n.old_until THEN ?3 ELSE n.old_at END,
       MAX(n.lock, n.old_until),
       MAX(?3 + ?9, n.lock, n.old_until)
FROM (
    SELECT c.failures, c.old_at, c.old_until,
           MAX(CASE WHEN c.failures >= ?4
                    THEN ?3 + MIN(?5 << MIN(c.failures - ?4, 32), ?6) ELSE 0 END,
               CASE WHEN ?7 > 0 AND ?3 - c.last < ?7 THEN ?3 + ?8 ELSE 0 END) AS lock
    FROM (
        SELECT CASE WHEN f.failures IS NULL OR ?3 - f.last_failure > ?9
                    THEN 1 ELSE f.failures + 1 END AS failures,
               f.last_failure AS last,
               COALESCE(f.locked_at, 0) AS old_at,
               COALESCE(f.locked_until, 0) AS old_until
        FROM (SELECT 1) AS one
        LEFT JOIN login_failures AS f ON f.kind = ?1 AND f.key = ?2
    ) AS c
) AS n
WHERE true
ON CONFLICT (kind, key) DO UPDATE SET
    failures = excluded.failures,
    last_failure = excluded.last_failure,
    locked_at = excluded.locked_at,
    locked_until = excluded.locked_until,
    expires_at = excluded.expires_at,
    in_flight = MAX(login_failures.in_flight - 1, 0)
RETURNING failures, locked_at, locked_until";

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

impl SqliteStore {
    /// Deletes counters that neither lock nor count any more.
    pub(super) async fn purge_login_failures(&self, now_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM login_failures WHERE expires_at <= ?")
            .bind(now_ms)
            .execute(&self.writer)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl LockoutStore for SqliteStore {
    async fn reserve_login_attempt(
        &self,
        kind: FailureKind,
        key: &str,
        now_ms: i64,
        policy: &LockPolicy,
        lease_ms: i64,
        nonce: i64,
    ) -> Result<Reservation, StoreError> {
        let (won, locked_until): (bool, i64) = sqlx::query_as(RESERVE)
            .bind(kind.as_str())
            .bind(key)
            .bind(now_ms)
            .bind(i64::from(policy.max_failures))
            .bind(policy.failure_reset_ms)
            .bind(lease_ms)
            .bind(nonce)
            .fetch_one(&self.writer)
            .await
            .map_err(unavailable)?;
        Ok(Reservation::from_row(won, locked_until, now_ms))
    }

    async fn release_login_attempt(
        &self,
        kind: FailureKind,
        key: &str,
        succeeded: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE login_failures SET in_flight = MAX(in_flight - 1, 0),
                 failures = CASE WHEN ?3 THEN 0 ELSE failures END,
                 last_failure = CASE WHEN ?3 THEN 0 ELSE last_failure END
             WHERE kind = ?1 AND key = ?2",
        )
        .bind(kind.as_str())
        .bind(key)
        .bind(succeeded)
        .execute(&self.writer)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn record_login_failure(
        &self,
        kind: FailureKind,
        key: &str,
        now_ms: i64,
        policy: &LockPolicy,
    ) -> Result<LockState, StoreError> {
        let (failures, locked_at, locked_until): (i64, i64, i64) = sqlx::query_as(RECORD_FAILURE)
            .bind(kind.as_str())
            .bind(key)
            .bind(now_ms)
            .bind(i64::from(policy.max_failures))
            .bind(policy.wait_increment_ms)
            .bind(policy.max_wait_ms)
            .bind(policy.quick_check_ms)
            .bind(policy.quick_wait_ms)
            .bind(policy.failure_reset_ms)
            .fetch_one(&self.writer)
            .await
            .map_err(unavailable)?;
        let locked = locked_until > now_ms;
        Ok(LockState {
            failures: count(failures),
            locked_until: locked.then_some(locked_until),
            lock_started: locked && locked_at == now_ms,
        })
    }

    async fn login_lock(
        &self,
        kind: FailureKind,
        key: &str,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar(
            "SELECT locked_until FROM login_failures WHERE kind = ? AND key = ? AND locked_until > ?",
        )
        .bind(kind.as_str())
        .bind(key)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)
    }

    async fn clear_login_failures(&self, kind: FailureKind, key: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM login_failures WHERE kind = ? AND key = ?")
            .bind(kind.as_str())
            .bind(key)
            .execute(&self.writer)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_lockouts(&self, now_ms: i64) -> Result<Vec<Lockout>, StoreError> {
        let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT kind, key, failures, last_failure, locked_until FROM login_failures
             WHERE locked_until > ? ORDER BY locked_until DESC, kind, key",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.into_iter()
            .map(|(kind, key, failures, last_failure, locked_until)| {
                Ok(Lockout {
                    kind: FailureKind::parse(&kind).ok_or_else(|| {
                        StoreError::Corrupt(format!("login_failures.kind {kind:?}"))
                    })?,
                    key,
                    failures: count(failures),
                    last_failure,
                    locked_until,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: LockPolicy = LockPolicy {
        max_failures: 3,
        wait_increment_ms: 1000,
        max_wait_ms: 5000,
        failure_reset_ms: 60_000,
        quick_check_ms: 0,
        quick_wait_ms: 0,
    };

    async fn store() -> (SqliteStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("domino-idp-lock-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        crate::store::Database::migrate(&store).await.unwrap();
        (store, dir)
    }

    #[tokio::test]
    async fn back_off_doubles_up_to_the_cap_and_resets() {
        let (s, dir) = store().await;
        let user = FailureKind::User;
        let mut t = 1_000_000;
        for expected in 1..=2 {
            let st = s
                .record_login_failure(user, "doc", t, &POLICY)
                .await
                .unwrap();
            assert_eq!((st.failures, st.locked_until), (expected, None));
            t += 10;
        }
        // 3rd failure: 1 s; 4th: 2 s; 5th: 4 s; 6th: capped at 5 s.
        for (n, wait) in [(3, 1000), (4, 2000), (5, 4000), (6, 5000), (7, 5000)] {
            let st = s
                .record_login_failure(user, "doc", t, &POLICY)
                .await
                .unwrap();
            assert_eq!(st.failures, n);
            assert_eq!(st.locked_until, Some(t + wait), "failure {n}");
            assert!(st.lock_started);
            assert_eq!(s.login_lock(user, "doc", t).await.unwrap(), Some(t + wait));
            assert_eq!(s.login_lock(user, "doc", t + wait).await.unwrap(), None);
            t += wait;
        }
        // The other kind and other keys are separate counters.
        assert_eq!(
            s.login_lock(FailureKind::Ip, "doc", t - 1).await.unwrap(),
            None
        );
        assert_eq!(s.list_lockouts(t - 1).await.unwrap().len(), 1);
        // After failure_reset without failures the count starts again.
        t += POLICY.failure_reset_ms + 1;
        let st = s
            .record_login_failure(user, "doc", t, &POLICY)
            .await
            .unwrap();
        assert_eq!((st.failures, st.locked_until), (1, None));
        assert!(s.clear_login_failures(user, "doc").await.unwrap());
        assert!(!s.clear_login_failures(user, "doc").await.unwrap());
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn quick_failures_lock_and_old_rows_are_purged() {
        let (s, dir) = store().await;
        let quick = LockPolicy {
            quick_check_ms: 500,
            quick_wait_ms: 3000,
            ..POLICY
        };
        let ip = FailureKind::Ip;
        let st = s
            .record_login_failure(ip, "192.0.2.1", 10_000, &quick)
            .await
            .unwrap();
        assert_eq!(st.locked_until, None);
        let st = s
            .record_login_failure(ip, "192.0.2.1", 10_100, &quick)
            .await
            .unwrap();
        assert_eq!(st.locked_until, Some(13_100));
        // The third failure earns 1 s of back-off; the quick-login lockout is longer and wins.
        let st = s
            .record_login_failure(ip, "192.0.2.1", 10_200, &quick)
            .await
            .unwrap();
        assert_eq!(st.locked_until, Some(13_200));
        let lockouts = s.list_lockouts(10_300).await.unwrap();
        assert_eq!(lockouts[0].key, "192.0.2.1");
        assert_eq!(lockouts[0].failures, 3);
        assert_eq!(s.purge_login_failures(10_300).await.unwrap(), 0);
        assert_eq!(s.purge_login_failures(10_200 + 60_000).await.unwrap(), 1);
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn reservations_bound_the_checks() {
        let (s, dir) = store().await;
        crate::store::scenarios::reservations_bound_the_checks(std::sync::Arc::new(s)).await;
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn parallel_failures_are_all_counted() {
        let (s, dir) = store().await;
        let s = std::sync::Arc::new(s);
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let s = s.clone();
                tokio::spawn(async move {
                    s.record_login_failure(FailureKind::User, "doc", 5_000 + i, &POLICY)
                        .await
                        .unwrap()
                        .failures
                })
            })
            .collect();
        let mut seen = Vec::new();
        for t in tasks {
            seen.push(t.await.unwrap());
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=40).collect::<Vec<_>>());
        std::fs::remove_dir_all(dir).ok();
    }
}
