//! Brute-force counters: the Rust both backends share. Their statements for
//! a reservation, a failure and a success's settling differ in how they
//! read the conflicting row (each dialect's safe way), so each backend
//! passes its own; what a failure does to a counter is written once, here
//! (`next_counter`).

/// Postgres text cannot hold U+0000; a key with one still gets a counter, the
/// same on both backends.
pub(crate) fn counter_key(key: &str) -> String {
    key.replace('\0', "\u{fffd}")
}

/// The lockout of counter `$2` of kind `$1` still running at `$3`
/// (`LockoutStore::login_lock`, read before every API key check: the SQLite
/// backend runs it as a hot read, `store::sqlite::hot`).
pub(crate) const LOGIN_LOCK_SQL: &str = "SELECT locked_until FROM login_failures
     WHERE kind = $1 AND key = $2 AND locked_until > $3";

/// Deletes up to `$2` counters that at `$1` neither lock nor count any
/// more (as the grants' purge, a chunk a statement).
pub(crate) const PURGE_SQL: &str = "DELETE FROM login_failures WHERE (kind, key) IN
     (SELECT kind, key FROM login_failures WHERE expires_at <= $1 LIMIT $2)";

/// The row of counter `$2` of kind `$1`, or none: the tail of a `SELECT`
/// that reads `f.*` and stays one row (NULLs for a new counter).
pub(crate) const CURRENT_ROW: &str =
    "FROM (SELECT 1) AS one LEFT JOIN login_failures AS f ON f.kind = $1 AND f.key = $2";

/// The counter after one more failure, as `(failures, last_failure,
/// locked_at, locked_until, expires_at)`, from `prev`: a row of
/// `(failures, last, old_at, old_until)`, the previous counter, or NULL
/// failures and zeros for a new one. `$3` now, `$4` max_failures,
/// `$5` wait_increment, `$6` max_wait, `$7` quick_check, `$8` quick_wait,
/// `$9` failure_reset. The shift is capped at 32 (validation keeps
/// wait_increment under 2^27 ms) so it cannot overflow. A row keeps the
/// longer of its old and new lockout. Written once for both dialects:
/// `greatest` and `least` name their many-argument maximum and minimum
/// (`MAX`/`MIN` on SQLite, `GREATEST`/`LEAST` on Postgres).
pub(crate) fn next_counter(prev: &str, greatest: &str, least: &str) -> String {
    format!(
        "SELECT n.failures, CAST($3 AS BIGINT),
                CASE WHEN n.lock > n.old_until THEN $3 ELSE n.old_at END,
                {greatest}(n.lock, n.old_until),
                {greatest}($3 + $9, n.lock, n.old_until)
         FROM (
             SELECT c.failures, c.old_at, c.old_until,
                    {greatest}(CASE WHEN c.failures >= $4
                                    THEN $3 + {least}($5 << CAST({least}(c.failures - $4, 32) AS INTEGER), $6)
                                    ELSE 0 END,
                               CASE WHEN $7 > 0 AND $3 - c.last < $7 THEN $3 + $8 ELSE 0 END) AS lock
             FROM (
                 SELECT CASE WHEN p.failures IS NULL OR $3 - p.last > $9
                             THEN 1 ELSE p.failures + 1 END AS failures,
                        p.last, p.old_at, p.old_until
                 FROM ({prev}) AS p
             ) AS c
         ) AS n"
    )
}

pub(crate) fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// `impl LockoutStore for $store`, reading from `self.$read` and writing
/// through `self.$write`, with the read before every API key check made
/// the `$lock_read` way (`sqlx`, or `hot` on SQLite), and the
/// backend's `RESERVE` (`$1` kind, `$2` key, `$3` now, `$4` max_failures,
/// `$5` failure_reset, `$6` lease, `$7` nonce → (won, locked_until); no
/// row when the counter holds this very reservation already, its nonce and
/// its lease, so that a second run of one call takes no second place),
/// `RECORD_FAILURE` (`$1`..`$3` as above, `$4` max_failures,
/// `$5` wait_increment, `$6` max_wait, `$7` quick_check, `$8` quick_wait,
/// `$9` failure_reset → (failures, locked_at, locked_until)), `SETTLE` (a
/// success: `$1` the name's key, `$2` the address's or NULL, `$3` now,
/// `$4`/`$5` the kinds `user`/`ip` → (kind, locked_until) of each row
/// settled) and the name of its two-argument maximum (`$max`: `MAX` or
/// `GREATEST`).
macro_rules! lockout_store {
    ($store:ty, $read:ident, $write:ident, $lock_read:ident, $reserve:expr, $record_failure:expr, $settle:expr, $max:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::LockoutStore for $store {
            async fn reserve_login_attempt(
                &self,
                kind: $crate::store::FailureKind,
                key: &str,
                now_ms: i64,
                policy: &$crate::store::LockPolicy,
                lease_ms: i64,
                nonce: i64,
            ) -> Result<$crate::store::Reservation, $crate::store::StoreError> {
                use $crate::store::shared::lockouts::counter_key;
                use $crate::store::shared::unavailable;
                let key = counter_key(key);
                // No ping before it (`Conns::fetch_rerunnable`): a second
                // run finds its own grant (`$reserve` updates no row whose
                // nonce and lease are this call's) and answers with no row.
                let row = self
                    .$write
                    .fetch_rerunnable(|| {
                        sqlx::query($reserve)
                            .bind(kind.as_str())
                            .bind(key.as_str())
                            .bind(now_ms)
                            .bind(i64::from(policy.max_failures))
                            .bind(policy.failure_reset_ms)
                            .bind(lease_ms)
                            .bind(nonce)
                    })
                    .await
                    .map_err(unavailable)?;
                let Some(row) = row else {
                    return Ok($crate::store::Reservation::Granted);
                };
                let (won, locked_until): (bool, i64) =
                    sqlx::FromRow::from_row(&row).map_err(unavailable)?;
                Ok($crate::store::Reservation::from_row(
                    won,
                    locked_until,
                    now_ms,
                ))
            }

            async fn release_login_attempt(
                &self,
                kind: $crate::store::FailureKind,
                key: &str,
                succeeded: bool,
            ) -> Result<(), $crate::store::StoreError> {
                let query = sqlx::query(concat!(
                    "UPDATE login_failures SET in_flight = ",
                    $max,
                    "(in_flight - 1, 0),
                         failures = CASE WHEN $3 THEN 0 ELSE failures END,
                         last_failure = CASE WHEN $3 THEN 0 ELSE last_failure END
                     WHERE kind = $1 AND key = $2"
                ))
                .bind(kind.as_str())
                .bind($crate::store::shared::lockouts::counter_key(key))
                .bind(succeeded);
                $crate::store::shared::Write(query).run(&self.$write).await
            }

            async fn settle_login_success(
                &self,
                user_key: &str,
                ip_key: Option<&str>,
                now_ms: i64,
            ) -> Result<Option<($crate::store::FailureKind, i64)>, $crate::store::StoreError> {
                use $crate::store::FailureKind;
                use $crate::store::shared::lockouts::counter_key;
                let rows: Vec<(String, i64)> = sqlx::query_as($settle)
                    .bind(counter_key(user_key))
                    .bind(ip_key.map(counter_key))
                    .bind(now_ms)
                    .bind(FailureKind::User.as_str())
                    .bind(FailureKind::Ip.as_str())
                    .fetch_all(&self.$write)
                    .await
                    .map_err($crate::store::shared::unavailable)?;
                let mut lock: Option<(FailureKind, i64)> = None;
                for kind in [FailureKind::User, FailureKind::Ip] {
                    let until = rows
                        .iter()
                        .filter(|(k, until)| k == kind.as_str() && *until > now_ms)
                        .map(|(_, until)| *until)
                        .max();
                    if let Some(until) = until
                        && lock.is_none_or(|(_, u)| until > u)
                    {
                        lock = Some((kind, until));
                    }
                }
                Ok(lock)
            }

            async fn record_login_failure(
                &self,
                kind: $crate::store::FailureKind,
                key: &str,
                now_ms: i64,
                policy: &$crate::store::LockPolicy,
            ) -> Result<$crate::store::LockState, $crate::store::StoreError> {
                use $crate::store::shared::lockouts::{count, counter_key};
                let (failures, locked_at, locked_until): (i64, i64, i64) =
                    sqlx::query_as($record_failure)
                        .bind(kind.as_str())
                        .bind(counter_key(key))
                        .bind(now_ms)
                        .bind(i64::from(policy.max_failures))
                        .bind(policy.wait_increment_ms)
                        .bind(policy.max_wait_ms)
                        .bind(policy.quick_check_ms)
                        .bind(policy.quick_wait_ms)
                        .bind(policy.failure_reset_ms)
                        .fetch_one(&self.$write)
                        .await
                        .map_err($crate::store::shared::unavailable)?;
                let locked = locked_until > now_ms;
                Ok($crate::store::LockState {
                    failures: count(failures),
                    locked_until: locked.then_some(locked_until),
                    lock_started: locked && locked_at == now_ms,
                })
            }

            async fn login_lock(
                &self,
                kind: $crate::store::FailureKind,
                key: &str,
                now_ms: i64,
            ) -> Result<Option<i64>, $crate::store::StoreError> {
                $crate::store::shared::lockout_store!(@login_lock $lock_read, self, $read, kind, key, now_ms)
            }

            async fn purge_login_failures(
                &self,
                now_ms: i64,
                limit: u32,
            ) -> Result<u64, $crate::store::StoreError> {
                let query = sqlx::query($crate::store::shared::lockouts::PURGE_SQL)
                    .bind(now_ms)
                    .bind(i64::from(limit));
                $crate::store::shared::Write(query).changed(&self.$write).await
            }

            async fn clear_login_failures(
                &self,
                kind: $crate::store::FailureKind,
                key: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                let done = sqlx::query("DELETE FROM login_failures WHERE kind = $1 AND key = $2")
                    .bind(kind.as_str())
                    .bind($crate::store::shared::lockouts::counter_key(key))
                    .execute(&self.$write)
                    .await
                    .map_err($crate::store::shared::unavailable)?;
                Ok(done.rows_affected() > 0)
            }

            async fn list_lockouts(
                &self,
                now_ms: i64,
            ) -> Result<Vec<$crate::store::Lockout>, $crate::store::StoreError> {
                use $crate::store::StoreError;
                let query = sqlx::query_as(
                    "SELECT kind, key, failures, last_failure, locked_until FROM login_failures
                     WHERE locked_until > $1 ORDER BY locked_until DESC, kind, key",
                )
                .bind(now_ms);
                $crate::store::shared::all_rows(
                    query,
                    &self.$read,
                    |(kind, key, failures, last_failure, locked_until): (
                        String,
                        String,
                        i64,
                        i64,
                        i64,
                    )| {
                        Ok($crate::store::Lockout {
                            kind: $crate::store::FailureKind::parse(&kind).ok_or_else(|| {
                                StoreError::Corrupt(format!("login_failures.kind {kind:?}"))
                            })?,
                            key,
                            failures: $crate::store::shared::lockouts::count(failures),
                            last_failure,
                            locked_until,
                        })
                    },
                )
                .await
            }
        }
    };
    // The read before every API key check: through sqlx, or (SQLite) as a
    // hot read on the calling task (`store::sqlite::hot`).
    (@login_lock sqlx, $self:ident, $read:ident, $kind:ident, $key:ident, $now:ident) => {
        sqlx::query_scalar($crate::store::shared::lockouts::LOGIN_LOCK_SQL)
            .bind($kind.as_str())
            .bind($crate::store::shared::lockouts::counter_key($key))
            .bind($now)
            .fetch_optional(&$self.$read)
            .await
            .map_err($crate::store::shared::unavailable)
    };
    (@login_lock hot, $self:ident, $read:ident, $kind:ident, $key:ident, $now:ident) => {{
        use $crate::store::rows::Arg;
        let key = $crate::store::shared::lockouts::counter_key($key);
        let args = [Arg::Text($kind.as_str()), Arg::Text(&key), Arg::Int($now)];
        let sql = $crate::store::shared::lockouts::LOGIN_LOCK_SQL;
        $self.hot_first(sql, &args, |row| row.int("locked_until")).await
    }};
}

pub(crate) use lockout_store;
