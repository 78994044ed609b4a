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
pub(crate) mod holders;
mod keys;
pub(crate) mod lockouts;
mod mappers;
mod roles;
mod secrets;
pub(crate) mod users;

pub(crate) use apikeys::api_key_store;
pub(crate) use clients::client_store;
pub(crate) use console::console_store;
pub(crate) use database::{database, migration_failed};
pub(crate) use grants::grant_store;
pub(crate) use holders::{holder_reads, holder_sql};
pub(crate) use keys::signing_key_store;
pub(crate) use lockouts::lockout_store;
pub(crate) use mappers::mapper_store;
pub(crate) use roles::role_store;
pub(crate) use secrets::realm_secret_store;
pub(crate) use users::user_store;

use sqlx::query::Query;
use sqlx::query::QueryAs;
use sqlx::{Database, Executor, FromRow, IntoArguments};

use super::StoreError;
use super::conns::Conns;

/// The two backends, as the helpers below need them: how many rows a
/// write changed (each driver says it with a method of its own).
pub(crate) trait Backend: Database {
    fn rows_changed(done: &Self::QueryResult) -> u64;
}

impl Backend for sqlx::Sqlite {
    fn rows_changed(done: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        done.rows_affected()
    }
}

impl Backend for sqlx::Postgres {
    fn rows_changed(done: &sqlx::postgres::PgQueryResult) -> u64 {
        done.rows_affected()
    }
}

/// A write whose binds are done, and the ways to run it. The bounds sqlx
/// asks of a query are said once, here, for all of them.
pub(crate) struct Write<'q, DB: Database>(
    pub(crate) Query<'q, DB, <DB as Database>::Arguments<'q>>,
);

impl<'q, DB> Write<'q, DB>
where
    DB: Backend,
    <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
{
    /// Runs it when its row count says nothing to the caller.
    pub(crate) async fn run<'c>(
        self,
        executor: impl Executor<'c, Database = DB>,
    ) -> Result<(), StoreError> {
        self.changed(executor).await.map(drop)
    }

    /// How many rows it changed.
    pub(crate) async fn changed<'c>(
        self,
        executor: impl Executor<'c, Database = DB>,
    ) -> Result<u64, StoreError> {
        let done = self.0.execute(executor).await.map_err(unavailable)?;
        Ok(DB::rows_changed(&done))
    }

    /// True when it changed exactly one row.
    pub(crate) async fn changed_one<'c>(
        self,
        executor: impl Executor<'c, Database = DB>,
    ) -> Result<bool, StoreError> {
        Ok(self.changed(executor).await? == 1)
    }

    /// A write of the row that `keys` name (bound in the query): true when
    /// it changed one row. Keys no row can hold (`unstorable`) change none,
    /// and the write is not sent.
    pub(crate) async fn change_row<'c>(
        self,
        keys: &[&str],
        executor: impl Executor<'c, Database = DB>,
    ) -> Result<bool, StoreError> {
        if keys.iter().any(|key| unstorable(key)) {
            return Ok(false);
        }
        self.changed_one(executor).await
    }
}

/// Runs `statements` in order on `conn` (in the caller's transaction), each
/// with `key` as `$1`: true when the last changed one row. A delete whose
/// dependents go first.
pub(crate) async fn each_with_key<'q, DB, C>(
    conn: &mut C,
    statements: &[&'q str],
    key: &'q str,
) -> Result<bool, StoreError>
where
    DB: Backend,
    C: Send + ?Sized,
    for<'e> &'e mut C: Executor<'e, Database = DB>,
    <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut changed_last = false;
    for sql in statements {
        changed_last = Write(sqlx::query(sql).bind(key))
            .changed_one(&mut *conn)
            .await?;
    }
    Ok(changed_last)
}

/// The row `sql` (a `SELECT`) selects with `key` as `$1`, as `T`; `None`
/// when there is none, and for a key no row can hold (`unstorable`, not
/// sent). A read: no ping before it (`Conns::fetch_rerunnable`).
pub(crate) async fn find_by_key<'q, DB, T>(
    conns: &Conns<DB>,
    sql: &'q str,
    key: &'q str,
) -> Result<Option<T>, StoreError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    T: for<'r> FromRow<'r, DB::Row>,
{
    if unstorable(key) {
        return Ok(None);
    }
    let row = conns
        .fetch_rerunnable(|| sqlx::query(sql).bind(key))
        .await
        .map_err(unavailable)?;
    row.map(|row| T::from_row(&row))
        .transpose()
        .map_err(unavailable)
}

/// Every row a bound `query` selects, each read as `R` and made a `T` by
/// `convert`.
pub(crate) async fn all_rows<'q, 'c, DB, E, R, T>(
    query: QueryAs<'q, DB, R, <DB as Database>::Arguments<'q>>,
    executor: E,
    convert: impl FnMut(R) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError>
where
    DB: Database,
    E: Executor<'c, Database = DB>,
    <DB as Database>::Arguments<'q>: IntoArguments<'q, DB>,
    R: for<'r> FromRow<'r, DB::Row> + Send + Unpin,
{
    let rows = query.fetch_all(executor).await.map_err(unavailable)?;
    rows.into_iter().map(convert).collect()
}

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
