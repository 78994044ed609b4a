//! The password store's SQL, shared with the other backend
//! (`store::shared::users`).

use super::SqliteStore;

crate::store::shared::user_store!(SqliteStore, pool, writer, "", "");

#[cfg(test)]
mod tests {
    //! The shared scenarios, against a fresh SQLite database.
    crate::store::scenarios::scenario_tests!(crate::store::sqlite::testdb::fresh: a_user_is_read_with_their_session, the_config_version_moves_with_the_configuration);
}
