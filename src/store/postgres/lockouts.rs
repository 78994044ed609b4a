//! Brute-force counters' SQL. A failure is counted and its lockout computed
//! by one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`. Under READ
//! COMMITTED a statement that reads the old row first could lose a count to a
//! concurrent one, so the update side computes from the conflicting row
//! itself, which Postgres locks and re-reads at its latest committed version:
//! instances sharing the database count every failure exactly once.

use async_trait::async_trait;

use super::{PgStore, unavailable};
use crate::store::{
    FailureKind, LockPolicy, LockState, Lockout, LockoutStore, Reservation, StoreError,
};

/// `$1` kind, `$2` key, `$3` now, `$4` max_failures, `$5` failure_reset,
/// `$6` lease, `$7` nonce. The same rule as the SQLite store's: granted
/// (`ok`) when the counter is unlocked and its live failures plus the checks
/// in flight leave room for one more, or none is in flight. The update side reads the conflicting
/// row, which Postgres locks and re-reads at its latest version, so two
/// instances never both take the last place.
const RESERVE: &str = "
INSERT INTO login_failures AS f
    (kind, key, failures, last_failure, locked_at, locked_until, expires_at,
     in_flight, in_flight_until, grant_nonce)
VALUES ($1, $2, 0, 0, 0, 0, $3 + $6, 1, $3 + $6, $7)
ON CONFLICT (kind, key) DO UPDATE
SET (expires_at, in_flight, in_flight_until, grant_nonce) = (
    SELECT CASE WHEN g.ok THEN GREATEST(f.expires_at, $3 + $6) ELSE f.expires_at END,
           CASE WHEN g.ok THEN g.in_flight + 1 ELSE f.in_flight END,
           CASE WHEN g.ok THEN $3 + $6 ELSE f.in_flight_until END,
           CASE WHEN g.ok THEN $7 ELSE f.grant_nonce END
    FROM (
        SELECT (f.locked_until <= $3
                AND ((CASE WHEN $3 - f.last_failure > $5 THEN 0 ELSE f.failures END)
                         + l.in_flight < $4
                     OR l.in_flight = 0)) AS ok,
               l.in_flight
        FROM (SELECT CASE WHEN f.in_flight_until > $3 THEN f.in_flight ELSE 0 END AS in_flight) AS l
    ) AS g
)
RETURNING f.grant_nonce = $7, f.locked_until";

/// The counter after one more failure, as `(failures, last_failure,
/// locked_at, locked_until, expires_at)`, from `prev`: a row of (failures,
/// last, old_at, old_until), the previous counter or NULLs and zeros.
/// `$3` now, `$4` max_failures, `$5` wait_increment, `$6` max_wait,
/// `$7` quick_check, `$8` quick_wait, `$9` failure_reset. The shift is capped
/// at 32 (validation keeps wait_increment under 2^27 ms) so it cannot
/// overflow. A row keeps the longer of its old and new lockout. The same
/// arithmetic as the SQLite store's, with GREATEST/LEAST for MAX/MIN.
fn next_counter(prev: &str) -> String {
    format!(
        "SELECT n.failures, $3::bigint,
                CASE WHEN n.lock > n.old_until THEN $3 ELSE n.old_at END,
                GREATEST(n.lock, n.old_until),
                GREATEST($3 + $9, n.lock, n.old_until)
         FROM (
             SELECT c.failures, c.old_at, c.old_until,
                    GREATEST(CASE WHEN c.failures >= $4
                                  THEN $3 + LEAST($5 << LEAST(c.failures - $4, 32)::int, $6)
                                  ELSE 0 END,
                             CASE WHEN $7 > 0 AND $3 - c.last < $7 THEN $3 + $8 ELSE 0 END) AS lock
             FROM (
                 SELECT CASE WHEN p.failures IS NULL OR $3 - p.last > $9
                             THEN 1 ELSE p.failures + 1 END AS failures,
                        p.last, p.old_at, p.old_until
                 FROM ({prev}) AS p (failures, last, old_at, old_until)
             ) AS c
         ) AS n"
    )
}

fn record_failure_sql() -> String {
    format!(
        "INSERT INTO login_failures AS f
             (kind, key, failures, last_failure, locked_at, locked_until, expires_at)
         SELECT $1, $2, * FROM ({first}) AS first
         ON CONFLICT (kind, key) DO UPDATE
         SET (failures, last_failure, locked_at, locked_until, expires_at) = ({next}),
             in_flight = GREATEST(f.in_flight - 1, 0)
         RETURNING failures, locked_at, locked_until",
        first = next_counter("SELECT NULL::bigint, NULL::bigint, 0::bigint, 0::bigint"),
        next = next_counter("SELECT f.failures, f.last_failure, f.locked_at, f.locked_until"),
    )
}

/// Postgres text cannot hold U+0000; a key with one still gets a counter.
fn counter_key(key: &str) -> String {
    key.replace('\0', "\u{fffd}")
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

impl PgStore {
    /// Deletes counters that neither lock nor count any more.
    pub(super) async fn purge_login_failures(&self, now_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM login_failures WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl LockoutStore for PgStore {
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
            .bind(counter_key(key))
            .bind(now_ms)
            .bind(i64::from(policy.max_failures))
            .bind(policy.failure_reset_ms)
            .bind(lease_ms)
            .bind(nonce)
            .fetch_one(&self.pool)
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
            "UPDATE login_failures SET in_flight = GREATEST(in_flight - 1, 0),
                 failures = CASE WHEN $3 THEN 0 ELSE failures END,
                 last_failure = CASE WHEN $3 THEN 0 ELSE last_failure END
             WHERE kind = $1 AND key = $2",
        )
        .bind(kind.as_str())
        .bind(counter_key(key))
        .bind(succeeded)
        .execute(&self.pool)
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
        let key = counter_key(key);
        let (failures, locked_at, locked_until): (i64, i64, i64) =
            sqlx::query_as(&record_failure_sql())
                .bind(kind.as_str())
                .bind(&key)
                .bind(now_ms)
                .bind(i64::from(policy.max_failures))
                .bind(policy.wait_increment_ms)
                .bind(policy.max_wait_ms)
                .bind(policy.quick_check_ms)
                .bind(policy.quick_wait_ms)
                .bind(policy.failure_reset_ms)
                .fetch_one(&self.pool)
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
        let key = counter_key(key);
        sqlx::query_scalar(
            "SELECT locked_until FROM login_failures WHERE kind = $1 AND key = $2 AND locked_until > $3",
        )
        .bind(kind.as_str())
        .bind(&key)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)
    }

    async fn clear_login_failures(&self, kind: FailureKind, key: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM login_failures WHERE kind = $1 AND key = $2")
            .bind(kind.as_str())
            .bind(counter_key(key))
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_lockouts(&self, now_ms: i64) -> Result<Vec<Lockout>, StoreError> {
        let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT kind, key, failures, last_failure, locked_until FROM login_failures
             WHERE locked_until > $1 ORDER BY locked_until DESC, kind, key",
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
    //! The SQLite store's counter tests, against the server
    //! `IDP_TEST_POSTGRES_URL` names (skipped when it is unset), plus a race
    //! between separate pools, as between instances.
    use super::*;
    use crate::store::postgres::testdb;

    const POLICY: LockPolicy = LockPolicy {
        max_failures: 3,
        wait_increment_ms: 1000,
        max_wait_ms: 5000,
        failure_reset_ms: 60_000,
        quick_check_ms: 0,
        quick_wait_ms: 0,
    };

    #[tokio::test]
    async fn back_off_doubles_up_to_the_cap_and_resets() {
        let Some((s, _)) = testdb::fresh().await else {
            return;
        };
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
        assert_eq!(
            s.login_lock(FailureKind::Ip, "doc", t - 1).await.unwrap(),
            None
        );
        assert_eq!(s.list_lockouts(t - 1).await.unwrap().len(), 1);
        t += POLICY.failure_reset_ms + 1;
        let st = s
            .record_login_failure(user, "doc", t, &POLICY)
            .await
            .unwrap();
        assert_eq!((st.failures, st.locked_until), (1, None));
        assert!(s.clear_login_failures(user, "doc").await.unwrap());
        assert!(!s.clear_login_failures(user, "doc").await.unwrap());
        // The first failure can lock already.
        let once = LockPolicy {
            max_failures: 1,
            ..POLICY
        };
        let st = s
            .record_login_failure(user, "x\0y", t, &once)
            .await
            .unwrap();
        assert_eq!((st.failures, st.locked_until), (1, Some(t + 1000)));
        assert_eq!(s.login_lock(user, "x\0y", t).await.unwrap(), Some(t + 1000));
    }

    #[tokio::test]
    async fn reservations_bound_the_checks() {
        let Some((s, _)) = testdb::fresh().await else {
            return;
        };
        crate::store::scenarios::reservations_bound_the_checks(std::sync::Arc::new(s)).await;
    }

    #[tokio::test]
    async fn quick_failures_lock_and_old_rows_are_purged() {
        let Some((s, _)) = testdb::fresh().await else {
            return;
        };
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
    }

    /// Four pools (four "instances") record 80 failures of one new key at
    /// once: every one is counted, each count seen exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn parallel_failures_from_several_pools_are_all_counted() {
        let Some((_, url)) = testdb::fresh().await else {
            return;
        };
        let mut pools = Vec::new();
        for _ in 0..4 {
            pools.push(std::sync::Arc::new(PgStore::open(&url).await.unwrap()));
        }
        let tasks: Vec<_> = (0..80)
            .map(|i| {
                let s = pools[i % pools.len()].clone();
                tokio::spawn(async move {
                    s.record_login_failure(FailureKind::User, "doc", 5_000 + i as i64, &POLICY)
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
        assert_eq!(seen, (1..=80).collect::<Vec<_>>());
    }
}
