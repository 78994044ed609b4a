//! Signing keys' SQL (`key_store = "database"`).

use async_trait::async_trait;

use super::{SqliteStore, unavailable};
use crate::store::rows::{KEY_COLUMNS, KeyRow};
use crate::store::{SigningKeyStore, StoreError, StoredKey, StoredKeyDates};

/// Sets a key's dates, and its archive time when `archived_at` is given.
async fn set_dates(
    conn: &mut sqlx::SqliteConnection,
    kid: &str,
    dates: &StoredKeyDates,
    archived_at: Option<Option<i64>>,
) -> Result<bool, StoreError> {
    let sql = match archived_at {
        Some(_) => {
            "UPDATE signing_keys SET created = ?, activates_at = ?, superseded_at = ?, retire_after = ?, archived_at = ? WHERE kid = ?"
        }
        None => {
            "UPDATE signing_keys SET created = ?, activates_at = ?, superseded_at = ?, retire_after = ? WHERE kid = ?"
        }
    };
    let mut query = sqlx::query(sql)
        .bind(dates.created)
        .bind(dates.activates_at)
        .bind(dates.superseded_at)
        .bind(dates.retire_after);
    if let Some(archived_at) = archived_at {
        query = query.bind(archived_at);
    }
    let done = query.bind(kid).execute(conn).await.map_err(unavailable)?;
    Ok(done.rows_affected() == 1)
}

#[async_trait]
impl SigningKeyStore for SqliteStore {
    async fn list_signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows: Vec<KeyRow> = sqlx::query_as(&format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY generation"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn add_signing_key(
        &self,
        key: &StoredKey,
        pins: &[(String, StoredKeyDates)],
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await.map_err(unavailable)?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO signing_keys ({KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT DO NOTHING"
        ))
        .bind(&key.kid)
        .bind(key.generation)
        .bind(&key.sealed_private_key)
        .bind(&key.certificate)
        .bind(key.dates.created)
        .bind(key.dates.activates_at)
        .bind(key.dates.superseded_at)
        .bind(key.dates.retire_after)
        .bind(key.archived_at)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        if inserted.rows_affected() != 1 {
            return Ok(false);
        }
        for (kid, dates) in pins {
            set_dates(&mut tx, kid, dates, None).await?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(true)
    }

    async fn update_signing_key(
        &self,
        kid: &str,
        dates: &StoredKeyDates,
        archived_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.writer.acquire().await.map_err(unavailable)?;
        set_dates(&mut conn, kid, dates, Some(archived_at)).await
    }
}
