//! Signing keys' SQL (`key_store = "database"`).

/// `impl SigningKeyStore for $store`, reading from `self.$read` and writing
/// through `self.$write`, whose connections are `$conn`.
macro_rules! signing_key_store {
    ($store:ty, $conn:ty, $read:ident, $write:ident) => {
        /// Sets a key's dates, and its archive time when `archived_at` is given.
        async fn set_dates(
            conn: &mut $conn,
            kid: &str,
            dates: &$crate::store::StoredKeyDates,
            archived_at: Option<Option<i64>>,
        ) -> Result<bool, $crate::store::StoreError> {
            let sql = match archived_at {
                Some(_) => {
                    "UPDATE signing_keys SET created = $1, activates_at = $2, superseded_at = $3, retire_after = $4, archived_at = $5 WHERE kid = $6"
                }
                None => {
                    "UPDATE signing_keys SET created = $1, activates_at = $2, superseded_at = $3, retire_after = $4 WHERE kid = $5"
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
            $crate::store::shared::Write(query.bind(kid)).changed_one(conn).await
        }

        #[async_trait::async_trait]
        impl $crate::store::SigningKeyStore for $store {
            async fn list_signing_keys(
                &self,
            ) -> Result<Vec<$crate::store::StoredKey>, $crate::store::StoreError> {
                use $crate::store::rows::KEY_COLUMNS;
                sqlx::query_as(&format!(
                    "SELECT {KEY_COLUMNS} FROM signing_keys ORDER BY generation"
                ))
                .fetch_all(&self.$read)
                .await
                .map_err($crate::store::shared::unavailable)
            }

            async fn add_signing_key(
                &self,
                key: &$crate::store::StoredKey,
                pins: &[(String, $crate::store::StoredKeyDates)],
            ) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::rows::KEY_COLUMNS;
                use $crate::store::shared::unavailable;
                let mut tx = self.$write.begin().await.map_err(unavailable)?;
                let inserted = sqlx::query(&format!(
                    "INSERT INTO signing_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
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
                dates: &$crate::store::StoredKeyDates,
                archived_at: Option<i64>,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut conn = self
                    .$write
                    .acquire()
                    .await
                    .map_err($crate::store::shared::unavailable)?;
                set_dates(&mut conn, kid, dates, Some(archived_at)).await
            }
        }
    };
}

pub(crate) use signing_key_store;
