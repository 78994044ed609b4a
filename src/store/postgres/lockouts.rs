//! Brute-force counters' SQL. A failure is counted and its lockout computed
//! by one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`. Under READ
//! COMMITTED a statement that reads the old row first could lose a count to a
//! concurrent one, so the update side computes from the conflicting row
//! itself, which Postgres locks and re-reads at its latest committed version:
//! instances sharing the database count every failure exactly once.

use std::sync::LazyLock;

use super::PgStore;
use crate::store::shared::lockouts::next_counter;

/// `$1` kind, `$2` key, `$3` now, `$4` max_failures, `$5` failure_reset,
/// `$6` lease, `$7` nonce. The same rule as the SQLite store's: granted
/// (`ok`) when the counter is unlocked and its live failures plus the checks
/// in flight leave room for one more, or none is in flight. The update side reads the conflicting
/// row, which Postgres locks and re-reads at its latest version, so two
/// instances never both take the last place. A counter that holds this
/// nonce and this lease already is this very reservation, granted by the
/// statement's first run (its connection broke before the answer:
/// `Conns::fetch_rerunnable`): left alone, no row returned.
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
WHERE f.grant_nonce IS DISTINCT FROM $7 OR f.in_flight_until IS DISTINCT FROM $3 + $6
RETURNING f.grant_nonce = $7, f.locked_until";

/// A failure (`shared::lockouts::next_counter`). Under READ COMMITTED the
/// update side computes from the conflicting row itself, which Postgres
/// locks and re-reads at its latest committed version.
static RECORD_FAILURE: LazyLock<String> = LazyLock::new(|| {
    let next = |prev| next_counter(prev, "GREATEST", "LEAST");
    format!(
        "INSERT INTO login_failures AS f
             (kind, key, failures, last_failure, locked_at, locked_until, expires_at)
         SELECT $1, $2, * FROM ({first}) AS first
         ON CONFLICT (kind, key) DO UPDATE
         SET (failures, last_failure, locked_at, locked_until, expires_at) = ({next}),
             in_flight = GREATEST(f.in_flight - 1, 0)
         RETURNING failures, locked_at, locked_until",
        first = next(
            "SELECT NULL::bigint AS failures, NULL::bigint AS last, 0::bigint AS old_at, 0::bigint AS old_until"
        ),
        next = next(
            "SELECT f.failures, f.last_failure AS last, f.locked_at AS old_at, f.locked_until AS old_until"
        ),
    )
});

/// A success settles both its places (`$1` the name's key, `$2` the
/// address's or NULL, `$3` now, `$4`/`$5` the kinds `user`/`ip`): each
/// gives one back, and the name's failures reset only while neither counter
/// is locked. The rows are locked first, the name's before the address's,
/// and read at their latest version: concurrent settlings lock in one order
/// (the other counter statements lock one row each), so they cannot
/// deadlock, and a lockout committed meanwhile is seen.
const SETTLE: &str = "
WITH t AS (
    SELECT kind, key, locked_until FROM login_failures
    WHERE (kind = $4 AND key = $1) OR (kind = $5 AND key = $2)
    ORDER BY kind = $4 DESC
    FOR UPDATE
), l AS (
    SELECT COALESCE(MAX(locked_until), 0) > $3 AS locked FROM t
)
UPDATE login_failures AS f SET in_flight = GREATEST(f.in_flight - 1, 0),
    failures = CASE WHEN f.kind = $4 AND NOT l.locked THEN 0 ELSE f.failures END,
    last_failure = CASE WHEN f.kind = $4 AND NOT l.locked THEN 0 ELSE f.last_failure END
FROM t, l
WHERE f.kind = t.kind AND f.key = t.key
RETURNING f.kind, f.locked_until";

crate::store::shared::lockout_store!(
    PgStore,
    pool,
    pool,
    sqlx,
    RESERVE,
    RECORD_FAILURE.as_str(),
    SETTLE,
    "GREATEST"
);

#[cfg(test)]
mod tests {
    //! The shared counter scenarios, against the server
    //! `IDP_TEST_POSTGRES_URL` names (skipped when it is unset), plus a race
    //! between separate pools, as between instances.
    use std::sync::Arc;

    use super::*;
    use crate::store::postgres::testdb;
    use crate::store::scenarios::{self, scenario_tests};

    scenario_tests!(testdb::fresh: back_off_doubles_up_to_the_cap_and_resets, a_success_settles_both_counters, reservations_bound_the_checks, a_reservation_run_twice_takes_one_place, quick_failures_lock_and_old_rows_are_purged);

    /// Four pools (four "instances") record 80 failures of one new key at
    /// once: every one is counted, each count seen exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn parallel_failures_from_several_pools_are_all_counted() {
        let Some((_, url)) = testdb::fresh().await else {
            return;
        };
        let mut pools: Vec<Arc<dyn crate::store::Store>> = Vec::new();
        for _ in 0..4 {
            pools.push(Arc::new(PgStore::open(&url).await.unwrap()));
        }
        scenarios::failures_are_all_counted(&pools, 80).await;
    }
}
