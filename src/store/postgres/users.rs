//! The password store's SQL.

use async_trait::async_trait;

use super::{PgStore, to_json, unavailable, unstorable};
use crate::domain::user::User;
use crate::store::rows::UserRow;
use crate::store::{StoreError, UserRecord, UserStore, now};

/// The JSONB columns come back as text, parsed by `TryFrom<UserRow>`.
const USER_COLUMNS: &str = "id, username, email, cn, org, password_hash, scopes::text AS scopes, attributes::text AS attributes, groups::text AS groups, enabled, created_at, updated_at";

fn user_write_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let what = if db.constraint() == Some("users_email_key_unique") {
                "email"
            } else {
                "username"
            };
            StoreError::Conflict(format!("a user with this {what} already exists"))
        }
        _ => unavailable(e),
    }
}

impl PgStore {
    async fn insert(
        &self,
        record: &UserRecord,
        if_absent: bool,
    ) -> Result<Option<User>, StoreError> {
        let u = &record.user;
        let now = now();
        // Only a taken username is absorbed: a taken email is still a conflict.
        let sql = format!(
            "INSERT INTO users (id, username, email, cn, org, password_hash, scopes, attributes,
                                groups, enabled, created_at, updated_at, username_key, email_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10, $11, $11, $12, $13) {}
             RETURNING {USER_COLUMNS}",
            if if_absent {
                "ON CONFLICT (username_key) DO NOTHING"
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
            .bind(u.username.key())
            .bind(u.email.as_ref().map(|e| e.key()))
            .fetch_optional(&self.pool)
            .await
            .map_err(user_write_error)?;
        row.map(User::try_from).transpose()
    }

    async fn one_user(&self, filter: &str, value: &str) -> Result<Option<User>, StoreError> {
        if unstorable(value) {
            return Ok(None);
        }
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {filter} = $1");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.map(User::try_from).transpose()
    }
}

#[async_trait]
impl UserStore for PgStore {
    async fn insert_user(&self, record: &UserRecord) -> Result<User, StoreError> {
        self.insert(record, false)
            .await?
            .ok_or_else(|| StoreError::Conflict("a user with this username already exists".into()))
    }

    async fn insert_user_if_absent(&self, record: &UserRecord) -> Result<bool, StoreError> {
        Ok(self.insert(record, true).await?.is_some())
    }

    async fn find_user_for_login(&self, login_key: &str) -> Result<Option<User>, StoreError> {
        if unstorable(login_key) {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username_key = $1 OR email_key = $1
             ORDER BY username_key = $1 DESC LIMIT 1"
        );
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(login_key)
            .fetch_optional(&self.pool)
            .await
            .map_err(unavailable)?;
        row.map(User::try_from).transpose()
    }

    async fn get_user(&self, username_key: &str) -> Result<Option<User>, StoreError> {
        self.one_user("username_key", username_key).await
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
        if unstorable(user_id) {
            return Ok(false);
        }
        let done =
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(hash)
                .bind(now())
                .bind(user_id)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_enabled(&self, username_key: &str, enabled: bool) -> Result<bool, StoreError> {
        if unstorable(username_key) {
            return Ok(false);
        }
        let done =
            sqlx::query("UPDATE users SET enabled = $1, updated_at = $2 WHERE username_key = $3")
                .bind(enabled)
                .bind(now())
                .bind(username_key)
                .execute(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    /// One statement: the user's sessions, codes and refresh tokens go with it
    /// (ON DELETE CASCADE), atomically.
    async fn delete_user(&self, username_key: &str) -> Result<bool, StoreError> {
        if unstorable(username_key) {
            return Ok(false);
        }
        // The user's role grants go with them.
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        sqlx::query(
            "DELETE FROM role_grants WHERE holder_kind = 'user'
             AND holder_id IN (SELECT id FROM users WHERE username_key = $1)",
        )
        .bind(username_key)
        .execute(&mut *tx)
        .await
        .map_err(unavailable)?;
        let done = sqlx::query("DELETE FROM users WHERE username_key = $1")
            .bind(username_key)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn get_user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.one_user("id", id).await
    }
}

#[cfg(test)]
mod tests {
    //! Against the server `IDP_TEST_POSTGRES_URL` names (skipped when unset).
    use super::*;
    use crate::domain::user::{NewUser, UserSpec};
    use crate::store::postgres::testdb;

    fn record(username: &str, email: &str) -> UserRecord {
        UserRecord {
            user: NewUser::from_spec(&UserSpec {
                username: username.into(),
                email: Some(email.into()),
                ..UserSpec::default()
            })
            .unwrap(),
            password_hash: "x".into(),
        }
    }

    #[tokio::test]
    async fn taken_names_are_conflicts_with_the_sqlite_store_messages() {
        let Some((s, _)) = testdb::fresh().await else {
            return;
        };
        let doc = s
            .insert_user(&record("Doc", "doc@example.com"))
            .await
            .unwrap();
        assert_eq!(doc.username, "Doc");
        let conflict = |r: Result<User, StoreError>| match r {
            Err(StoreError::Conflict(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            conflict(s.insert_user(&record("doc", "other@example.com")).await),
            "a user with this username already exists"
        );
        assert_eq!(
            conflict(s.insert_user(&record("other", "DOC@example.com")).await),
            "a user with this email already exists"
        );
        // Seeding absorbs a taken username, not a taken email.
        assert!(
            !s.insert_user_if_absent(&record("DOC", "x@example.com"))
                .await
                .unwrap()
        );
        assert!(matches!(
            s.insert_user_if_absent(&record("new", "doc@example.com"))
                .await,
            Err(StoreError::Conflict(_))
        ));
        // Logins by username or email; a key Postgres cannot hold finds nobody.
        let by_email = s.find_user_for_login("doc@example.com").await.unwrap();
        assert_eq!(by_email.map(|u| u.id), Some(doc.id.clone()));
        assert!(s.find_user_for_login("do\0c").await.unwrap().is_none());
        assert!(s.set_enabled("doc", false).await.unwrap());
        assert!(!s.get_user("doc").await.unwrap().unwrap().enabled);
        assert!(s.delete_user("doc").await.unwrap());
        assert!(s.list_users().await.unwrap().is_empty());
    }
}
