//! API keys' SQL. A key names the login session its exchanged Domino
//! Tokens share (`session_id`): replaced only by a compare-and-set on the
//! key's row, and ended in the transaction that deletes the key.

use crate::store::StoreError;

pub(crate) const COLUMNS: &str =
    "id, user_id, name, key_hash, created_at, expires_at, last_used_at";

/// What deleting a key returns: the key, and the session its exchanges share.
#[derive(sqlx::FromRow)]
pub(crate) struct DeletedKey {
    #[sqlx(flatten)]
    pub(crate) key: crate::store::ApiKeyRecord,
    pub(crate) session_id: Option<String>,
}

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
                use $crate::store::shared::apikeys::COLUMNS;
                let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1");
                $crate::store::shared::find_by_key(&self.$read, &sql, key_hash).await
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
                use $crate::store::shared::apikeys::{COLUMNS, DeletedKey};
                use $crate::store::shared::{unavailable, unstorable};
                if unstorable(id) {
                    return Ok(None);
                }
                // The delete comes first: on Postgres it waits for an
                // exchange that is replacing the key's session and returns
                // the session that exchange committed, which is then ended.
                let mut tx = self.$write.begin().await.map_err(unavailable)?;
                let sql =
                    format!("DELETE FROM api_keys WHERE id = $1 RETURNING {COLUMNS}, session_id");
                let deleted: Option<DeletedKey> = sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                let Some(deleted) = deleted else {
                    return Ok(None);
                };
                if let Some(session_id) = &deleted.session_id {
                    // A bookkeeping time: nothing but "ended" is read from it.
                    sqlx::query(
                        "UPDATE sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL",
                    )
                    .bind($crate::store::now())
                    .bind(session_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(unavailable)?;
                }
                tx.commit().await.map_err(unavailable)?;
                Ok(Some(deleted.key))
            }

            async fn touch_api_key(
                &self,
                id: &str,
                now: i64,
            ) -> Result<(), $crate::store::StoreError> {
                let query = sqlx::query(
                    "UPDATE api_keys SET last_used_at = $1
                     WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $1 - 60)",
                )
                .bind(now)
                .bind(id);
                let write = $crate::store::shared::Write(query);
                write.change_row(&[id], &self.$write).await.map(drop)
            }

            async fn start_api_key_session(
                &self,
                key_id: &str,
                replacing: Option<&str>,
                session: &$crate::store::SessionRecord,
            ) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::shared::{unavailable, unstorable};
                if unstorable(key_id) || replacing.is_some_and(unstorable) {
                    return Ok(false);
                }
                // The key's row first: its lock orders this against a
                // revocation (which ends whatever session it finds) and
                // against another exchange replacing the same session.
                let mut tx = self.$write.begin().await.map_err(unavailable)?;
                let linked = sqlx::query(
                    "UPDATE api_keys SET session_id = $1
                     WHERE id = $2 AND COALESCE(session_id, '') = $3",
                )
                .bind(&session.id)
                .bind(key_id)
                .bind(replacing.unwrap_or(""))
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
                if linked.rows_affected() != 1 {
                    return Ok(false);
                }
                $crate::store::shared::binds::insert_session(
                    session,
                    $crate::store::shared::binds::TakenId::Fails,
                )
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
                tx.commit().await.map_err(unavailable)?;
                Ok(true)
            }

            async fn extend_api_key_session(
                &self,
                session_id: &str,
                now: i64,
                expires_at: i64,
            ) -> Result<bool, $crate::store::StoreError> {
                let query = sqlx::query(
                    "UPDATE sessions SET expires_at = $1
                     WHERE id = $2 AND ended_at IS NULL AND expires_at > $3",
                )
                .bind(expires_at)
                .bind(session_id)
                .bind(now);
                $crate::store::shared::Write(query).change_row(&[session_id], &self.$write).await
            }
        }
    };
}

pub(crate) use api_key_store;
