//! The password store's SQL.

use async_trait::async_trait;

use super::{SqliteStore, to_json, unavailable, user_write_error};
use crate::domain::user::User;
use crate::store::rows::UserRow;
use crate::store::{StoreError, UserRecord, UserStore, now};

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
            .fetch_optional(&self.writer)
            .await
            .map_err(user_write_error)?;
        row.map(User::try_from).transpose()
    }
}

#[async_trait]
impl UserStore for SqliteStore {
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
            .execute(&self.writer)
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
                .execute(&self.writer)
                .await
                .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_user(&self, username_key: &str) -> Result<bool, StoreError> {
        // The user's role grants go with them.
        let mut tx = self.writer.begin().await.map_err(unavailable)?;
        sqlx::query(
            "DELETE FROM role_grants WHERE holder_kind = 'user'
             AND holder_id IN (SELECT id FROM users WHERE username_key = ?)",
        )
        .bind(username_key)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        let done = sqlx::query("DELETE FROM users WHERE username_key = ?")
            .bind(username_key)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn get_user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.map(User::try_from).transpose()
    }
}
