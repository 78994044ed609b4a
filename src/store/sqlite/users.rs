//! The password store's SQL, shared with the other backend
//! (`store::shared::users`).

use super::SqliteStore;

crate::store::shared::user_store!(SqliteStore, pool, writer, "", "");

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::scenarios;

    async fn fresh() -> (SqliteStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("domino-idp-users-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        crate::store::Database::migrate(&store).await.unwrap();
        (store, dir)
    }

    #[tokio::test]
    async fn a_user_is_read_with_their_session() {
        let (store, dir) = fresh().await;
        scenarios::a_user_is_read_with_their_session(Arc::new(store)).await;
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn the_config_version_moves_with_the_configuration() {
        let (store, dir) = fresh().await;
        scenarios::the_config_version_moves_with_the_configuration(Arc::new(store)).await;
        std::fs::remove_dir_all(&dir).ok();
    }
}
