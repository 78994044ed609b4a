//! API keys' SQL, shared with the other backend (`store::shared::apikeys`).

use super::PgStore;

crate::store::shared::api_key_store!(PgStore, pool, pool);

#[cfg(test)]
mod tests {
    //! The shared scenario, against the server `IDP_TEST_POSTGRES_URL`
    //! names (skipped when it is unset).
    use std::sync::Arc;

    use crate::store::postgres::testdb;
    use crate::store::scenarios;

    #[tokio::test]
    async fn api_keys_live_and_die_with_their_user() {
        let Some((store, _)) = testdb::fresh().await else {
            return;
        };
        scenarios::api_keys_live_and_die_with_their_user(Arc::new(store)).await;
    }
}
