//! Sessions, authorization codes, refresh-token families and the deny-list:
//! the SQL both backends run alike. Single use is one conditional
//! `UPDATE ... WHERE used_at IS NULL ... RETURNING`, so two requests racing
//! for one code or refresh token find exactly one winner (SQLite runs one
//! write at a time; under Postgres's READ COMMITTED the second update waits
//! for the first to commit and re-checks its `WHERE` on the committed row).
//!
//! The four writes that must also win against a rotation in flight (ending
//! a session, inserting a successor, rotating a token into its successor,
//! revoking a family) take locks the dialects spell differently: each
//! backend implements them as inherent methods `end_session_tx`,
//! `insert_refresh_tx`, `rotate_refresh_tx` (the spent token's row, or
//! `None` when it was not live; the claim's time is the successor's
//! `issued_at`) and `revoke_family_tx`, which the trait impl here calls.

use crate::store::Expiring;

/// Whether access token `$1` (its `jti`) was revoked: read for every bearer
/// a resource endpoint checks (the SQLite backend's is a hot read,
/// `store::sqlite::hot`, invoking only `@common`).
pub(crate) const JTI_DENIED_SQL: &str = "SELECT 1 AS denied FROM revoked_tokens WHERE jti = $1";

/// `DELETE` up to `$2` rows of `$table` expired at `$1`, by their `$key`
/// (the oldest come first in a table's own order, so the scan stops early).
macro_rules! purge_sql {
    ($table:literal, $key:literal) => {
        concat!(
            "DELETE FROM ",
            $table,
            " WHERE ",
            $key,
            " IN (SELECT ",
            $key,
            " FROM ",
            $table,
            " WHERE expires_at <= $1 LIMIT $2)"
        )
    };
}

/// The statement that purges a chunk of `table` (`GrantStore::purge_expired`).
pub(crate) fn purge_sql(table: Expiring) -> &'static str {
    match table {
        Expiring::DeniedTokens => purge_sql!("revoked_tokens", "jti"),
        Expiring::AuthCodes => purge_sql!("auth_codes", "code_hash"),
        Expiring::RefreshTokens => purge_sql!("refresh_tokens", "token_hash"),
        Expiring::Sessions => purge_sql!("sessions", "id"),
    }
}

/// `impl GrantStore for $store`, reading from `self.$read` and writing
/// through `self.$write`.
macro_rules! grant_store {
    ($store:ty, $read:ident, $write:ident) => {
        $crate::store::shared::grant_store!(@common $store, $read, $write);

        impl $store {
            async fn hot_jti_denied(&self, jti: &str) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::shared::{find_by_key, grants::JTI_DENIED_SQL};
                let row: Option<(i32,)> = find_by_key(&self.$read, JTI_DENIED_SQL, jti).await?;
                Ok(row.is_some())
            }
        }
    };
    (@common $store:ty, $read:ident, $write:ident) => {
        impl $store {
            async fn one_session(
                &self,
                filter: &str,
                value: &str,
            ) -> Result<Option<$crate::store::SessionRecord>, $crate::store::StoreError> {
                use $crate::store::rows::SESSION_COLUMNS;
                let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE {filter} = $1");
                $crate::store::shared::find_by_key(&self.$read, &sql, value).await
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::GrantStore for $store {
            async fn insert_session(
                &self,
                s: &$crate::store::SessionRecord,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::shared::{binds, unavailable};
                // No ping before it (`Conns::fetch_rerunnable`): a second
                // run finds the session its first run stored.
                let stored = self
                    .$write
                    .fetch_rerunnable(|| {
                        binds::insert_session(s, binds::TakenId::FindsItsOwn)
                    })
                    .await
                    .map_err(unavailable)?;
                // No row: another session holds the id (a UUID drawn twice).
                // The server's failure, not the client's: answered as the
                // store's (503), without naming the other session.
                match stored {
                    Some(_) => Ok(()),
                    None => Err($crate::store::StoreError::Unavailable(
                        "a new session's id is taken".into(),
                    )),
                }
            }

            async fn get_session(
                &self,
                id: &str,
            ) -> Result<Option<$crate::store::SessionRecord>, $crate::store::StoreError> {
                self.one_session("id", id).await
            }

            async fn end_session(
                &self,
                id: &str,
                now: i64,
            ) -> Result<bool, $crate::store::StoreError> {
                if $crate::store::shared::unstorable(id) {
                    return Ok(false);
                }
                self.end_session_tx(id, now).await
            }

            async fn insert_code(
                &self,
                c: &$crate::store::CodeRecord,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::rows::CODE_COLUMNS;
                let sql = format!(
                    "INSERT INTO auth_codes ({CODE_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                );
                let query = sqlx::query(&sql)
                .bind(&c.code_hash)
                .bind(c.client_id.as_str())
                .bind(c.redirect_uri.as_str())
                .bind(&c.user_id)
                .bind(&c.session_id)
                .bind(&c.scope)
                .bind(c.nonce.as_deref())
                .bind(c.code_challenge.as_deref())
                .bind(c.auth_time)
                .bind(c.expires_at);
                $crate::store::shared::Write(query).run(&self.$write).await
            }

            async fn redeem_code(
                &self,
                code_hash: &str,
                now: i64,
            ) -> Result<$crate::store::CodeRedemption, $crate::store::StoreError> {
                use $crate::store::CodeRedemption;
                use $crate::store::rows::CODE_COLUMNS;
                use $crate::store::shared::{find_by_key, unavailable, unstorable};
                if unstorable(code_hash) {
                    return Ok(CodeRedemption::Unknown);
                }
                let won: Option<$crate::store::CodeRecord> = sqlx::query_as(&format!(
                    "UPDATE auth_codes SET used_at = $1
                     WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1
                     RETURNING {CODE_COLUMNS}"
                ))
                .bind(now)
                .bind(code_hash)
                .fetch_optional(&self.$write)
                .await
                .map_err(unavailable)?;
                if let Some(row) = won {
                    return Ok(CodeRedemption::Redeemed(row));
                }
                let sql = "SELECT family_id FROM auth_codes WHERE code_hash = $1";
                let spent: Option<(Option<String>,)> = find_by_key(&self.$read, sql, code_hash).await?;
                Ok(match spent {
                    Some((family_id,)) => CodeRedemption::Spent { family_id },
                    None => CodeRedemption::Unknown,
                })
            }

            async fn set_code_family(
                &self,
                code_hash: &str,
                family_id: &str,
            ) -> Result<(), $crate::store::StoreError> {
                let query = sqlx::query("UPDATE auth_codes SET family_id = $1 WHERE code_hash = $2")
                    .bind(family_id)
                    .bind(code_hash);
                $crate::store::shared::Write(query).run(&self.$write).await
            }

            async fn insert_refresh(
                &self,
                t: &$crate::store::RefreshRecord,
            ) -> Result<(), $crate::store::StoreError> {
                self.insert_refresh_tx(t).await
            }

            async fn rotate_refresh(
                &self,
                presented: &str,
                successor: &$crate::store::RefreshRecord,
            ) -> Result<$crate::store::RefreshClaim, $crate::store::StoreError> {
                use $crate::store::RefreshClaim;
                if $crate::store::shared::unstorable(presented) {
                    return Ok(RefreshClaim::Unknown);
                }
                if let Some(spent) = self.rotate_refresh_tx(presented, successor).await? {
                    return Ok(RefreshClaim::Claimed(spent));
                }
                Ok(match self.get_refresh(presented).await? {
                    None => RefreshClaim::Unknown,
                    Some(r) if r.used_at.is_some() && r.revoked_at.is_none() => {
                        RefreshClaim::Replayed(r)
                    }
                    Some(_) => RefreshClaim::Inactive,
                })
            }

            async fn get_refresh(
                &self,
                token_hash: &str,
            ) -> Result<Option<$crate::store::RefreshRecord>, $crate::store::StoreError> {
                use $crate::store::rows::REFRESH_COLUMNS;
                let sql = format!("SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = $1");
                $crate::store::shared::find_by_key(&self.$read, &sql, token_hash).await
            }

            async fn revoke_family(
                &self,
                family_id: &str,
                now: i64,
            ) -> Result<u64, $crate::store::StoreError> {
                if $crate::store::shared::unstorable(family_id) {
                    return Ok(0);
                }
                self.revoke_family_tx(family_id, now).await
            }

            async fn deny_jti(
                &self,
                jti: &str,
                expires_at: i64,
            ) -> Result<(), $crate::store::StoreError> {
                let query = sqlx::query(
                    "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2)
                     ON CONFLICT (jti) DO NOTHING",
                )
                .bind(jti)
                .bind(expires_at);
                $crate::store::shared::Write(query).run(&self.$write).await
            }

            async fn is_jti_denied(&self, jti: &str) -> Result<bool, $crate::store::StoreError> {
                if $crate::store::shared::unstorable(jti) {
                    return Ok(false);
                }
                self.hot_jti_denied(jti).await
            }

            async fn purge_expired(
                &self,
                table: $crate::store::Expiring,
                now: i64,
                limit: u32,
            ) -> Result<u64, $crate::store::StoreError> {
                let query = sqlx::query($crate::store::shared::grants::purge_sql(table))
                    .bind(now)
                    .bind(i64::from(limit));
                $crate::store::shared::Write(query).changed(&self.$write).await
            }
        }
    };
}

pub(crate) use grant_store;
