//! API keys' SQL, shared with the other backend (`store::shared::apikeys`).

use super::SqliteStore;

crate::store::shared::api_key_store!(SqliteStore, pool, writer);

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
