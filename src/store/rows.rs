//! Rows as both backends read them, and their conversion to domain types:
//! the column types line up (TEXT/JSON text, 64-bit integers, booleans), so
//! one `FromRow` derive serves SQLite and Postgres alike.

use super::{
    ApiKeyHolder, ApiKeyRecord, RefreshHolder, RefreshRecord, RoleGrant, SessionRecord, StoreError,
};
use crate::domain::client::{Client, ClientId};
use crate::domain::role::{Holder, Role, RoleRef};
use crate::domain::user::{PasswordHash, User};

/// Serialises a JSON column; a list or map of strings cannot fail to serialise.
pub(super) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// Reads a JSON column written by `to_json` (on Postgres, selected as text).
pub(super) fn from_json<T: serde::de::DeserializeOwned>(
    what: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(super) struct UserRow {
    pub(super) id: String,
    pub(super) username: String,
    pub(super) email: Option<String>,
    pub(super) cn: String,
    pub(super) org: Option<String>,
    pub(super) password_hash: String,
    pub(super) scopes: String,
    pub(super) attributes: String,
    pub(super) groups: String,
    pub(super) enabled: bool,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
}

impl UserRow {
    pub(super) fn read(r: &dyn Columns) -> Result<Self, sqlx::Error> {
        Ok(UserRow {
            id: r.text("id")?,
            username: r.text("username")?,
            email: r.text_or_null("email")?,
            cn: r.text("cn")?,
            org: r.text_or_null("org")?,
            password_hash: r.text("password_hash")?,
            scopes: r.text("scopes")?,
            attributes: r.text("attributes")?,
            groups: r.text("groups")?,
            enabled: r.flag("enabled")?,
            created_at: r.int("created_at")?,
            updated_at: r.int("updated_at")?,
        })
    }
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

#[derive(sqlx::FromRow)]
pub(super) struct ClientRow {
    pub(super) client_id: String,
    pub(super) name: Option<String>,
    pub(super) secret_hash: Option<String>,
    pub(super) redirect_uris: String,
    pub(super) post_logout_redirect_uris: String,
    pub(super) grant_types: String,
    pub(super) default_scopes: String,
    pub(super) optional_scopes: String,
    pub(super) allowed_scopes: Option<String>,
    pub(super) web_origins: String,
    pub(super) created_at: i64,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;
    fn try_from(row: ClientRow) -> Result<Client, StoreError> {
        let what = |field: &str| format!("client {}: {field}", row.client_id);
        Ok(Client {
            redirect_uris: from_json(&what("redirect_uris"), &row.redirect_uris)?,
            post_logout_redirect_uris: from_json(
                &what("post_logout_redirect_uris"),
                &row.post_logout_redirect_uris,
            )?,
            grant_types: from_json(&what("grant_types"), &row.grant_types)?,
            default_scopes: from_json(&what("default_scopes"), &row.default_scopes)?,
            optional_scopes: from_json(&what("optional_scopes"), &row.optional_scopes)?,
            allowed_scopes: row
                .allowed_scopes
                .as_deref()
                .map(|text| from_json(&what("allowed_scopes"), text))
                .transpose()?,
            web_origins: from_json(&what("web_origins"), &row.web_origins)?,
            client_id: ClientId::parse(&row.client_id)
                .map_err(|e| StoreError::Corrupt(what(&e.0)))?,
            name: row.name,
            secret_hash: row.secret_hash,
            created_at: row.created_at,
        })
    }
}

/// A parameter of a hot read (`$1`, `$2`, ... in order), whichever driver
/// runs it.
#[derive(Clone, Copy)]
pub(super) enum Arg<'a> {
    Text(&'a str),
    Int(i64),
}

impl Arg<'_> {
    /// Text no row can hold (`shared::unstorable`): a read with it finds
    /// nothing and is not sent.
    pub(super) fn unstorable(&self) -> bool {
        matches!(self, Arg::Text(text) if super::shared::unstorable(text))
    }
}

/// A row's columns by name, whichever driver read it: the rows of the hot
/// reads are mapped once, here, for sqlx on both backends and for rusqlite
/// on SQLite (`store::sqlite::hot`).
pub(super) trait Columns {
    fn text_or_null(&self, name: &str) -> Result<Option<String>, sqlx::Error>;
    fn int_or_null(&self, name: &str) -> Result<Option<i64>, sqlx::Error>;
    fn flag(&self, name: &str) -> Result<bool, sqlx::Error>;

    fn text(&self, name: &str) -> Result<String, sqlx::Error> {
        self.text_or_null(name)?.ok_or_else(|| null(name))
    }

    fn int(&self, name: &str) -> Result<i64, sqlx::Error> {
        self.int_or_null(name)?.ok_or_else(|| null(name))
    }
}

fn null(name: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: name.into(),
        source: Box::new(sqlx::error::UnexpectedNullError),
    }
}

macro_rules! sqlx_columns {
    ($($row:ty),*) => {$(
        impl Columns for $row {
            fn text_or_null(&self, name: &str) -> Result<Option<String>, sqlx::Error> {
                sqlx::Row::try_get(self, name)
            }
            fn int_or_null(&self, name: &str) -> Result<Option<i64>, sqlx::Error> {
                sqlx::Row::try_get(self, name)
            }
            fn flag(&self, name: &str) -> Result<bool, sqlx::Error> {
                sqlx::Row::try_get(self, name)
            }
        }
    )*};
}

sqlx_columns!(sqlx::sqlite::SqliteRow, sqlx::postgres::PgRow);

/// `FromRow` on both backends, through the row's `read`.
macro_rules! from_columns {
    ($($t:ty),*) => {$(
        impl<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> for $t {
            fn from_row(row: &'r sqlx::sqlite::SqliteRow) -> Result<Self, sqlx::Error> {
                <$t>::read(row)
            }
        }
        impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for $t {
            fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
                <$t>::read(row)
            }
        }
    )*};
}

from_columns!(
    UserRow,
    UserSessionRow,
    RefreshRecord,
    RefreshHolderRow,
    KeyHolderRow
);

/// A user joined with one of their sessions (`UserStore::get_user_with_session`);
/// the session's columns are prefixed `s_` and null when it does not exist.
pub(super) struct UserSessionRow {
    pub(super) user: UserRow,
    pub(super) session: Option<SessionRecord>,
}

impl UserSessionRow {
    pub(super) fn read(r: &dyn Columns) -> Result<Self, sqlx::Error> {
        let user = UserRow::read(r)?;
        let found = (
            r.text_or_null("s_id")?,
            r.int_or_null("s_auth_time")?,
            r.int_or_null("s_expires_at")?,
        );
        let session = match found {
            (Some(id), Some(auth_time), Some(expires_at)) => Some(SessionRecord {
                id,
                cookie_hash: r.text_or_null("s_cookie_hash")?,
                user_id: user.id.clone(),
                auth_time,
                expires_at,
                ended_at: r.int_or_null("s_ended_at")?,
            }),
            _ => None,
        };
        Ok(UserSessionRow { user, session })
    }

    pub(super) fn split(self) -> Result<(User, Option<SessionRecord>), StoreError> {
        Ok((User::try_from(self.user)?, self.session))
    }
}

/// A user joined with one of their sessions: the select list of a
/// `UserSessionRow` over `users u` (its columns as the backend's
/// `USER_COLUMNS` select them) and `sessions s`.
pub(super) const USER_SESSION_COLUMNS: &str = "u.*,
    s.id AS s_id, s.cookie_hash AS s_cookie_hash, s.auth_time AS s_auth_time,
    s.expires_at AS s_expires_at, s.ended_at AS s_ended_at";

/// A session with its user and whether a token is denied
/// (`UserStore::get_bearer_holder`): `USER_SESSION_COLUMNS` and `denied`.
pub(super) struct BearerRow {
    pub(super) holder: UserSessionRow,
    pub(super) denied: bool,
}

impl BearerRow {
    pub(super) fn read(r: &dyn Columns) -> Result<Self, sqlx::Error> {
        Ok(BearerRow {
            holder: UserSessionRow::read(r)?,
            denied: r.flag("denied")?,
        })
    }
}

/// A refresh token joined with its user and session
/// (`UserStore::get_refresh_with_holder`): `USER_SESSION_COLUMNS`, then the
/// token's own columns, unprefixed (no user column shares their names).
pub(super) struct RefreshHolderRow {
    pub(super) holder: UserSessionRow,
    pub(super) token: RefreshRecord,
    pub(super) config_version: i64,
}

impl RefreshRecord {
    pub(super) fn read(r: &dyn Columns) -> Result<Self, sqlx::Error> {
        let client_id = r.text("client_id")?;
        Ok(RefreshRecord {
            token_hash: r.text("token_hash")?,
            family_id: r.text("family_id")?,
            session_id: r.text("session_id")?,
            client_id: ClientId::try_from(client_id).map_err(|e| sqlx::Error::ColumnDecode {
                index: "client_id".into(),
                source: Box::new(e),
            })?,
            user_id: r.text("user_id")?,
            scope: r.text("scope")?,
            auth_time: r.int("auth_time")?,
            issued_at: r.int("issued_at")?,
            expires_at: r.int("expires_at")?,
            used_at: r.int_or_null("used_at")?,
            revoked_at: r.int_or_null("revoked_at")?,
        })
    }
}

impl RefreshHolderRow {
    pub(super) fn read(r: &dyn Columns) -> Result<Self, sqlx::Error> {
        Ok(RefreshHolderRow {
            holder: UserSessionRow::read(r)?,
            token: RefreshRecord::read(r)?,
            config_version: r.int("config_version")?,
        })
    }

    pub(super) fn split(self) -> Result<RefreshHolder, StoreError> {
        let (user, session) = self.holder.split()?;
        Ok(RefreshHolder {
            token: self.token,
            user,
            session,
            config_version: self.config_version,
        })
    }
}

/// The select list of an API key's own columns, `k_`-prefixed
/// (`KeyHolderRow`), over `api_keys k`.
pub(super) const API_KEY_COLUMNS: &str = "k.id AS k_id, k.name AS k_name,
    k.key_hash AS k_key_hash, k.created_at AS k_created_at, k.expires_at AS k_expires_at,
    k.last_used_at AS k_last_used_at, k.session_id AS k_session_id";

/// An API key joined with its user and the session its exchanges share
/// (`UserStore::find_api_key_holder`): the key's columns are prefixed `k_`,
/// the session's `s_` (null when the key has none, or it is gone).
pub(super) struct KeyHolderRow {
    pub(super) user: UserSessionRow,
    pub(super) key: ApiKeyRecord,
    pub(super) session_id: Option<String>,
}

impl KeyHolderRow {
    pub(super) fn read(r: &dyn Columns) -> Result<Self, sqlx::Error> {
        let user = UserSessionRow::read(r)?;
        let key = ApiKeyRecord {
            id: r.text("k_id")?,
            user_id: user.user.id.clone(),
            name: r.text("k_name")?,
            key_hash: r.text("k_key_hash")?,
            created_at: r.int("k_created_at")?,
            expires_at: r.int_or_null("k_expires_at")?,
            last_used_at: r.int_or_null("k_last_used_at")?,
        };
        Ok(KeyHolderRow {
            user,
            key,
            session_id: r.text_or_null("k_session_id")?,
        })
    }

    pub(super) fn split(self) -> Result<ApiKeyHolder, StoreError> {
        let (user, session) = self.user.split()?;
        Ok(ApiKeyHolder {
            key: self.key,
            user,
            session_id: self.session_id,
            session,
        })
    }
}

/// An address's lockout read with an API key (`UserStore::
/// find_api_key_holder_and_lock`): `locked_until`, and a `KeyHolderRow`
/// whose columns are null when no key has the digest.
pub(super) struct LockedKeyRow {
    pub(super) locked_until: Option<i64>,
    pub(super) key: Option<KeyHolderRow>,
}

impl LockedKeyRow {
    pub(super) fn read(r: &dyn Columns) -> Result<Self, sqlx::Error> {
        let key = match r.text_or_null("k_id")? {
            Some(_) => Some(KeyHolderRow::read(r)?),
            None => None,
        };
        Ok(LockedKeyRow {
            locked_until: r.int_or_null("locked_until")?,
            key,
        })
    }
}

pub(super) const SESSION_COLUMNS: &str =
    "id, cookie_hash, user_id, auth_time, expires_at, ended_at";
pub(super) const CODE_COLUMNS: &str = "code_hash, client_id, redirect_uri, user_id, session_id, scope, nonce, code_challenge, auth_time, expires_at";
pub(super) const REFRESH_COLUMNS: &str = "token_hash, family_id, session_id, client_id, user_id, scope, auth_time, issued_at, expires_at, used_at, revoked_at";

pub(super) const KEY_COLUMNS: &str = "kid, generation, sealed_private_key, certificate, created, activates_at, superseded_at, retire_after, archived_at";

/// A `roles` row: `client_id` is empty for a realm role; `composites` JSON.
pub(super) type RoleRow = (String, String, Option<String>, String);

pub(super) fn role_from_row(row: RoleRow) -> Result<Role, StoreError> {
    let (client_id, name, description, composites) = row;
    let role = RoleRef {
        client: (!client_id.is_empty()).then_some(client_id),
        name,
    };
    Ok(Role {
        composites: from_json(&format!("role {role}: composites"), &composites)?,
        role,
        description,
    })
}

/// A `role_grants` row: holder kind and id, role client (empty: realm) and name.
pub(super) type GrantRow = (String, String, String, String);

/// Grants of `holders` (all when empty); rows of an unknown kind are skipped.
pub(super) fn grants_from_rows(rows: Vec<GrantRow>, holders: &[Holder]) -> Vec<RoleGrant> {
    rows.into_iter()
        .filter_map(|(kind, id, client, name)| {
            let holder = Holder::from_parts(&kind, &id)?;
            let role = RoleRef {
                client: (!client.is_empty()).then_some(client),
                name,
            };
            Some(RoleGrant { holder, role })
        })
        .filter(|g| holders.is_empty() || holders.contains(&g.holder))
        .collect()
}

/// The `client_id`/`role_client` column of a role: empty for a realm role.
pub(super) fn role_client(role: &RoleRef) -> &str {
    role.client.as_deref().unwrap_or("")
}
