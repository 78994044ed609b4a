//! Claim mappers' SQL, shared with the other backend (`store::shared::mappers`).
//! `seq` is Postgres's stand-in for SQLite's rowid.

use super::PgStore;

crate::store::shared::mapper_store!(PgStore, pool, pool, "$2::jsonb", "spec::text", "seq");
