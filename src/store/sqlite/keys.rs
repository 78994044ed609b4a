//! Signing keys' SQL (`key_store = "database"`), shared with the other
//! backend (`store::shared::keys`).

use super::SqliteStore;

crate::store::shared::signing_key_store!(SqliteStore, sqlx::SqliteConnection, pool, writer);
