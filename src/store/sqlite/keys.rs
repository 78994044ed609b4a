//! Signing keys' SQL (`key_store = "database"`).

use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, unavailable};
use crate::store::{StoreError, StoredKey, StoredKeyDates};

const COLUMNS: &str = "kid, generation, sealed_private_key, certificate, created, activates_at, superseded_at, retire_after, archived_at";

fn key_from_row(row: &SqliteRow) -> Result<StoredKey, sqlx::Error> {
    Ok(StoredKey {
        kid: row.try_get("kid")?,
        generation: row.try_get("generation")?,
        sealed_private_key: row.try_get("sealed_private_key")?,
        certificate: row.try_get("certificate")?,
        dates: StoredKeyDates {
            created: row.try_get("created")?,
            activates_at: row.try_get("activates_at")?,
            superseded_at: row.try_get("superseded_at")?,
            retire_after: row.try_get("retire_after")?,
        },
        archived_at: row.try_get("archived_at")?,
    })
}

impl SqliteStore {
    pub(super) async fn list_signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM signing_keys ORDER BY generation"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter()
            .map(|r| key_from_row(r).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }

    pub(super) async fn add_signing_key(
        &self,
        key: &StoredKey,
        pins: &[(String, StoredKeyDates)],
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await.map_err(unavailable)?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO signing_keys ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
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

    pub(super) async fn update_signing_key(
        &self,
        kid: &str,
        dates: &StoredKeyDates,
        archived_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.writer.acquire().await.map_err(unavailable)?;
        set_dates(&mut conn, kid, dates, Some(archived_at)).await
    }
}

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
