//! Roles' SQL, shared with the other backend (`store::shared::roles`).

use super::SqliteStore;

crate::store::shared::role_store!(SqliteStore, pool, writer, "", "");
