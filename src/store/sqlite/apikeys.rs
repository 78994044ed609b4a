//! API keys' SQL, shared with the other backend (`store::shared::apikeys`).

use super::SqliteStore;

crate::store::shared::api_key_store!(SqliteStore, pool, writer);

#[cfg(test)]
mod tests {
    //! The shared scenarios, against a fresh SQLite database.
    crate::store::scenarios::scenario_tests!(crate::store::sqlite::testdb::fresh: api_keys_live_and_die_with_their_user, an_api_key_is_read_with_its_address_lock);
}
