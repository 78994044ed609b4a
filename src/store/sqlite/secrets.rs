//! Realm-internal secrets' SQL.

use async_trait::async_trait;

use super::{SqliteStore, unavailable};
use crate::store::{RealmSecretStore, StoreError};

#[async_trait]
impl RealmSecretStore for SqliteStore {
    async fn realm_secret(
        &self,
        name: &str,
        candidate: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        // Whoever inserts first wins; everyone reads the winner's.
        let (secret,): (String,) = sqlx::query_as(
            "INSERT INTO realm_secrets (name, secret, created_at) VALUES (?, ?, ?)
             ON CONFLICT(name) DO UPDATE SET name = excluded.name
             RETURNING secret",
        )
        .bind(name)
        .bind(candidate)
        .bind(now)
        .fetch_one(&self.writer)
        .await
        .map_err(unavailable)?;
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::scenarios;

    #[tokio::test]
    async fn the_first_secret_stays() {
        let dir = std::env::temp_dir().join(format!("domino-idp-secret-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        crate::store::Database::migrate(&store).await.unwrap();
        scenarios::realm_secret_is_created_once(Arc::new(store)).await;
        std::fs::remove_dir_all(&dir).ok();
    }
}
