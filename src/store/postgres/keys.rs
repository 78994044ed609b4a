//! Signing keys' SQL (`key_store = "database"`), shared with the other
//! backend (`store::shared::keys`).

use super::PgStore;

crate::store::shared::signing_key_store!(PgStore, sqlx::PgConnection, pool, pool);
