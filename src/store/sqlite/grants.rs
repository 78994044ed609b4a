//! Sessions, authorization codes, refresh-token families and the deny-list.
//! Single use is enforced by conditional `UPDATE ... RETURNING`, so two
//! requests racing for one code or refresh token find exactly one winner.

use async_trait::async_trait;

use super::{SqliteStore, unavailable};
use crate::store::rows::{
    CODE_COLUMNS, CodeRow, REFRESH_COLUMNS, RefreshRow, SESSION_COLUMNS, SessionRow,
};
use crate::store::{
    CodeRecord, CodeRedemption, GrantStore, RefreshClaim, RefreshRecord, SessionRecord, StoreError,
};

#[async_trait]
impl GrantStore for SqliteStore {
    async fn insert_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
        ))
        .bind(&s.id)
        .bind(s.cookie_hash.as_deref())
        .bind(&s.user_id)
        .bind(s.auth_time)
        .bind(s.expires_at)
        .bind(s.ended_at)
        .execute(&self.writer)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn get_session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(row.map(Into::into))
    }

    async fn find_session_by_cookie(
        &self,
        cookie_hash: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE cookie_hash = ?"
        ))
        .bind(cookie_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(row.map(Into::into))
    }

    async fn end_session(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await.map_err(unavailable)?;
        let done = sqlx::query(
            "UPDATE sessions SET ended_at = ?, cookie_hash = NULL WHERE id = ? AND ended_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_code(&self, c: &CodeRecord) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO auth_codes ({CODE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&c.code_hash)
        .bind(&c.client_id)
        .bind(&c.redirect_uri)
        .bind(&c.user_id)
        .bind(&c.session_id)
        .bind(&c.scope)
        .bind(c.nonce.as_deref())
        .bind(c.code_challenge.as_deref())
        .bind(c.auth_time)
        .bind(c.expires_at)
        .execute(&self.writer)
        .await
        .map_err(unavailable)?;
        Ok(())
    }

    async fn redeem_code(&self, code_hash: &str, now: i64) -> Result<CodeRedemption, StoreError> {
        let won: Option<CodeRow> = sqlx::query_as(&format!(
            "UPDATE auth_codes SET used_at = ?1
             WHERE code_hash = ?2 AND used_at IS NULL AND expires_at > ?1
             RETURNING {CODE_COLUMNS}"
        ))
        .bind(now)
        .bind(code_hash)
        .fetch_optional(&self.writer)
        .await
        .map_err(unavailable)?;
        if let Some(row) = won {
            return Ok(CodeRedemption::Redeemed(row.into()));
        }
        let spent: Option<(Option<String>,)> =
            sqlx::query_as("SELECT family_id FROM auth_codes WHERE code_hash = ?")
                .bind(code_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(match spent {
            Some((family_id,)) => CodeRedemption::Spent { family_id },
            None => CodeRedemption::Unknown,
        })
    }

    async fn set_code_family(&self, code_hash: &str, family_id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE auth_codes SET family_id = ? WHERE code_hash = ?")
            .bind(family_id)
            .bind(code_hash)
            .execute(&self.writer)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Inserts a token; born revoked when its family was revoked or its
    /// session ended meanwhile (a replay at another instance can revoke the
    /// family while this rotation is in flight). SQLite runs one write at a
    /// time, so the revocation either sees this row or this row sees it.
    async fn insert_refresh(&self, t: &RefreshRecord) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO refresh_tokens ({REFRESH_COLUMNS})
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, COALESCE(?11,
                 (SELECT MIN(revoked_at) FROM refresh_tokens WHERE family_id = ?2),
                 (SELECT ended_at FROM sessions WHERE id = ?3))"
        ))
        .bind(&t.token_hash)
        .bind(&t.family_id)
        .bind(&t.session_id)
        .bind(&t.client_id)
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

    async fn claim_refresh(&self, token_hash: &str, now: i64) -> Result<RefreshClaim, StoreError> {
        let won: Option<RefreshRow> = sqlx::query_as(&format!(
            "UPDATE refresh_tokens SET used_at = ?1
             WHERE token_hash = ?2 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?1
             RETURNING {REFRESH_COLUMNS}"
        ))
        .bind(now)
        .bind(token_hash)
        .fetch_optional(&self.writer)
        .await
        .map_err(unavailable)?;
        if let Some(row) = won {
            return Ok(RefreshClaim::Claimed(row.into()));
        }
        Ok(match self.get_refresh(token_hash).await? {
            None => RefreshClaim::Unknown,
            Some(r) if r.used_at.is_some() && r.revoked_at.is_none() => RefreshClaim::Replayed(r),
            Some(_) => RefreshClaim::Inactive,
        })
    }

    async fn get_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
        let row: Option<RefreshRow> = sqlx::query_as(&format!(
            "SELECT {REFRESH_COLUMNS} FROM refresh_tokens WHERE token_hash = ?"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(row.map(Into::into))
    }

    async fn revoke_family(&self, family_id: &str, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(family_id)
        .execute(&self.writer)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected())
    }

    async fn deny_jti(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT(jti) DO NOTHING")
            .bind(jti)
            .bind(expires_at)
            .execute(&self.writer)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn is_jti_denied(&self, jti: &str) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM revoked_tokens WHERE jti = ?")
            .bind(jti)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(row.is_some())
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let mut tx = self.writer.begin().await.map_err(unavailable)?;
        let mut purged = 0;
        for sql in [
            "DELETE FROM revoked_tokens WHERE expires_at <= ?",
            "DELETE FROM auth_codes WHERE expires_at <= ?",
            "DELETE FROM refresh_tokens WHERE expires_at <= ?",
            "DELETE FROM sessions WHERE expires_at <= ?",
        ] {
            purged += sqlx::query(sql)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?
                .rows_affected();
        }
        tx.commit().await.map_err(unavailable)?;
        let counters = self.purge_login_failures(now.saturating_mul(1000)).await?;
        Ok(purged + counters)
    }
}
