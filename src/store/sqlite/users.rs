//! The password store's SQL, shared with the other backend
//! (`store::shared::users`); the hot reads run it through rusqlite
//! (`super::hot`).

use super::SqliteStore;
use crate::store::StoreError;
use crate::store::rows::{Arg, Columns};

crate::store::shared::user_store!(@common SqliteStore, pool, writer, "", "");

impl SqliteStore {
    /// A hot read through rusqlite (`super::hot`): the row `sql` selects
    /// with `args` as `$1`, `$2`..., mapped by `read`; none when a text is
    /// one no row can hold.
    async fn hot_read<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        read: fn(&dyn Columns) -> Result<T, sqlx::Error>,
    ) -> Result<Option<T>, StoreError> {
        if args.iter().any(Arg::unstorable) {
            return Ok(None);
        }
        self.hot_first(sql, args, read).await
    }
}

#[cfg(test)]
mod tests {
    //! The shared scenarios, against a fresh SQLite database.
    crate::store::scenarios::scenario_tests!(crate::store::sqlite::testdb::fresh: a_user_is_read_with_their_session, a_bearer_is_read_with_its_session_and_denial, the_config_version_moves_with_the_configuration);
}
