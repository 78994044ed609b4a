//! The password store's SQL.

use crate::store::StoreError;

/// A taken username or email, by the unique index the database names in its
/// message (`users.email_key` on SQLite, `users_email_key_unique` on
/// Postgres); anything else as `Unavailable`.
pub(crate) fn write_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let what = if db.message().contains("email") {
                "email"
            } else {
                "username"
            };
            StoreError::Conflict(format!("a user with this {what} already exists"))
        }
        _ => super::unavailable(e),
    }
}

/// `impl UserStore for $store`, reading from `self.$read` and writing through
/// `self.$write`. JSON columns are written as `$N` followed by `$json_in`
/// (Postgres: `::jsonb`) and read back as text with `$json_out` (`::text`).
///
/// The hot reads (a token's holder: `get_refresh_with_holder`,
/// `get_session_with_user`, `find_api_key_holder`) go through a backend's
/// `hot_read` (`store::shared::holders`): sqlx's, or the SQLite backend's
/// own, which invokes only `@common`.
macro_rules! user_store {
    ($store:ty, $read:ident, $write:ident, $json_in:literal, $json_out:literal) => {
        $crate::store::shared::user_store!(@common $store, $read, $write, $json_in, $json_out);
        $crate::store::shared::holder_reads!($store, $read);
    };
    (@common $store:ty, $read:ident, $write:ident, $json_in:literal, $json_out:literal) => {
        const USER_COLUMNS: &str = concat!(
            "id, username, email, cn, org, password_hash, scopes",
            $json_out,
            " AS scopes, attributes",
            $json_out,
            " AS attributes, groups",
            $json_out,
            " AS groups, enabled, created_at, updated_at"
        );

        $crate::store::shared::holder_sql!();

        impl $store {
            async fn insert(
                &self,
                record: &$crate::store::UserRecord,
                if_absent: bool,
            ) -> Result<Option<$crate::domain::user::User>, $crate::store::StoreError> {
                use $crate::store::rows::{UserRow, to_json};
                let u = &record.user;
                let now = $crate::store::now();
                // Only a taken username is absorbed: a taken email is still a conflict.
                let sql = format!(
                    concat!(
                        "INSERT INTO users (id, username, email, cn, org, password_hash, scopes,
                                            attributes, groups, enabled, created_at, updated_at,
                                            username_key, email_key)
                         VALUES ($1, $2, $3, $4, $5, $6, $7",
                        $json_in,
                        ", $8",
                        $json_in,
                        ", $9",
                        $json_in,
                        ", $10, $11, $11, $12, $13) {}
                         RETURNING {}"
                    ),
                    if if_absent {
                        "ON CONFLICT (username_key) DO NOTHING"
                    } else {
                        ""
                    },
                    USER_COLUMNS
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
                    .fetch_optional(&self.$write)
                    .await
                    .map_err($crate::store::shared::users::write_error)?;
                row.map($crate::domain::user::User::try_from).transpose()
            }

            /// The user `SELECT ... FROM users WHERE {filter}` finds, with
            /// `value` as `$1`.
            async fn one_user(
                &self,
                filter: &str,
                value: &str,
            ) -> Result<Option<$crate::domain::user::User>, $crate::store::StoreError> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {filter}");
                let row: Option<$crate::store::rows::UserRow> =
                    $crate::store::shared::find_by_key(&self.$read, &sql, value).await?;
                row.map($crate::domain::user::User::try_from).transpose()
            }

            /// The session `sql` (a holder statement of `holder_sql!`) finds
            /// by `key`, with its user.
            async fn session_and_user(
                &self,
                sql: &str,
                key: &str,
            ) -> Result<Option<$crate::store::SessionHolder>, $crate::store::StoreError> {
                let read = $crate::store::rows::UserSessionRow::read;
                let row = self.hot_read(sql, &[$crate::store::rows::Arg::Text(key)], read).await?;
                match row.map($crate::store::rows::UserSessionRow::split).transpose()? {
                    Some((user, Some(session))) => Ok(Some((session, user))),
                    _ => Ok(None),
                }
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::UserStore for $store {
            async fn insert_user(
                &self,
                record: &$crate::store::UserRecord,
            ) -> Result<$crate::domain::user::User, $crate::store::StoreError> {
                self.insert(record, false).await?.ok_or_else(|| {
                    $crate::store::StoreError::Conflict(
                        "a user with this username already exists".into(),
                    )
                })
            }

            async fn insert_user_if_absent(
                &self,
                record: &$crate::store::UserRecord,
            ) -> Result<bool, $crate::store::StoreError> {
                Ok(self.insert(record, true).await?.is_some())
            }

            async fn find_user_for_login(
                &self,
                login_key: &str,
            ) -> Result<Option<$crate::domain::user::User>, $crate::store::StoreError> {
                // A username wins over another user's email.
                let filter = "username_key = $1 OR email_key = $1
                              ORDER BY username_key = $1 DESC LIMIT 1";
                self.one_user(filter, login_key).await
            }

            async fn get_user(
                &self,
                username_key: &str,
            ) -> Result<Option<$crate::domain::user::User>, $crate::store::StoreError> {
                self.one_user("username_key = $1", username_key).await
            }

            async fn list_users(
                &self,
            ) -> Result<Vec<$crate::domain::user::User>, $crate::store::StoreError> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username_key");
                $crate::store::shared::all_rows(sqlx::query_as(&sql), &self.$read, |row: $crate::store::rows::UserRow| {
                    row.try_into()
                })
                .await
            }

            async fn set_password_hash(
                &self,
                user_id: &str,
                hash: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                let query = sqlx::query(
                    "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3",
                )
                .bind(hash)
                .bind($crate::store::now())
                .bind(user_id);
                $crate::store::shared::Write(query).change_row(&[user_id], &self.$write).await
            }

            /// Rewrites the profile (email, cn, org, scopes, attributes,
            /// groups); the username, password and enabled flag stay.
            async fn update_user(
                &self,
                user_id: &str,
                u: &$crate::domain::user::NewUser,
            ) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::rows::to_json;
                if $crate::store::shared::unstorable(user_id) {
                    return Ok(false);
                }
                let done = sqlx::query(concat!(
                    "UPDATE users SET email = $1, email_key = $2, cn = $3, org = $4, scopes = $5",
                    $json_in,
                    ", attributes = $6",
                    $json_in,
                    ", groups = $7",
                    $json_in,
                    ", updated_at = $8 WHERE id = $9"
                ))
                .bind(u.email.as_ref().map(|e| e.as_str()))
                .bind(u.email.as_ref().map(|e| e.key()))
                .bind(&u.cn)
                .bind(u.org.as_deref())
                .bind(to_json(&u.scopes))
                .bind(to_json(&u.attributes))
                .bind(to_json(&u.groups))
                .bind($crate::store::now())
                .bind(user_id)
                .execute(&self.$write)
                .await
                .map_err($crate::store::shared::users::write_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_enabled(
                &self,
                username_key: &str,
                enabled: bool,
            ) -> Result<bool, $crate::store::StoreError> {
                let query = sqlx::query(
                    "UPDATE users SET enabled = $1, updated_at = $2 WHERE username_key = $3",
                )
                .bind(enabled)
                .bind($crate::store::now())
                .bind(username_key);
                $crate::store::shared::Write(query).change_row(&[username_key], &self.$write).await
            }

            /// The user's sessions, codes and refresh tokens go with it (ON
            /// DELETE CASCADE), and its role grants, in one transaction.
            async fn delete_user(&self, username_key: &str) -> Result<bool, $crate::store::StoreError> {
                use $crate::store::shared::{unavailable, unstorable};
                if unstorable(username_key) {
                    return Ok(false);
                }
                let mut tx = self.$write.begin().await.map_err(unavailable)?;
                let statements = [
                    "DELETE FROM role_grants WHERE holder_kind = 'user'
                     AND holder_id IN (SELECT id FROM users WHERE username_key = $1)",
                    "DELETE FROM users WHERE username_key = $1",
                ];
                let deleted = $crate::store::shared::each_with_key(&mut *tx, &statements, username_key).await?;
                tx.commit().await.map_err(unavailable)?;
                Ok(deleted)
            }

            async fn get_user_by_id(
                &self,
                id: &str,
            ) -> Result<Option<$crate::domain::user::User>, $crate::store::StoreError> {
                self.one_user("id = $1", id).await
            }

            async fn get_user_with_session(
                &self,
                user_id: &str,
                session_id: &str,
            ) -> Result<
                Option<($crate::domain::user::User, Option<$crate::store::SessionRecord>)>,
                $crate::store::StoreError,
            > {
                use $crate::store::shared::{unavailable, unstorable};
                use $crate::store::rows::USER_SESSION_COLUMNS;
                if unstorable(user_id) {
                    return Ok(None);
                }
                // A NUL in the session id matches no session (and must not
                // reach Postgres): look up an empty id instead.
                let session_id = if unstorable(session_id) { "" } else { session_id };
                let sql = format!(
                    "SELECT {USER_SESSION_COLUMNS}
                     FROM (SELECT {USER_COLUMNS} FROM users WHERE id = $1) u
                     LEFT JOIN sessions s ON s.id = $2 AND s.user_id = u.id"
                );
                let row: Option<$crate::store::rows::UserSessionRow> = sqlx::query_as(&sql)
                    .bind(user_id)
                    .bind(session_id)
                    .fetch_optional(&self.$read)
                    .await
                    .map_err(unavailable)?;
                row.map($crate::store::rows::UserSessionRow::split).transpose()
            }

            async fn get_refresh_with_holder(
                &self,
                token_hash: &str,
            ) -> Result<Option<$crate::store::RefreshHolder>, $crate::store::StoreError> {
                let read = $crate::store::rows::RefreshHolderRow::read;
                let row = self.hot_read(refresh_holder_sql(), &[$crate::store::rows::Arg::Text(token_hash)], read).await?;
                row.map($crate::store::rows::RefreshHolderRow::split).transpose()
            }

            async fn get_session_with_user(
                &self,
                session_id: &str,
            ) -> Result<Option<$crate::store::SessionHolder>, $crate::store::StoreError> {
                self.session_and_user(session_with_user_sql(), session_id).await
            }

            async fn get_bearer_holder(
                &self,
                session_id: &str,
                jti: &str,
            ) -> Result<$crate::store::BearerHolder, $crate::store::StoreError> {
                use $crate::store::BearerHolder;
                if $crate::store::shared::unstorable(jti) {
                    // No row holds such a jti: it is not denied.
                    let found = self.session_and_user(session_with_user_sql(), session_id).await?;
                    return Ok(found.map_or(BearerHolder::NoSession, |f| BearerHolder::Session(Box::new(f))));
                }
                let read = $crate::store::rows::BearerRow::read;
                let Some(row) = self.hot_read(bearer_holder_sql(), &[$crate::store::rows::Arg::Text(jti), $crate::store::rows::Arg::Text(session_id)], read).await?
                else {
                    // No session: whether the token was revoked still decides
                    // what its caller is told.
                    let denied = $crate::store::GrantStore::is_jti_denied(self, jti).await?;
                    return Ok(if denied { BearerHolder::Denied } else { BearerHolder::NoSession });
                };
                if row.denied {
                    return Ok(BearerHolder::Denied);
                }
                Ok(match row.holder.split()? {
                    (user, Some(session)) => BearerHolder::Session(Box::new((session, user))),
                    (_, None) => BearerHolder::NoSession,
                })
            }

            async fn find_session_by_cookie_with_user(
                &self,
                cookie_hash: &str,
            ) -> Result<Option<$crate::store::SessionHolder>, $crate::store::StoreError> {
                self.session_and_user(session_by_cookie_with_user_sql(), cookie_hash).await
            }

            async fn find_api_key_holder(
                &self,
                key_hash: &str,
            ) -> Result<Option<$crate::store::ApiKeyHolder>, $crate::store::StoreError> {
                let read = $crate::store::rows::KeyHolderRow::read;
                let row = self.hot_read(api_key_holder_sql(), &[$crate::store::rows::Arg::Text(key_hash)], read).await?;
                row.map($crate::store::rows::KeyHolderRow::split).transpose()
            }

            async fn find_api_key_holder_and_lock(
                &self,
                key_hash: &str,
                ip_key: &str,
                now_ms: i64,
            ) -> Result<(Option<i64>, Option<$crate::store::ApiKeyHolder>), $crate::store::StoreError> {
                use $crate::store::rows::{Arg, KeyHolderRow, LockedKeyRow};
                use $crate::store::{FailureKind, LockoutStore};
                // A counter's key is always storable (`counter_key`); a
                // digest no row can hold leaves the lockout to read alone.
                if $crate::store::shared::unstorable(key_hash) {
                    return Ok((self.login_lock(FailureKind::Ip, ip_key, now_ms).await?, None));
                }
                let counter = $crate::store::shared::lockouts::counter_key(ip_key);
                let args = [
                    Arg::Text(FailureKind::Ip.as_str()),
                    Arg::Text(&counter),
                    Arg::Int(now_ms),
                    Arg::Text(key_hash),
                ];
                let sql = api_key_holder_and_lock_sql();
                let Some(row) = self.hot_read(sql, &args, LockedKeyRow::read).await? else {
                    return Ok((None, None));
                };
                Ok((row.locked_until, row.key.map(KeyHolderRow::split).transpose()?))
            }
        }
    };
}

pub(crate) use user_store;
