//! Brute-force counters: the Rust both backends share. Their statements for
//! a reservation, a failure and its release differ (each dialect's way of
//! reading the conflicting row safely), so each backend passes its own.

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

pub(crate) fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// `impl LockoutStore for $store`, reading from `self.$read` and writing
/// through `self.$write`, with the
/// backend's `RESERVE` (`$1` kind, `$2` key, `$3` now, `$4` max_failures,
/// `$5` failure_reset, `$6` lease, `$7` nonce → (won, locked_until)),
/// `RECORD_FAILURE` (`$1`..`$3` as above, `$4` max_failures,
/// `$5` wait_increment, `$6` max_wait, `$7` quick_check, `$8` quick_wait,
/// `$9` failure_reset → (failures, locked_at, locked_until)), `SETTLE` (a
/// success: `$1` the name's key, `$2` the address's or NULL, `$3` now,
/// `$4`/`$5` the kinds `user`/`ip` → (kind, locked_until) of each row
/// settled) and the name of its two-argument maximum (`$max`: `MAX` or
/// `GREATEST`).
macro_rules! lockout_store {
    ($store:ty, $read:ident, $write:ident, $reserve:expr, $record_failure:expr, $settle:expr, $max:literal) => {
        $crate::store::shared::lockout_store!(@common $store, $read, $write, $reserve, $record_failure, $settle, $max);

        impl $store {
            async fn hot_login_lock(
                &self,
                kind: $crate::store::FailureKind,
                key: &str,
                now_ms: i64,
            ) -> Result<Option<i64>, $crate::store::StoreError> {
                sqlx::query_scalar($crate::store::shared::lockouts::LOGIN_LOCK_SQL)
                    .bind(kind.as_str())
                    .bind($crate::store::shared::lockouts::counter_key(key))
                    .bind(now_ms)
                    .fetch_optional(&self.$read)
                    .await
                    .map_err($crate::store::shared::unavailable)
            }
        }
    };
    (@common $store:ty, $read:ident, $write:ident, $reserve:expr, $record_failure:expr, $settle:expr, $max:literal) => {
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
                let (won, locked_until): (bool, i64) = sqlx::query_as($reserve)
                    .bind(kind.as_str())
                    .bind(counter_key(key))
                    .bind(now_ms)
                    .bind(i64::from(policy.max_failures))
                    .bind(policy.failure_reset_ms)
                    .bind(lease_ms)
                    .bind(nonce)
                    .fetch_one(&self.$write)
                    .await
                    .map_err($crate::store::shared::unavailable)?;
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
                $crate::store::shared::run(query, &self.$write).await
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
                self.hot_login_lock(kind, key, now_ms).await
            }

            async fn purge_login_failures(
                &self,
                now_ms: i64,
                limit: u32,
            ) -> Result<u64, $crate::store::StoreError> {
                let query = sqlx::query($crate::store::shared::lockouts::PURGE_SQL)
                    .bind(now_ms)
                    .bind(i64::from(limit));
                $crate::store::shared::changed(query, &self.$write).await
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
}

pub(crate) use lockout_store;
