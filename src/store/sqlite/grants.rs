//! Sessions, authorization codes, refresh-token families and the deny-list:
//! most of it shared with the other backend (`store::shared::grants`); here
//! the three writes that must win against a rotation in flight. SQLite runs
//! one write at a time, so each is a plain statement or transaction.

use super::{SqliteStore, unavailable};
use crate::store::rows::REFRESH_COLUMNS;
use crate::store::{RefreshRecord, StoreError};

crate::store::shared::grant_store!(SqliteStore, pool, writer);

impl SqliteStore {
    async fn end_session_tx(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await.map_err(unavailable)?;
        let done = sqlx::query(
            "UPDATE sessions SET ended_at = $1, cookie_hash = NULL WHERE id = $2 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE session_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    /// Inserts a token; born revoked when its family was revoked or its
    /// session ended meanwhile (a replay at another instance can revoke the
    /// family while this rotation is in flight). SQLite runs one write at a
    /// time, so the revocation either sees this row or this row sees it.
    async fn insert_refresh_tx(&self, t: &RefreshRecord) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO refresh_tokens ({REFRESH_COLUMNS})
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, COALESCE($11,
                 (SELECT MIN(revoked_at) FROM refresh_tokens WHERE family_id = $2),
                 (SELECT ended_at FROM sessions WHERE id = $3))"
        ))
        .bind(&t.token_hash)
        .bind(&t.family_id)
        .bind(&t.session_id)
        .bind(t.client_id.as_str())
        .bind(&t.user_id)
        .bind(&t.scope)
        .bind(t.auth_time)
        .bind(t.issued_at)
        .bind(t.expires_at)
        .bind(t.used_at)
        .bind(t.revoked_at)
        .execute(&self.writer)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn revoke_family_tx(&self, family_id: &str, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(family_id)
        .execute(&self.writer)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected())
    }
}
