//! Realm-internal secrets' SQL, shared with the other backend (`store::shared::secrets`).

use super::PgStore;

crate::store::shared::realm_secret_store!(PgStore, pool);

#[cfg(test)]
mod tests {
    //! The shared scenario, against the server `IDP_TEST_POSTGRES_URL`
    //! names (skipped when it is unset).
    use std::sync::Arc;

    use crate::store::postgres::testdb;
    use crate::store::scenarios;

    #[tokio::test]
    async fn the_first_secret_stays() {
        let Some((store, _)) = testdb::fresh().await else {
            return;
        };
        scenarios::realm_secret_is_created_once(Arc::new(store)).await;
    }
}
