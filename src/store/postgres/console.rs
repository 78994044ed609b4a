//! The web console's sessions' SQL.

use async_trait::async_trait;

use super::{PgStore, unavailable};
use crate::store::rows::{SessionSummaryRow, live_sessions_sql};
use crate::store::{ConsoleSessionRecord, ConsoleStore, SessionSummary, StoreError};

const COLUMNS: &str = "cookie_hash, session_id, user_id, csrf, created_at, expires_at";

#[async_trait]
impl ConsoleStore for PgStore {
    async fn insert_console_session(&self, r: &ConsoleSessionRecord) -> Result<(), StoreError> {
        let sql =
            format!("INSERT INTO console_sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
        sqlx::query(&sql)
            .bind(&r.cookie_hash)
            .bind(&r.session_id)
            .bind(&r.user_id)
            .bind(&r.csrf)
            .bind(r.created_at)
            .bind(r.expires_at)
            .execute(&self.pool)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db)
                    if db.is_foreign_key_violation() || db.is_unique_violation() =>
                {
                    StoreError::Conflict("the console session's login session is gone".into())
                }
                _ => unavailable(e),
            })?;
        Ok(())
    }

    async fn get_console_session(
        &self,
        cookie_hash: &str,
    ) -> Result<Option<ConsoleSessionRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM console_sessions WHERE cookie_hash = $1");
        sqlx::query_as(&sql)
            .bind(cookie_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)
    }

    async fn delete_console_session(&self, cookie_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE cookie_hash = $1")
            .bind(cookie_hash)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn list_live_sessions(
        &self,
        user_id: Option<&str>,
        now: i64,
        limit: u32,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        let rows: Vec<SessionSummaryRow> =
            sqlx::query_as(&live_sessions_sql("$1::text", "$2", "$3"))
                .bind(user_id)
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
