//! Persistence behind one trait. Handlers and domain code see only `Store`;
//! each backend lives in its own module with its own migrations.

pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::user::{NewUser, User};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique name is already taken.
    #[error("{0}")]
    Conflict(String),
    /// The backend could not be reached or failed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored row could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot open the store: {0}")]
    Open(String),
}

/// A user to insert: the validated fields plus the password hash to store.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: NewUser,
    pub password_hash: String,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies the backend's embedded migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Cheap reachability check for `/health/ready`.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Inserts a user; `Conflict` when the username or email is taken.
    async fn insert_user(&self, record: &UserRecord) -> Result<User, StoreError>;
    /// Inserts a user unless the username is taken; true when inserted.
    /// Safe when several processes seed at once.
    async fn insert_user_if_absent(&self, record: &UserRecord) -> Result<bool, StoreError>;
    /// The user whose username or email has this key; usernames win.
    async fn find_user_for_login(&self, login_key: &str) -> Result<Option<User>, StoreError>;
    async fn get_user(&self, username_key: &str) -> Result<Option<User>, StoreError>;
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;
    /// Replaces the password hash; false when the user does not exist.
    async fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<bool, StoreError>;
    async fn set_enabled(&self, username_key: &str, enabled: bool) -> Result<bool, StoreError>;
    async fn delete_user(&self, username_key: &str) -> Result<bool, StoreError>;
}

/// Opens the store a `database_url` names.
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(database_url).await?))
    } else {
        Err(StoreError::Open(format!(
            "unsupported database_url {database_url:?}; use sqlite://PATH"
        )))
    }
}

pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
