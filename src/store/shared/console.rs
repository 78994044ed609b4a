//! The web console's sessions' SQL.

pub(crate) const COLUMNS: &str = "cookie_hash, session_id, user_id, csrf, created_at, expires_at";

/// The console's session listing: live sessions with their latest refresh
/// token's client and issue time; `$1` a user id or NULL for all, `$2` now,
/// `$3` the limit. (`CAST($1 AS TEXT)` types the NULL for Postgres.)
pub(crate) const LIVE_SESSIONS: &str = "
    SELECT s.id, s.cookie_hash, s.user_id, s.auth_time, s.expires_at, s.ended_at,
           (SELECT r.client_id FROM refresh_tokens r WHERE r.session_id = s.id
             ORDER BY r.issued_at DESC LIMIT 1) AS client_id,
           (SELECT MAX(r.issued_at) FROM refresh_tokens r WHERE r.session_id = s.id) AS last_refresh
      FROM sessions s
     WHERE s.ended_at IS NULL AND s.expires_at > $2
       AND (CAST($1 AS TEXT) IS NULL OR s.user_id = $1)
     ORDER BY s.auth_time DESC, s.id
     LIMIT $3";

/// `impl ConsoleStore for $store`, reading from `self.$read` and writing
/// through `self.$write`.
macro_rules! console_store {
    ($store:ty, $read:ident, $write:ident) => {
        #[async_trait::async_trait]
        impl $crate::store::ConsoleStore for $store {
            async fn insert_console_session(
                &self,
                r: &$crate::store::ConsoleSessionRecord,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::shared::console::COLUMNS;
                let sql = format!(
                    "INSERT INTO console_sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
                );
                sqlx::query(&sql)
                    .bind(&r.cookie_hash)
                    .bind(&r.session_id)
                    .bind(&r.user_id)
                    .bind(&r.csrf)
                    .bind(r.created_at)
                    .bind(r.expires_at)
                    .execute(&self.$write)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db)
                            if db.is_foreign_key_violation() || db.is_unique_violation() =>
                        {
                            $crate::store::StoreError::Conflict(
                                "the console session's login session is gone".into(),
                            )
                        }
                        _ => $crate::store::shared::unavailable(e),
                    })?;
                Ok(())
            }

            async fn get_console_session(
                &self,
                cookie_hash: &str,
            ) -> Result<Option<$crate::store::ConsoleSessionRecord>, $crate::store::StoreError>
            {
                use $crate::store::shared::console::COLUMNS;
                let sql = format!("SELECT {COLUMNS} FROM console_sessions WHERE cookie_hash = $1");
                $crate::store::shared::find_by_key(&self.$read, &sql, cookie_hash).await
            }

            async fn delete_console_session(
                &self,
                cookie_hash: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                let sql = "DELETE FROM console_sessions WHERE cookie_hash = $1";
                $crate::store::shared::Write(sqlx::query(sql).bind(cookie_hash))
                    .change_row(&[cookie_hash], &self.$write)
                    .await
            }

            async fn list_live_sessions(
                &self,
                user_id: Option<&str>,
                now: i64,
                limit: u32,
            ) -> Result<Vec<$crate::store::SessionSummary>, $crate::store::StoreError> {
                if user_id.is_some_and($crate::store::shared::unstorable) {
                    return Ok(Vec::new());
                }
                let query = sqlx::query_as($crate::store::shared::console::LIVE_SESSIONS)
                    .bind(user_id)
                    .bind(now)
                    .bind(i64::from(limit));
                $crate::store::shared::all_rows(query, &self.$read, Ok).await
            }
        }
    };
}

pub(crate) use console_store;
