//! The password store's SQL, shared with the other backend
//! (`store::shared::users`); the hot reads run it through rusqlite
//! (`super::hot`).

use super::SqliteStore;
use super::hot::Arg;
use crate::store::StoreError;
use crate::store::rows::Columns;

crate::store::shared::user_store!(@common SqliteStore, pool, writer, "", "");

impl SqliteStore {
    /// A hot read through rusqlite (`super::hot`): the row `sql` selects
    /// with `key` as `$1`, mapped by `read`; none for a key no row can hold.
    async fn hot_by_key<T>(
        &self,
        sql: &str,
        key: &str,
        read: fn(&dyn Columns) -> Result<T, sqlx::Error>,
    ) -> Result<Option<T>, StoreError> {
        if crate::store::shared::unstorable(key) {
            return Ok(None);
        }
        self.hot_first(sql, &[Arg::Text(key)], read).await
    }
}

#[cfg(test)]
mod tests {
    //! The shared scenarios, against a fresh SQLite database.
    crate::store::scenarios::scenario_tests!(crate::store::sqlite::testdb::fresh: a_user_is_read_with_their_session, the_config_version_moves_with_the_configuration);
}
