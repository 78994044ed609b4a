//! Columns that more than one statement writes, bound in one place: a
//! session's insert (a login's, an API key's shared session), a client's
//! fields (insert and update), a refresh token's (each backend's insert and
//! rotation). Generic over the backend: both bind the same Rust types.

use sqlx::query::Query;
use sqlx::{Database, Encode, Type};

use crate::domain::client::Client;
use crate::store::rows::{Arg, to_json};
use crate::store::{RefreshRecord, SessionRecord};

type Bound<'q, DB> = Query<'q, DB, <DB as Database>::Arguments<'q>>;

/// The statement `sql` with a hot read's arguments bound in order, for
/// sqlx on either backend (`rows::Arg`).
pub(crate) fn hot_args<'q, DB>(sql: &'q str, args: &[Arg<'q>]) -> Bound<'q, DB>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    args.iter().fold(sqlx::query(sql), |query, arg| match *arg {
        Arg::Text(text) => query.bind(text),
        Arg::Int(n) => query.bind(n),
    })
}

/// The insert of a session: its columns, `$1`-`$6`.
macro_rules! insert_session_sql {
    () => {
        "INSERT INTO sessions (id, cookie_hash, user_id, auth_time, expires_at, ended_at)
         VALUES ($1, $2, $3, $4, $5, $6)"
    };
}

/// What a session's insert does when its id is taken.
#[derive(Clone, Copy)]
pub(crate) enum TakenId {
    /// Fails (inside a transaction that must not go on).
    Fails,
    /// Returns the id if the row is this very session (same user, time and
    /// cookie: the insert's first run stored it, and the statement ran
    /// twice, `Conns::fetch_rerunnable`); no row when it is another's.
    FindsItsOwn,
}

/// Inserts `s` (the columns of `rows::SESSION_COLUMNS`); `RETURNING id`
/// with `TakenId::FindsItsOwn`.
pub(crate) fn insert_session<'q, DB>(s: &'q SessionRecord, taken: TakenId) -> Bound<'q, DB>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    let sql = match taken {
        TakenId::Fails => insert_session_sql!(),
        TakenId::FindsItsOwn => concat!(
            insert_session_sql!(),
            " ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at
              WHERE sessions.user_id = excluded.user_id
                AND sessions.auth_time = excluded.auth_time
                AND sessions.cookie_hash IS NOT DISTINCT FROM excluded.cookie_hash
              RETURNING id"
        ),
    };
    sqlx::query(sql)
        .bind(s.id.as_str())
        .bind(s.cookie_hash.as_deref())
        .bind(s.user_id.as_str())
        .bind(s.auth_time)
        .bind(s.expires_at)
        .bind(s.ended_at)
}

/// Binds every column of `c` but its id and creation time, in the order
/// `name, secret_hash, redirect_uris, post_logout_redirect_uris,
/// grant_types, default_scopes, optional_scopes, allowed_scopes,
/// web_origins`: what an insert and an update both write.
pub(crate) fn client_fields<'q, DB>(query: Bound<'q, DB>, c: &'q Client) -> Bound<'q, DB>
where
    DB: Database,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
{
    query
        .bind(c.name.as_deref())
        .bind(c.secret_hash.as_deref())
        .bind(to_json(&c.redirect_uris))
        .bind(to_json(&c.post_logout_redirect_uris))
        .bind(to_json(&c.grant_types))
        .bind(to_json(&c.default_scopes))
        .bind(to_json(&c.optional_scopes))
        .bind(c.allowed_scopes.as_ref().map(to_json))
        .bind(to_json(&c.web_origins))
}

/// Binds the nine columns of `t` that say what it grants, in the order of
/// `rows::REFRESH_COLUMNS` (all but `used_at` and `revoked_at`, which a
/// successor is born without).
pub(crate) fn refresh_grant<'q, DB>(query: Bound<'q, DB>, t: &'q RefreshRecord) -> Bound<'q, DB>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    query
        .bind(t.token_hash.as_str())
        .bind(t.family_id.as_str())
        .bind(t.session_id.as_str())
        .bind(t.client_id.as_str())
        .bind(t.user_id.as_str())
        .bind(t.scope.as_str())
        .bind(t.auth_time)
        .bind(t.issued_at)
        .bind(t.expires_at)
}
