//! The web console's sessions' SQL, shared with the other backend
//! (`store::shared::console`).

use super::SqliteStore;

crate::store::shared::console_store!(SqliteStore, pool, writer);
