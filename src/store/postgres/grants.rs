//! Sessions, authorization codes, refresh-token families and the deny-list.
//!
//! Single use is one conditional `UPDATE ... WHERE used_at IS NULL ...
//! RETURNING`: under READ COMMITTED the second of two racing updates waits for
//! the first to commit, re-checks its `WHERE` on the committed row and finds
//! nothing, so exactly one request wins, whichever instance it reached.
//!
//! Revocation must also win against a rotation in flight: a successor token
//! inserted just after its family was revoked, or its session ended, would
//! otherwise stay live. So `insert_refresh` (one call of the function
//! `insert_refresh_token`, migration 0013) takes a per-family advisory lock
//! (which `revoke_family` takes too) and a share lock on the session row
//! (which `end_session`'s update conflicts with), and inserts the successor
//! already revoked when either has happened. A rotation (`rotate_refresh`:
//! the function `rotate_refresh_token`, migration 0016) takes the same two
//! locks before it claims the presented token and inserts the successor, in
//! one statement and one transaction. Multi-row revocations lock their
//! rows in `token_hash` order so two of them cannot deadlock each other; a
//! deadlock with anything else is retried.

use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{FromRow as _, Row as _};

use super::{PgStore, unavailable};
use crate::store::rows::REFRESH_COLUMNS;
use crate::store::shared::binds::refresh_grant;
use crate::store::{RefreshRecord, StoreError};

/// The advisory-lock class of refresh families (the two-key form, so it
/// cannot collide with sqlx's single-key migration lock): "domi".
const FAMILY_LOCK_CLASS: i32 = 0x646f_6d69;

/// How often a transaction that Postgres aborted to break a deadlock is retried.
const DEADLOCK_RETRIES: usize = 3;

fn deadlocked(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40P01" | "40001")))
}

/// Runs `attempt` again, up to `DEADLOCK_RETRIES` times, while Postgres
/// aborts it to break a deadlock.
async fn retrying<T, F>(mut attempt: impl FnMut() -> F) -> Result<T, sqlx::Error>
where
    F: Future<Output = Result<T, sqlx::Error>>,
{
    let mut retries = 0;
    loop {
        match attempt().await {
            Err(e) if deadlocked(&e) && retries < DEADLOCK_RETRIES => retries += 1,
            done => return done,
        }
    }
}

/// Revokes the live refresh tokens whose `column` (`session_id` or
/// `family_id`) is `value`, locking them in `token_hash` order so that two
/// revocations cannot deadlock each other; returns how many it revoked.
async fn revoke_tokens(
    tx: &mut PgConnection,
    column: &'static str,
    value: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(&format!(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE token_hash IN (
             SELECT token_hash FROM refresh_tokens
             WHERE {column} = $2 AND revoked_at IS NULL
             ORDER BY token_hash FOR UPDATE)"
    ))
    .bind(now)
    .bind(value)
    .execute(tx)
    .await?;
    Ok(done.rows_affected())
}

async fn lock_family(tx: &mut PgConnection, family_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(FAMILY_LOCK_CLASS)
        .bind(family_id)
        .execute(tx)
        .await
        .map(|_| ())
}

impl PgStore {
    async fn try_end_session(&self, id: &str, now: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE sessions SET ended_at = $1, cookie_hash = NULL WHERE id = $2 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        revoke_tokens(&mut tx, "session_id", id, now).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// One round trip: `insert_refresh_token` (migration 0013) takes the
    /// family lock and then inserts in a statement of its own, as a
    /// transaction of two statements would.
    async fn try_insert_refresh(&self, t: &RefreshRecord) -> Result<u64, sqlx::Error> {
        let query = sqlx::query(
            "SELECT insert_refresh_token($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(FAMILY_LOCK_CLASS);
        let inserted: i64 = refresh_grant(query, t)
            .bind(t.used_at)
            .bind(t.revoked_at)
            .try_map(|row: PgRow| row.try_get(0))
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(inserted).unwrap_or(0))
    }

    /// One round trip and one transaction: `rotate_refresh_token`
    /// (migrations 0016, 0018) takes the family's lock, the session's share
    /// lock, claims the presented token and inserts its successor. A second
    /// run of the same rotation answers as the first (0018), so it goes
    /// without a ping and runs again on a broken connection
    /// (`Conns::fetch_rerunnable`).
    async fn try_rotate_refresh(
        &self,
        presented: &str,
        t: &RefreshRecord,
    ) -> Result<Option<RefreshRecord>, sqlx::Error> {
        let sql = format!(
            "SELECT {REFRESH_COLUMNS} FROM rotate_refresh_token($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        let row = self
            .pool
            .fetch_rerunnable(|| {
                refresh_grant(sqlx::query(&sql).bind(FAMILY_LOCK_CLASS).bind(presented), t)
            })
            .await?;
        row.map(|row| RefreshRecord::from_row(&row)).transpose()
    }

    async fn try_revoke_family(&self, family_id: &str, now: i64) -> Result<u64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        lock_family(&mut tx, family_id).await?;
        let revoked = revoke_tokens(&mut tx, "family_id", family_id, now).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// Ends the session and revokes its refresh tokens in one transaction.
    /// The session row stays locked until commit, so a successor being
    /// inserted concurrently either commits first (and is revoked here) or
    /// waits and sees the session ended (see `insert_refresh`).
    async fn end_session_tx(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        retrying(|| self.try_end_session(id, now))
            .await
            .map_err(unavailable)
    }

    /// Inserts a refresh token; born revoked (when its family was, else when
    /// its session ended) when either has happened by the time the locks are
    /// held. Fails, as a foreign-key violation would, when the session is gone.
    async fn insert_refresh_tx(&self, t: &RefreshRecord) -> Result<(), StoreError> {
        match retrying(|| self.try_insert_refresh(t)).await {
            Err(e) => Err(unavailable(e)),
            Ok(0) => Err(StoreError::Unavailable(format!(
                "refresh token not stored: session {} no longer exists",
                t.session_id
            ))),
            Ok(_) => Ok(()),
        }
    }

    /// Spends `presented` and stores its successor `t`, or neither.
    async fn rotate_refresh_tx(
        &self,
        presented: &str,
        t: &RefreshRecord,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        retrying(|| self.try_rotate_refresh(presented, t))
            .await
            .map_err(unavailable)
    }

    /// Revokes the family under its advisory lock, so a successor being
    /// inserted concurrently is either revoked here or born revoked.
    async fn revoke_family_tx(&self, family_id: &str, now: i64) -> Result<u64, StoreError> {
        retrying(|| self.try_revoke_family(family_id, now))
            .await
            .map_err(unavailable)
    }
}

crate::store::shared::grant_store!(PgStore, pool, pool);
