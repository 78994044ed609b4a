//! OAuth clients' SQL.

use async_trait::async_trait;

use super::{SqliteStore, to_json, unavailable};
use crate::domain::client::Client;
use crate::store::rows::ClientRow;
use crate::store::{ClientStore, StoreError, now};

const COLUMNS: &str = "client_id, name, secret_hash, redirect_uris, post_logout_redirect_uris, grant_types, default_scopes, allowed_scopes, created_at, optional_scopes";

impl SqliteStore {
    async fn write_client(&self, c: &Client, if_absent: bool) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO clients ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) {}",
            if if_absent {
                "ON CONFLICT(client_id) DO NOTHING"
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
            .execute(&self.writer)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(
                    format!("a client with id {:?} already exists", c.client_id),
                ),
                _ => unavailable(e),
            })?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl ClientStore for SqliteStore {
    async fn insert_client(&self, client: &Client) -> Result<(), StoreError> {
        self.write_client(client, false).await.map(|_| ())
    }

    async fn insert_client_if_absent(&self, client: &Client) -> Result<bool, StoreError> {
        self.write_client(client, true).await
    }

    async fn get_client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM clients WHERE client_id = ?");
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

    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        // Its roles, the grants of them and its service account's grants
        // go with it: a client added again under this id starts bare.
        let mut tx = self.writer.begin().await.map_err(unavailable)?;
        for sql in [
            "DELETE FROM role_grants WHERE role_client = ?1 OR (holder_kind = 'client' AND holder_id = ?1)",
            "DELETE FROM roles WHERE client_id = ?1",
        ] {
            sqlx::query(sql)
                .bind(client_id)
                .execute(&mut *tx)
                .await
                .map_err(unavailable)?;
        }
        let done = sqlx::query("DELETE FROM clients WHERE client_id = ?")
            .bind(client_id)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_client_scopes(&self, client: &Client) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE clients SET default_scopes = ?, optional_scopes = ?,
                                allowed_scopes = ?
             WHERE client_id = ?",
        )
        .bind(to_json(&client.default_scopes))
        .bind(to_json(&client.optional_scopes))
        .bind(client.allowed_scopes.as_ref().map(to_json))
        .bind(&client.client_id)
        .execute(&self.writer)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }
}
