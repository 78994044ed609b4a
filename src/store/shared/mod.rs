//! The store code both backends share, written once. Each macro here
//! implements one store trait for a backend, given the pool its reads use and
//! the pool its writes use (SQLite sends every write through one connection;
//! Postgres has one pool). Statements use `$N` placeholders, which SQLite
//! accepts too (sqlx binds `$N` by number), and only SQL both dialects run
//! alike; the areas whose SQL differs (lockout counters, grants) keep a file
//! per backend.

pub(crate) mod apikeys;
pub(crate) mod binds;
mod clients;
pub(crate) mod console;
mod database;
pub(crate) mod grants;
mod holders;
mod keys;
pub(crate) mod lockouts;
mod mappers;
mod roles;
mod secrets;
pub(crate) mod users;

pub(crate) use apikeys::api_key_store;
pub(crate) use clients::client_store;
pub(crate) use console::console_store;
pub(crate) use database::database;
pub(crate) use grants::grant_store;
pub(crate) use holders::{holder_reads, holder_sql};
pub(crate) use keys::signing_key_store;
pub(crate) use lockouts::lockout_store;
pub(crate) use mappers::mapper_store;
pub(crate) use roles::role_store;
pub(crate) use secrets::realm_secret_store;
pub(crate) use users::user_store;

use super::StoreError;

pub(crate) fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// A unique violation as `Conflict(message)`, anything else as `Unavailable`.
pub(crate) fn conflict_or_unavailable(
    e: sqlx::Error,
    message: impl FnOnce() -> String,
) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(message()),
        _ => unavailable(e),
    }
}

/// How an `INSERT` of a row whose `key` is taken ends: with `if_absent`,
/// `ON CONFLICT (key) DO NOTHING` (the `insert_*_if_absent` methods: the
/// row count says whether it was written); without, nothing, so a taken key
/// is a unique violation, reported as `Conflict`.
pub(crate) fn on_conflict(if_absent: bool, key: &str) -> String {
    if if_absent {
        format!("ON CONFLICT ({key}) DO NOTHING")
    } else {
        String::new()
    }
}

/// Postgres text cannot hold U+0000, and no id or digest this issuer stores
/// contains one: a key with it names nothing, on either backend, so lookups
/// answer "not found" instead of sending Postgres an invalid string.
pub(crate) fn unstorable(key: &str) -> bool {
    key.contains('\0')
}
