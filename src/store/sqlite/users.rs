//! The password store's SQL, shared with the other backend
//! (`store::shared::users`); the hot reads run it through rusqlite
//! (`super::hot`).

use super::SqliteStore;
use super::hot::Arg;
use crate::store::StoreError;
use crate::store::rows::{KeyHolderRow, RefreshHolderRow, UserSessionRow};

crate::store::shared::user_store!(@common SqliteStore, pool, writer, "", "");

impl SqliteStore {
    async fn hot_refresh_holder(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshHolderRow>, StoreError> {
        self.hot_first(
            refresh_holder_sql(),
            &[Arg::Text(token_hash)],
            RefreshHolderRow::read,
        )
        .await
    }

    async fn hot_session_with_user(
        &self,
        session_id: &str,
    ) -> Result<Option<UserSessionRow>, StoreError> {
        self.hot_first(
            session_with_user_sql(),
            &[Arg::Text(session_id)],
            UserSessionRow::read,
        )
        .await
    }

    async fn hot_api_key_holder(&self, key_hash: &str) -> Result<Option<KeyHolderRow>, StoreError> {
        self.hot_first(
            api_key_holder_sql(),
            &[Arg::Text(key_hash)],
            KeyHolderRow::read,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    //! The shared scenarios, against a fresh SQLite database.
    crate::store::scenarios::scenario_tests!(crate::store::sqlite::testdb::fresh: a_user_is_read_with_their_session, the_config_version_moves_with_the_configuration);
}
