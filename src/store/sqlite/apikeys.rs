//! API keys' SQL.

use async_trait::async_trait;

use super::{SqliteStore, unavailable};
use crate::store::{ApiKeyRecord, ApiKeyStore, StoreError};

const COLUMNS: &str = "id, user_id, name, key_hash, created_at, expires_at, last_used_at";

fn write_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict("an API key with this id or digest already exists".into())
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::Conflict("the key's user no longer exists".into())
        }
        _ => unavailable(e),
    }
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO api_keys ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)");
        sqlx::query(&sql)
            .bind(&key.id)
            .bind(&key.user_id)
            .bind(&key.name)
            .bind(&key.key_hash)
            .bind(key.created_at)
            .bind(key.expires_at)
            .bind(key.last_used_at)
            .execute(&self.writer)
            .await
            .map_err(write_error)?;
        Ok(())
    }

    async fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = ?");
        sqlx::query_as(&sql)
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)
    }

    async fn list_api_keys(&self, user_id: Option<&str>) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM api_keys WHERE ?1 IS NULL OR user_id = ?1
             ORDER BY created_at, id"
        );
        sqlx::query_as(&sql)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)
    }

    async fn delete_api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = format!("DELETE FROM api_keys WHERE id = ? RETURNING {COLUMNS}");
        sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.writer)
            .await
            .map_err(unavailable)
    }

    async fn touch_api_key(&self, id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE api_keys SET last_used_at = ?1
             WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at <= ?1 - 60)",
        )
        .bind(now)
        .bind(id)
        .execute(&self.writer)
        .await
        .map_err(unavailable)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::scenarios;

    #[tokio::test]
    async fn api_keys_live_and_die_with_their_user() {
        let dir = std::env::temp_dir().join(format!("domino-idp-keys-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        crate::store::Database::migrate(&store).await.unwrap();
        scenarios::api_keys_live_and_die_with_their_user(Arc::new(store)).await;
        std::fs::remove_dir_all(&dir).ok();
    }
}
