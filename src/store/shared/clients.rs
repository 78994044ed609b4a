//! OAuth clients' SQL.

/// `impl ClientStore for $store`, reading from `self.$read` and writing
/// through `self.$write`. JSON columns are written as `$N` followed by
/// `$json_in` (Postgres: `::jsonb`) and read back as text with `$json_out`
/// (`::text`), parsed by `TryFrom<ClientRow>`.
macro_rules! client_store {
    ($store:ty, $read:ident, $write:ident, $json_in:literal, $json_out:literal) => {
        const COLUMNS: &str = concat!(
            "client_id, name, secret_hash, redirect_uris",
            $json_out,
            " AS redirect_uris, post_logout_redirect_uris",
            $json_out,
            " AS post_logout_redirect_uris, grant_types",
            $json_out,
            " AS grant_types, default_scopes",
            $json_out,
            " AS default_scopes, allowed_scopes",
            $json_out,
            " AS allowed_scopes, web_origins",
            $json_out,
            " AS web_origins, optional_scopes",
            $json_out,
            " AS optional_scopes, created_at"
        );

        #[async_trait::async_trait]
        impl $crate::store::ClientStore for $store {
            async fn insert_client_if_absent(
                &self,
                c: &$crate::domain::client::Client,
            ) -> Result<bool, $crate::store::StoreError> {
                let sql = concat!(
                    "INSERT INTO clients (client_id, name, secret_hash, redirect_uris,
                                              post_logout_redirect_uris, grant_types,
                                              default_scopes, optional_scopes, allowed_scopes,
                                              web_origins, created_at)
                         VALUES ($1, $2, $3, $4",
                    $json_in,
                    ", $5",
                    $json_in,
                    ", $6",
                    $json_in,
                    ", $7",
                    $json_in,
                    ", $8",
                    $json_in,
                    ", $9",
                    $json_in,
                    ", $10",
                    $json_in,
                    ", $11) ON CONFLICT (client_id) DO NOTHING"
                );
                let query = sqlx::query(sql).bind(c.client_id.as_str());
                let query = $crate::store::shared::binds::client_fields(query, c)
                    .bind($crate::store::now());
                $crate::store::shared::Write(query)
                    .changed_one(&self.$write)
                    .await
            }

            async fn get_client(
                &self,
                client_id: &str,
            ) -> Result<Option<$crate::domain::client::Client>, $crate::store::StoreError> {
                let sql = format!("SELECT {COLUMNS} FROM clients WHERE client_id = $1");
                let row: Option<$crate::store::rows::ClientRow> =
                    $crate::store::shared::find_by_key(&self.$read, &sql, client_id).await?;
                row.map($crate::domain::client::Client::try_from)
                    .transpose()
            }

            async fn list_clients(
                &self,
            ) -> Result<Vec<$crate::domain::client::Client>, $crate::store::StoreError> {
                let sql = format!("SELECT {COLUMNS} FROM clients ORDER BY client_id");
                $crate::store::shared::all_rows(
                    sqlx::query_as(&sql),
                    &self.$read,
                    |row: $crate::store::rows::ClientRow| row.try_into(),
                )
                .await
            }

            /// The client's codes and refresh tokens go with it (ON DELETE
            /// CASCADE), and so do its roles, the grants of them and its
            /// service account's grants, in one transaction: a client added
            /// again under this id starts bare. On Postgres a grant being
            /// written for the client at the same moment holds a key-share
            /// lock on its row (the foreign key check), so it either commits
            /// first and is deleted too, or fails.
            async fn delete_client(
                &self,
                client_id: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::shared::{unavailable, unstorable};
                if unstorable(client_id) {
                    return Ok(false);
                }
                let mut tx = self.$write.begin().await.map_err(unavailable)?;
                let statements = [
                    "DELETE FROM role_grants
                     WHERE role_client = $1 OR (holder_kind = 'client' AND holder_id = $1)",
                    "DELETE FROM roles WHERE client_id = $1",
                    "DELETE FROM clients WHERE client_id = $1",
                ];
                let deleted =
                    $crate::store::shared::each_with_key(&mut *tx, &statements, client_id).await?;
                tx.commit().await.map_err(unavailable)?;
                Ok(deleted)
            }

            /// Rewrites every column but the id and creation time.
            async fn update_client(
                &self,
                c: &$crate::domain::client::Client,
            ) -> Result<bool, $crate::store::StoreError> {
                let query = sqlx::query(concat!(
                    "UPDATE clients SET name = $1, secret_hash = $2, redirect_uris = $3",
                    $json_in,
                    ", post_logout_redirect_uris = $4",
                    $json_in,
                    ", grant_types = $5",
                    $json_in,
                    ", default_scopes = $6",
                    $json_in,
                    ", optional_scopes = $7",
                    $json_in,
                    ", allowed_scopes = $8",
                    $json_in,
                    ", web_origins = $9",
                    $json_in,
                    " WHERE client_id = $10"
                ));
                let query = $crate::store::shared::binds::client_fields(query, c)
                    .bind(c.client_id.as_str());
                $crate::store::shared::Write(query)
                    .change_row(&[&c.client_id], &self.$write)
                    .await
            }
        }
    };
}

pub(crate) use client_store;
