//! API keys' SQL.

use crate::store::StoreError;

pub(crate) const COLUMNS: &str =
    "id, user_id, name, key_hash, created_at, expires_at, last_used_at";

pub(crate) fn write_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict("an API key with this id or digest already exists".into())
        }
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::Conflict("the key's user no longer exists".into())
        }
        _ => super::unavailable(e),
    }
}

/// `impl ApiKeyStore for $store`, reading from `self.$read` and writing
/// through `self.$write`.
macro_rules! api_key_store {
    ($store:ty, $read:ident, $write:ident) => {
        #[async_trait::async_trait]
        impl $crate::store::ApiKeyStore for $store {
            async fn insert_api_key(
                &self,
                key: &$crate::store::ApiKeyRecord,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::shared::apikeys::{COLUMNS, write_error};
                let sql =
                    format!("INSERT INTO api_keys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
                sqlx::query(&sql)
                    .bind(&key.id)
                    .bind(&key.user_id)
                    .bind(&key.name)
                    .bind(&key.key_hash)
                    .bind(key.created_at)
                    .bind(key.expires_at)
                    .bind(key.last_used_at)
                    .execute(&self.$write)
                    .await
                    .map_err(write_error)?;
                Ok(())
            }

            async fn find_api_key(
                &self,
                key_hash: &str,
            ) -> Result<Option<$crate::store::ApiKeyRecord>, $crate::store::StoreError> {
                use $crate::store::shared::{apikeys::COLUMNS, unavailable, unstorable};
                if unstorable(key_hash) {
                    return Ok(None);
                }
                let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1");
                sqlx::query_as(&sql)
                    .bind(key_hash)
                    .fetch_optional(&self.$read)
                    .await
                    .map_err(unavailable)
            }

            async fn list_api_keys(
                &self,
                user_id: Option<&str>,
            ) -> Result<Vec<$crate::store::ApiKeyRecord>, $crate::store::StoreError> {
                use $crate::store::shared::{apikeys::COLUMNS, unavailable, unstorable};
                if user_id.is_some_and(unstorable) {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "SELECT {COLUMNS} FROM api_keys WHERE CAST($1 AS TEXT) IS NULL OR user_id = $1
                     ORDER BY created_at, id"
                );
                sqlx::query_as(&sql)
                    .bind(user_id)
                    .fetch_all(&self.$read)
                    .await
                    .map_err(unavailable)
            }

            async fn delete_api_key(
                &self,
                id: &str,
            ) -> Result<Option<$crate::store::ApiKeyRecord>, $crate::store::StoreError> {
                use $crate::store::shared::{apikeys::COLUMNS, unavailable, unstorable};
                if unstorable(id) {
                    return Ok(None);
                }
                let sql = format!("DELETE FROM api_keys WHERE id = $1 RETURNING {COLUMNS}");
                sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(&self.$write)
                    .await
                    .map_err(unavailable)
            }

            async fn touch_api_key(
                &self,
                id: &str,
                now: i64,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::shared::{unavailable, unstorable};
                if unstorable(id) {
                    return Ok(());
                }
                sqlx::query(
                    "UPDATE api_keys SET last_used_at = $1
                     WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $1 - 60)",
                )
                .bind(now)
                .bind(id)
                .execute(&self.$write)
                .await
                .map_err(unavailable)?;
                Ok(())
            }
        }
    };
}

pub(crate) use api_key_store;
