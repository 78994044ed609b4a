//! Realm-internal secrets' SQL, shared with the other backend
//! (`store::shared::secrets`).

use super::PgStore;

crate::store::shared::realm_secret_store!(PgStore, pool);

#[cfg(test)]
mod tests {
    //! The shared scenarios, against the server `IDP_TEST_POSTGRES_URL`
    //! names (skipped when it is unset).
    crate::store::scenarios::scenario_tests!(crate::store::postgres::testdb::fresh: realm_secret_is_created_once);
}
