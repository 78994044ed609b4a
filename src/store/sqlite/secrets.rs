//! Realm-internal secrets' SQL, shared with the other backend (`store::shared::secrets`).

use super::SqliteStore;

crate::store::shared::realm_secret_store!(SqliteStore, writer);

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
