//! The embedded default: SQLite in WAL mode with `synchronous = FULL`, so an
//! acknowledged write survives a crash of the process or the machine.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{
    CodeRecord, CodeRedemption, FailureKind, LockPolicy, LockState, Lockout, RefreshClaim,
    RefreshRecord, Reservation, SessionRecord, Store, StoreError, StoredKey, StoredKeyDates,
    UserRecord,
};
use crate::domain::client::Client;
use crate::domain::mapper::MapperSpec;
use crate::domain::user::User;

mod clients;
mod grants;
mod keys;
mod lockouts;
mod mappers;
mod users;

/// Reads go to a small pool; every write goes through one connection, so
/// writers of this process queue on an async semaphore instead of sleeping
/// in SQLite's busy handler while another connection holds the write lock.
/// (Other processes, such as the CLI, still meet the busy timeout.)
pub struct SqliteStore {
    pool: SqlitePool,
    writer: SqlitePool,
}

pub(super) fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(super) fn user_write_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let what = if db.message().contains("email") {
                "email"
            } else {
                "username"
            };
            StoreError::Conflict(format!("a user with this {what} already exists"))
        }
        _ => unavailable(e),
    }
}

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
        let on_disk = file.as_os_str() != ":memory:";
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
        // A local file needs no liveness check before each use (sqlx's
        // default costs a round trip per query).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await
            .map_err(open_error)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(open_error)?;
        if on_disk {
            warn_if_shared(&file);
        }
        Ok(SqliteStore { pool, writer })
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

pub(super) use crate::store::rows::{from_json, to_json};

// Each method forwards to the inherent method of the same name in
// users.rs, clients.rs, mappers.rs, grants.rs or lockouts.rs, where the SQL lives.
#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("migrations/sqlite")
            .run(&self.writer)
            .await
            .map_err(|e| StoreError::Open(format!("migration failed: {e}")))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn insert_user(&self, record: &UserRecord) -> Result<User, StoreError> {
        SqliteStore::insert_user(self, record).await
    }

    async fn insert_user_if_absent(&self, record: &UserRecord) -> Result<bool, StoreError> {
        SqliteStore::insert_user_if_absent(self, record).await
    }

    async fn find_user_for_login(&self, login_key: &str) -> Result<Option<User>, StoreError> {
        SqliteStore::find_user_for_login(self, login_key).await
    }

    async fn get_user(&self, username_key: &str) -> Result<Option<User>, StoreError> {
        SqliteStore::get_user(self, username_key).await
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        SqliteStore::list_users(self).await
    }

    async fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<bool, StoreError> {
        SqliteStore::set_password_hash(self, user_id, hash).await
    }

    async fn set_enabled(&self, username_key: &str, enabled: bool) -> Result<bool, StoreError> {
        SqliteStore::set_enabled(self, username_key, enabled).await
    }

    async fn delete_user(&self, username_key: &str) -> Result<bool, StoreError> {
        SqliteStore::delete_user(self, username_key).await
    }

    async fn get_user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        SqliteStore::get_user_by_id(self, id).await
    }

    async fn insert_client(&self, client: &Client) -> Result<(), StoreError> {
        SqliteStore::insert_client(self, client).await
    }

    async fn insert_client_if_absent(&self, client: &Client) -> Result<bool, StoreError> {
        SqliteStore::insert_client_if_absent(self, client).await
    }

    async fn get_client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        SqliteStore::get_client(self, client_id).await
    }

    async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
        SqliteStore::list_clients(self).await
    }

    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        SqliteStore::delete_client(self, client_id).await
    }

    async fn insert_mapper(&self, spec: &MapperSpec) -> Result<(), StoreError> {
        SqliteStore::insert_mapper(self, spec).await
    }

    async fn insert_mapper_if_absent(&self, spec: &MapperSpec) -> Result<bool, StoreError> {
        SqliteStore::insert_mapper_if_absent(self, spec).await
    }

    async fn list_mappers(&self) -> Result<Vec<MapperSpec>, StoreError> {
        SqliteStore::list_mappers(self).await
    }

    async fn delete_mapper(&self, name: &str) -> Result<bool, StoreError> {
        SqliteStore::delete_mapper(self, name).await
    }

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        SqliteStore::insert_session(self, session).await
    }

    async fn get_session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        SqliteStore::get_session(self, id).await
    }

    async fn find_session_by_cookie(
        &self,
        cookie_hash: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        SqliteStore::find_session_by_cookie(self, cookie_hash).await
    }

    async fn end_session(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        SqliteStore::end_session(self, id, now).await
    }

    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StoreError> {
        SqliteStore::insert_code(self, code).await
    }

    async fn redeem_code(&self, code_hash: &str, now: i64) -> Result<CodeRedemption, StoreError> {
        SqliteStore::redeem_code(self, code_hash, now).await
    }

    async fn set_code_family(&self, code_hash: &str, family_id: &str) -> Result<(), StoreError> {
        SqliteStore::set_code_family(self, code_hash, family_id).await
    }

    async fn insert_refresh(&self, token: &RefreshRecord) -> Result<(), StoreError> {
        SqliteStore::insert_refresh(self, token).await
    }

    async fn claim_refresh(&self, token_hash: &str, now: i64) -> Result<RefreshClaim, StoreError> {
        SqliteStore::claim_refresh(self, token_hash, now).await
    }

    async fn get_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
        SqliteStore::get_refresh(self, token_hash).await
    }

    async fn revoke_family(&self, family_id: &str, now: i64) -> Result<u64, StoreError> {
        SqliteStore::revoke_family(self, family_id, now).await
    }

    async fn deny_jti(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        SqliteStore::deny_jti(self, jti, expires_at).await
    }

    async fn is_jti_denied(&self, jti: &str) -> Result<bool, StoreError> {
        SqliteStore::is_jti_denied(self, jti).await
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let grants = SqliteStore::purge_expired(self, now).await?;
        let counters = SqliteStore::purge_login_failures(self, now.saturating_mul(1000)).await?;
        Ok(grants + counters)
    }

    async fn record_login_failure(
        &self,
        kind: FailureKind,
        key: &str,
        now_ms: i64,
        policy: &LockPolicy,
    ) -> Result<LockState, StoreError> {
        SqliteStore::record_login_failure(self, kind, key, now_ms, policy).await
    }

    async fn reserve_login_attempt(
        &self,
        kind: FailureKind,
        key: &str,
        now_ms: i64,
        policy: &LockPolicy,
        lease_ms: i64,
        nonce: i64,
    ) -> Result<Reservation, StoreError> {
        SqliteStore::reserve_login_attempt(self, kind, key, now_ms, policy, lease_ms, nonce).await
    }

    async fn release_login_attempt(
        &self,
        kind: FailureKind,
        key: &str,
        succeeded: bool,
    ) -> Result<(), StoreError> {
        SqliteStore::release_login_attempt(self, kind, key, succeeded).await
    }

    async fn login_lock(
        &self,
        kind: FailureKind,
        key: &str,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        SqliteStore::login_lock(self, kind, key, now_ms).await
    }

    async fn clear_login_failures(&self, kind: FailureKind, key: &str) -> Result<bool, StoreError> {
        SqliteStore::clear_login_failures(self, kind, key).await
    }

    async fn list_lockouts(&self, now_ms: i64) -> Result<Vec<Lockout>, StoreError> {
        SqliteStore::list_lockouts(self, now_ms).await
    }

    async fn list_signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        SqliteStore::list_signing_keys(self).await
    }

    async fn add_signing_key(
        &self,
        key: &StoredKey,
        pins: &[(String, StoredKeyDates)],
    ) -> Result<bool, StoreError> {
        SqliteStore::add_signing_key(self, key, pins).await
    }

    async fn update_signing_key(
        &self,
        kid: &str,
        dates: &StoredKeyDates,
        archived_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        SqliteStore::update_signing_key(self, kid, dates, archived_at).await
    }
}
