//! Realm-internal secrets' SQL, shared with the other backend
//! (`store::shared::secrets`).

use super::SqliteStore;

crate::store::shared::realm_secret_store!(SqliteStore, writer);

#[cfg(test)]
mod tests {
    //! The shared scenarios, against a fresh SQLite database.
    crate::store::scenarios::scenario_tests!(crate::store::sqlite::testdb::fresh: realm_secret_is_created_once);
}
