//! Claim mappers' SQL, shared with the other backend (`store::shared::mappers`).

use super::SqliteStore;

crate::store::shared::mapper_store!(SqliteStore, pool, writer, "$2", "spec", "rowid");
