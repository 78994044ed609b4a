//! The embedded default: SQLite in WAL mode with `synchronous = FULL`, so an
//! acknowledged write survives a crash of the process or the machine.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{Store, StoreError, UserRecord, now};
use crate::domain::user::{PasswordHash, User};

pub struct SqliteStore {
    pool: SqlitePool,
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn write_error(e: sqlx::Error) -> StoreError {
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
        if let Some(parent) = file.parent()
            && !parent.as_os_str().is_empty()
            && file.as_os_str() != ":memory:"
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Open(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open(format!("{}: {e}", file.display())))?;
        Ok(SqliteStore { pool })
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    username: String,
    email: Option<String>,
    cn: String,
    org: Option<String>,
    password_hash: String,
    scopes: String,
    attributes: String,
    groups: String,
    enabled: bool,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<User, StoreError> {
        let corrupt = |what: &str, e: serde_json::Error| {
            StoreError::Corrupt(format!("user {}: {what}: {e}", row.id))
        };
        Ok(User {
            scopes: serde_json::from_str(&row.scopes).map_err(|e| corrupt("scopes", e))?,
            attributes: serde_json::from_str(&row.attributes)
                .map_err(|e| corrupt("attributes", e))?,
            groups: serde_json::from_str(&row.groups).map_err(|e| corrupt("groups", e))?,
            id: row.id,
            username: row.username,
            email: row.email,
            cn: row.cn,
            org: row.org,
            password_hash: PasswordHash(row.password_hash),
            enabled: row.enabled,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const USER_COLUMNS: &str = "id, username, email, cn, org, password_hash, scopes, attributes, groups, enabled, created_at, updated_at";

impl SqliteStore {
    async fn insert(
        &self,
        record: &UserRecord,
        if_absent: bool,
    ) -> Result<Option<User>, StoreError> {
        let u = &record.user;
        let now = now();
        let sql = format!(
            "INSERT INTO users ({USER_COLUMNS}, username_key, email_key)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) {}
             RETURNING {USER_COLUMNS}",
            if if_absent {
                "ON CONFLICT(username_key) DO NOTHING"
            } else {
                ""
            }
        );
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(u.username.as_str())
            .bind(u.email.as_ref().map(|e| e.as_str()))
            .bind(&u.cn)
            .bind(u.org.as_deref())
            .bind(&record.password_hash)
            .bind(to_json(&u.scopes))
            .bind(to_json(&u.attributes))
            .bind(to_json(&u.groups))
            .bind(u.enabled)
            .bind(now)
            .bind(now)
            .bind(u.username.key())
            .bind(u.email.as_ref().map(|e| e.key()))
            .fetch_optional(&self.pool)
            .await
            .map_err(write_error)?;
        row.map(User::try_from).transpose()
    }
}

/// Serialises a JSON column; a list or map of strings cannot fail to serialise.
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("migrations/sqlite")
            .run(&self.pool)
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
        self.insert(record, false)
            .await?
            .ok_or_else(|| StoreError::Conflict("a user with this username already exists".into()))
    }

    async fn insert_user_if_absent(&self, record: &UserRecord) -> Result<bool, StoreError> {
        Ok(self.insert(record, true).await?.is_some())
    }

    async fn find_user_for_login(&self, login_key: &str) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username_key = ?1 OR email_key = ?1
             ORDER BY username_key = ?1 DESC LIMIT 1"
        );
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(login_key)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.map(User::try_from).transpose()
    }

    async fn get_user(&self, username_key: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username_key = ?");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(username_key)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.map(User::try_from).transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username_key");
        let rows: Vec<UserRow> = sqlx::query_as(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(unavailable)?;
        rows.into_iter().map(User::try_from).collect()
    }

    async fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")
            .bind(hash)
            .bind(now())
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_enabled(&self, username_key: &str, enabled: bool) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE users SET enabled = ?, updated_at = ? WHERE username_key = ?")
                .bind(enabled)
                .bind(now())
                .bind(username_key)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_user(&self, username_key: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM users WHERE username_key = ?")
            .bind(username_key)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }
}
