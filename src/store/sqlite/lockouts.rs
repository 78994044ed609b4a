//! Brute-force counters' SQL. A reservation, a failure and its lockout are
//! each one `INSERT ... SELECT ... ON CONFLICT DO UPDATE ... RETURNING`:
//! SQLite takes the write lock before the statement reads the old row, so
//! instances sharing the file never lose a count or over-grant a reservation.

use std::sync::LazyLock;

use super::SqliteStore;
use crate::store::shared::lockouts::{CURRENT_ROW, next_counter};

/// `$1` kind, `$2` key, `$3` now, `$4` max_failures, `$5` failure_reset,
/// `$6` lease, `$7` nonce. Granted (`ok`) when the counter is not locked and
/// its live failures plus the checks in flight leave room for one more, or
/// no check is in flight (after a lockout ends, one guess at a time: its
/// failure locks again for twice as long, as before); a
/// grant adds one to `in_flight`, renews the lease and writes the nonce, which
/// `RETURNING` compares to tell the caller whether its reservation won. A
/// counter that holds this nonce and this lease already granted this very
/// reservation (a second run of the statement): it is left alone and no row
/// returned.
const RESERVE: &str = "
INSERT INTO login_failures
    (kind, key, failures, last_failure, locked_at, locked_until, expires_at,
     in_flight, in_flight_until, grant_nonce)
SELECT $1, $2, c.failures, c.last, c.old_at, c.old_until,
       CASE WHEN c.ok THEN MAX(c.expires, $3 + $6) ELSE c.expires END,
       CASE WHEN c.ok THEN c.in_flight + 1 ELSE c.in_flight END,
       CASE WHEN c.ok THEN $3 + $6 ELSE c.until END,
       CASE WHEN c.ok THEN $7 ELSE c.nonce END
FROM (
    SELECT s.*, (s.old_until <= $3
                 AND (s.live_failures + s.in_flight < $4 OR s.in_flight = 0)) AS ok
    FROM (
        SELECT COALESCE(f.failures, 0) AS failures,
               COALESCE(f.last_failure, 0) AS last,
               COALESCE(f.locked_at, 0) AS old_at,
               COALESCE(f.locked_until, 0) AS old_until,
               COALESCE(f.expires_at, 0) AS expires,
               CASE WHEN f.failures IS NULL OR $3 - f.last_failure > $5
                    THEN 0 ELSE f.failures END AS live_failures,
               CASE WHEN f.in_flight_until > $3 THEN f.in_flight ELSE 0 END AS in_flight,
               COALESCE(f.in_flight_until, 0) AS until,
               COALESCE(f.grant_nonce, 0) AS nonce
        FROM (SELECT 1) AS one LEFT JOIN login_failures AS f ON f.kind = $1 AND f.key = $2
    ) AS s
) AS c
WHERE true
ON CONFLICT (kind, key) DO UPDATE SET
    expires_at = excluded.expires_at,
    in_flight = excluded.in_flight,
    in_flight_until = excluded.in_flight_until,
    grant_nonce = excluded.grant_nonce
WHERE login_failures.grant_nonce IS NOT $7 OR login_failures.in_flight_until IS NOT $3 + $6
RETURNING grant_nonce = $7, locked_until";

/// A failure (`shared::lockouts::next_counter`), from the counter as the
/// statement found it under SQLite's write lock.
static RECORD_FAILURE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO login_failures (kind, key, failures, last_failure, locked_at, locked_until, expires_at)
         SELECT $1, $2, * FROM ({next}) AS next
         WHERE true
         ON CONFLICT (kind, key) DO UPDATE SET
             failures = excluded.failures,
             last_failure = excluded.last_failure,
             locked_at = excluded.locked_at,
             locked_until = excluded.locked_until,
             expires_at = excluded.expires_at,
             in_flight = MAX(login_failures.in_flight - 1, 0)
         RETURNING failures, locked_at, locked_until",
        next = next_counter(
            &format!(
                "SELECT f.failures, f.last_failure AS last, COALESCE(f.locked_at, 0) AS old_at,
                        COALESCE(f.locked_until, 0) AS old_until {CURRENT_ROW}"
            ),
            "MAX",
            "MIN"
        ),
    )
});

/// A success settles both its places (`$1` the name's key, `$2` the
/// address's or NULL, `$3` now, `$4`/`$5` the kinds `user`/`ip`): each
/// gives one back, and the name's failures reset only while neither counter
/// is locked. The one writer runs it alone, so what it reads is current.
const SETTLE: &str = "
UPDATE login_failures SET in_flight = MAX(in_flight - 1, 0),
    failures = CASE WHEN kind = $4 AND NOT EXISTS (SELECT 1 FROM login_failures AS l
                                                   WHERE l.locked_until > $3
                                                     AND ((l.kind = $4 AND l.key = $1)
                                                          OR (l.kind = $5 AND l.key = $2)))
                    THEN 0 ELSE failures END,
    last_failure = CASE WHEN kind = $4 AND NOT EXISTS (SELECT 1 FROM login_failures AS l
                                                       WHERE l.locked_until > $3
                                                         AND ((l.kind = $4 AND l.key = $1)
                                                              OR (l.kind = $5 AND l.key = $2)))
                        THEN 0 ELSE last_failure END
WHERE (kind = $4 AND key = $1) OR (kind = $5 AND key = $2)
RETURNING kind, locked_until";

crate::store::shared::lockout_store!(
    SqliteStore,
    pool,
    writer,
    hot,
    RESERVE,
    RECORD_FAILURE.as_str(),
    SETTLE,
    "MAX"
);

#[cfg(test)]
mod tests {
    //! The shared counter scenarios, against a fresh SQLite database.
    use crate::store::scenarios::{self, scenario_tests};
    use crate::store::sqlite::testdb;

    scenario_tests!(testdb::fresh: back_off_doubles_up_to_the_cap_and_resets, quick_failures_lock_and_old_rows_are_purged, a_success_settles_both_counters, reservations_bound_the_checks, a_reservation_run_twice_takes_one_place);

    #[tokio::test]
    async fn parallel_failures_are_all_counted() {
        let Some((s, _dir)) = testdb::fresh().await else {
            return;
        };
        scenarios::failures_are_all_counted(&[std::sync::Arc::new(s)], 40).await;
    }
}
