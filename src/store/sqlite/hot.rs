//! The hottest reads on SQLite (a token's holder, the config version), run
//! on the calling task with rusqlite instead of a round trip to a sqlx
//! connection's worker thread.
//!
//! A read of a hot page in WAL mode takes microseconds: less than the two
//! thread hops (and the wake-ups) it cost through sqlx's worker. It never
//! waits for a writer: WAL readers read the last committed snapshot, taken
//! when the statement starts, so a read sees every write committed before
//! it started, by this process or another (the CLI). Only recovering a
//! crashed writer's WAL makes a reader wait (the busy timeout), once.
//!
//! The SQL is the backends' shared text (`store::shared`), the row mapping
//! `store::rows`; the connections are read-write without create (the file
//! exists: `SqliteStore::open` made it 0600) and `query_only`.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Params, Row};

use crate::store::StoreError;
use crate::store::rows::{Arg, Columns};

use super::SqliteStore;

/// Connections for the synchronous reads, one per thread reading at once
/// (a read does not await, so there are never more than the runtime's
/// threads).
pub(super) struct HotReads {
    file: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl HotReads {
    pub(super) fn new(file: PathBuf) -> HotReads {
        HotReads {
            file,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The first row of `sql` with `params`,
    /// mapped by `map`; a connection that failed is closed, not kept.
    fn first<T>(
        &self,
        sql: &str,
        params: impl Params,
        map: impl FnOnce(&dyn Columns) -> Result<T, sqlx::Error>,
    ) -> Result<Option<T>, StoreError> {
        let idle = self.lock().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let out = first(&conn, sql, params, map);
        if out.is_ok() {
            self.lock().push(conn);
        }
        out
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.file, flags).map_err(unavailable)?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(unavailable)?;
        conn.pragma_update(None, "query_only", true)
            .map_err(unavailable)?;
        Ok(conn)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // Only pushed and popped: a panic elsewhere cannot leave it half-changed.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The first row of `sql` on `conn`, mapped by `map`; the statement is
/// reset before this returns (a transaction can commit after it).
pub(super) fn first<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&dyn Columns) -> Result<T, sqlx::Error>,
) -> Result<Option<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(unavailable)?;
    let mut rows = statement.query(params).map_err(unavailable)?;
    match rows.next().map_err(unavailable)? {
        Some(row) => {
            let names = row.as_ref().column_names();
            map(&Named { row, names })
                .map(Some)
                .map_err(crate::store::shared::unavailable)
        }
        None => Ok(None),
    }
}

/// A row with its statement's column names read once. `Row::get(name)`
/// asks SQLite for each column's name until one matches, for every value
/// read: on a holder's twenty columns that was a sixth of a hot read's CPU.
struct Named<'a, 'r> {
    row: &'a Row<'r>,
    names: Vec<&'a str>,
}

impl Named<'_, '_> {
    /// `name`'s value, matched as SQLite matches names (ASCII case aside).
    fn get<T: rusqlite::types::FromSql>(&self, name: &str) -> Result<T, sqlx::Error> {
        let index = self
            .names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| decode(name, rusqlite::Error::InvalidColumnName(name.into())))?;
        self.row.get(index).map_err(|e| decode(name, e))
    }
}

impl Columns for Named<'_, '_> {
    fn text_or_null(&self, name: &str) -> Result<Option<String>, sqlx::Error> {
        self.get(name)
    }

    fn int_or_null(&self, name: &str) -> Result<Option<i64>, sqlx::Error> {
        self.get(name)
    }

    fn flag(&self, name: &str) -> Result<bool, sqlx::Error> {
        self.get(name)
    }
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match *self {
            Arg::Text(text) => text.to_sql(),
            Arg::Int(n) => Ok(rusqlite::types::ToSqlOutput::from(n)),
        }
    }
}

pub(super) fn unavailable(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn decode(name: &str, e: rusqlite::Error) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: name.into(),
        source: Box::new(e),
    }
}

impl SqliteStore {
    /// The first row of a hot read, mapped by `read`: through rusqlite on
    /// this task, or through sqlx for a database that is not a file
    /// (`sqlite::memory:`, which rusqlite cannot share).
    pub(super) async fn hot_first<T>(
        &self,
        sql: &str,
        args: &[Arg<'_>],
        read: fn(&dyn Columns) -> Result<T, sqlx::Error>,
    ) -> Result<Option<T>, StoreError> {
        let Some(super::OnFile { hot, .. }) = &self.file else {
            let row = crate::store::shared::binds::hot_args(sql, args)
                .fetch_optional(&self.pool)
                .await
                .map_err(super::unavailable)?;
            return row
                .map(|row| read(&row))
                .transpose()
                .map_err(super::unavailable);
        };
        hot.first(sql, rusqlite::params_from_iter(args), read)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{Database as _, StoreError};

    /// What another process (the CLI) commits is read by the next hot read:
    /// no connection keeps a snapshot between reads.
    #[tokio::test]
    async fn a_hot_read_sees_what_another_connection_committed() {
        let (store, dir) = crate::store::sqlite::testdb::fresh().await.unwrap();
        let before = store.config_version().await.unwrap();
        let other = rusqlite::Connection::open(dir.path().join("t.db")).unwrap();
        other
            .execute(
                "UPDATE config_version SET version = version + 1 WHERE id = 1",
                [],
            )
            .unwrap();
        assert_eq!(store.config_version().await.unwrap(), before + 1);
        assert!(store.file.is_some(), "the read did not take the hot path");
    }

    #[tokio::test]
    async fn a_hot_read_of_a_database_gone_is_unavailable() {
        let (store, dir) = crate::store::sqlite::testdb::fresh().await.unwrap();
        std::fs::remove_dir_all(dir.path()).unwrap();
        match store.config_version().await {
            Err(StoreError::Unavailable(_)) => {}
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
}
