//! The embedded default: SQLite in WAL mode with `synchronous = FULL`, so an
//! acknowledged write survives a crash of the process or the machine.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

use super::StoreError;
use super::conns::Settings;

mod apikeys;
mod batch;
mod clients;
mod console;
mod grants;
mod hot;
mod keys;
mod lockouts;
mod mappers;
mod roles;
mod secrets;
mod users;

/// Reads go to a small set of connections; every write goes through one
/// connection, so writers of this process queue on an async semaphore
/// instead of sleeping in SQLite's busy handler while another connection
/// holds the write lock. (Other processes, such as the CLI, still meet the
/// busy timeout.) Both are held by `store::conns::Conns`, not sqlx's pool.
pub struct SqliteStore {
    pool: Conns,
    writer: Conns,
    /// What only a database file has (rusqlite cannot share an in-memory
    /// one with sqlx): `None` in memory, where both go through sqlx.
    file: Option<OnFile>,
}

/// The rusqlite side of a database file.
struct OnFile {
    /// The hot writes' group commit, holding the writer's checkout while it
    /// writes.
    batch: batch::GroupCommit,
    /// The hot reads, on the calling task.
    hot: hot::HotReads,
}

pub(super) use super::shared::unavailable;

/// The read connections: enough for the server's cores to read while one
/// of them waits on the disk.
const READERS: usize = 4;

/// How long a statement waits for a connection before the store answers
/// `Unavailable`.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);

/// SQLite's connections, held outside sqlx's pool.
type Conns = crate::store::conns::Conns<sqlx::Sqlite>;

impl SqliteStore {
    pub async fn open(database_url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(database_url)
            .map_err(|e| StoreError::Open(format!("{database_url:?}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let file = options.get_filename().to_owned();
        // sqlx names an in-memory database `file:sqlx-in-memory-N`: only the
        // URL says that it is one (and that no file is to be made for it).
        let in_memory = database_url.contains(":memory:") || database_url.contains("mode=memory");
        let on_disk = !in_memory;
        if on_disk {
            if let Some(parent) = file.parent()
                && !parent.as_os_str().is_empty()
            {
                private_dir(parent).map_err(|e| {
                    StoreError::Open(format!("cannot create {}: {e}", parent.display()))
                })?;
            }
            private_file(&file)
                .map_err(|e| StoreError::Open(format!("cannot create {}: {e}", file.display())))?;
        }
        let open_error = |e: sqlx::Error| StoreError::Open(format!("{}: {e}", file.display()));
        let settings = |size| Settings {
            size,
            checkout_timeout: CHECKOUT_TIMEOUT,
            // A file does not go away under an open connection.
            ping_idle: false,
            max_lifetime: None,
            // Nothing to give back to a file.
            idle_timeout: None,
        };
        let writer = Conns::open(options.clone(), settings(1))
            .await
            .map_err(open_error)?;
        let pool = Conns::open(options, settings(READERS))
            .await
            .map_err(open_error)?;
        if on_disk {
            warn_if_shared(&file);
        }
        let file = match on_disk {
            true => Some(OnFile {
                batch: batch::GroupCommit::start(&file, writer.clone())?,
                hot: hot::HotReads::new(file),
            }),
            false => None,
        };
        Ok(SqliteStore { pool, writer, file })
    }
}

// The database holds password hashes, emails, attributes and typed login
// names: its folder is created 0700 and the file 0600 before SQLite opens it,
// as the signing keys are. SQLite gives `-wal` and `-shm` the database
// file's mode.

#[cfg(unix)]
fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(file: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    // An empty file is an empty database; an existing one is left as it is.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn private_file(_: &std::path::Path) -> std::io::Result<()> {
    Ok(())
}

/// Warns about a database file (or its `-wal`/`-shm`) that others may read
/// or write: one made by an earlier version, or copied in.
#[cfg(unix)]
fn warn_if_shared(file: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt as _;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        let path = std::path::PathBuf::from(name);
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                file = %path.display(),
                mode = format_args!("{mode:o}"),
                "the database file is readable or writable by other users: it holds password hashes and personal data; run `chmod 600 {}`",
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_: &std::path::Path) {}

crate::store::shared::database!(@common SqliteStore, pool, writer, "migrations/sqlite");

impl SqliteStore {
    async fn hot_config_version(&self) -> Result<i64, StoreError> {
        self.hot_first(CONFIG_VERSION_SQL, &[], |row| row.int("version"))
            .await?
            .ok_or_else(|| StoreError::Unavailable("the config_version row is missing".into()))
    }
}

/// A fresh database in a directory of its own, for the tests of this
/// module; the directory goes when the guard drops.
#[cfg(test)]
pub(crate) mod testdb {
    use super::SqliteStore;
    use crate::store::Database as _;

    pub struct Dir(std::path::PathBuf);

    impl Dir {
        pub fn path(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            std::fs::remove_dir_all(&self.0).ok();
        }
    }

    pub async fn fresh() -> Option<(SqliteStore, Dir)> {
        let dir = std::env::temp_dir().join(format!("domino-idp-store-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        store.migrate().await.unwrap();
        Some((store, Dir(dir)))
    }
}

#[cfg(test)]
mod tests {
    use super::SqliteStore;
    use crate::store::{Database as _, UserStore as _};

    fn strays() -> Vec<std::ffi::OsString> {
        std::fs::read_dir(".")
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .filter(|name| name.to_string_lossy().starts_with("file:sqlx-in-memory"))
            .collect()
    }

    /// A database that a newer release migrated is refused with a reason an
    /// operator can act on, not sqlx's.
    #[tokio::test]
    async fn a_database_from_a_newer_release_is_refused_clearly() {
        use crate::store::scenarios;
        let (store, dir) = super::testdb::fresh().await.unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
            .await
            .unwrap();
        let future = sqlx::query(scenarios::FUTURE_MIGRATION_SQL).bind(vec![0u8]);
        future.execute(&mut conn).await.unwrap();
        scenarios::a_newer_release_is_named(&store).await;
    }

    /// An in-memory database works, through sqlx for every read, and leaves
    /// no file behind (sqlx names it `file:sqlx-in-memory-N`).
    #[tokio::test]
    async fn an_in_memory_database_makes_no_file() {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        assert!(store.list_users().await.unwrap().is_empty());
        assert!(store.config_version().await.is_ok());
        assert_eq!(strays(), Vec::<std::ffi::OsString>::new());
    }
}
