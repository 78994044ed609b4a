//! API keys' SQL, shared with the other backend (`store::shared::apikeys`).

use super::PgStore;

crate::store::shared::api_key_store!(PgStore, pool, pool);

#[cfg(test)]
mod tests {
    //! The shared scenarios, against the server `IDP_TEST_POSTGRES_URL`
    //! names (skipped when it is unset).
    crate::store::scenarios::scenario_tests!(crate::store::postgres::testdb::fresh: api_keys_live_and_die_with_their_user, an_api_key_is_read_with_its_address_lock);
}
