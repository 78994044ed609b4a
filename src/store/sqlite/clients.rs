//! OAuth clients' SQL, shared with the other backend (`store::shared::clients`).

use super::SqliteStore;

crate::store::shared::client_store!(SqliteStore, pool, writer, "", "");
