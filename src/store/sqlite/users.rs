//! The password store's SQL, shared with the other backend
//! (`store::shared::users`).

use super::SqliteStore;

crate::store::shared::user_store!(SqliteStore, pool, writer, "", "");
