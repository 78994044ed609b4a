//! OAuth clients' SQL.

use async_trait::async_trait;

use super::{PgStore, conflict_or_unavailable, to_json, unavailable, unstorable};
use crate::domain::client::Client;
use crate::store::rows::ClientRow;
use crate::store::{ClientStore, StoreError, now};

/// The JSONB columns come back as text, parsed by `TryFrom<ClientRow>`.
const COLUMNS: &str = "client_id, name, secret_hash, redirect_uris::text AS redirect_uris, post_logout_redirect_uris::text AS post_logout_redirect_uris, grant_types::text AS grant_types, default_scopes::text AS default_scopes, allowed_scopes::text AS allowed_scopes, created_at, optional_scopes::text AS optional_scopes";

impl PgStore {
    async fn write_client(&self, c: &Client, if_absent: bool) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO clients (client_id, name, secret_hash, redirect_uris,
                                  post_logout_redirect_uris, grant_types, default_scopes,
                                  allowed_scopes, created_at, optional_scopes)
             VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb, $9,
                     $10::jsonb) {}",
            if if_absent {
                "ON CONFLICT (client_id) DO NOTHING"
            } else {
                ""
            }
        );
        let done = sqlx::query(&sql)
            .bind(&c.client_id)
            .bind(c.name.as_deref())
            .bind(c.secret_hash.as_deref())
            .bind(to_json(&c.redirect_uris))
            .bind(to_json(&c.post_logout_redirect_uris))
            .bind(to_json(&c.grant_types))
            .bind(to_json(&c.default_scopes))
            .bind(c.allowed_scopes.as_ref().map(to_json))
            .bind(now())
            .bind(to_json(&c.optional_scopes))
            .execute(&self.pool)
            .await
            .map_err(|e| {
                conflict_or_unavailable(e, || {
                    format!("a client with id {:?} already exists", c.client_id)
                })
            })?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl ClientStore for PgStore {
    async fn insert_client(&self, client: &Client) -> Result<(), StoreError> {
        self.write_client(client, false).await.map(|_| ())
    }

    async fn insert_client_if_absent(&self, client: &Client) -> Result<bool, StoreError> {
        self.write_client(client, true).await
    }

    async fn get_client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        if unstorable(client_id) {
            return Ok(None);
        }
        let sql = format!("SELECT {COLUMNS} FROM clients WHERE client_id = $1");
        let row: Option<ClientRow> = sqlx::query_as(&sql)
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.map(Client::try_from).transpose()
    }

    async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM clients ORDER BY client_id");
        let rows: Vec<ClientRow> = sqlx::query_as(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.into_iter().map(Client::try_from).collect()
    }

    /// One statement: the client's codes and refresh tokens go with it
    /// (ON DELETE CASCADE), atomically. A grant being written for the client
    /// at the same moment holds a key-share lock on its row (the foreign key
    /// check), so it either commits first and is deleted too, or fails.
    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        if unstorable(client_id) {
            return Ok(false);
        }
        // Its roles, the grants of them and its service account's grants
        // go with it: a client added again under this id starts bare.
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        for sql in [
            "DELETE FROM role_grants WHERE role_client = $1 OR (holder_kind = 'client' AND holder_id = $1)",
            "DELETE FROM roles WHERE client_id = $1",
        ] {
            sqlx::query(sql)
                .bind(client_id)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        let done = sqlx::query("DELETE FROM clients WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_client_scopes(&self, client: &Client) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE clients SET default_scopes = $1::jsonb, optional_scopes = $2::jsonb,
                                allowed_scopes = $3::jsonb
             WHERE client_id = $4",
        )
        .bind(to_json(&client.default_scopes))
        .bind(to_json(&client.optional_scopes))
        .bind(client.allowed_scopes.as_ref().map(to_json))
        .bind(&client.client_id)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }
}
