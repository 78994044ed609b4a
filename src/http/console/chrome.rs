//! What every admin page shares: the chrome (realm, admin, CSRF token,
//! active tab), the notices after a change, the refusal pages of an
//! operation's errors, the removal routes, and path encoding.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{MethodRouter, post};
use serde::Deserialize;

use super::auth::Change;
use super::page;
use crate::app::Issuer;
use crate::app::admin::{self, AdminError, Removable};
use crate::app::console::Admin;
use crate::store::{ApiKeyRecord, SessionSummary};

/// The chrome of every admin page: realm, who is signed in, the CSRF token
/// of their session, the active tab, and the notice after a change.
pub struct Chrome {
    pub realm: String,
    pub admin: String,
    pub csrf: String,
    pub active: &'static str,
    pub notice: Option<&'static str>,
}

impl Chrome {
    /// `done` is the page's `?done=` (see `notice`).
    pub fn new(state: &Issuer, admin: &Admin, active: &'static str, done: Option<&str>) -> Chrome {
        Chrome {
            realm: state.realm.name.clone(),
            admin: admin.user.username.clone(),
            csrf: admin.record.csrf.clone(),
            active,
            notice: notice(done),
        }
    }
}

/// Makes an admin page (a struct with a `chrome: Chrome` field) dereference
/// to its chrome, so that `console/admin.html` and the page's template read
/// `realm`, `admin`, `csrf`, `active` and `notice` as the page's own.
macro_rules! admin_page {
    ($page:ty) => {
        impl std::ops::Deref for $page {
            type Target = $crate::http::console::chrome::Chrome;

            fn deref(&self) -> &Self::Target {
                &self.chrome
            }
        }
    };
}
pub(super) use admin_page;

/// The `?done=` of a page shown after a change (absent when malformed).
pub struct Done(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Done {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        #[derive(Deserialize)]
        struct Q {
            done: Option<String>,
        }
        let q = Query::<Q>::from_request_parts(parts, state).await;
        Ok(Done(q.ok().and_then(|Query(q)| q.done)))
    }
}

/// A page's query, or its default when it is absent or malformed (a page
/// with a bad query still shows).
pub struct Lenient<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Default> FromRequestParts<S> for Lenient<T> {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let q = Query::<T>::from_request_parts(parts, state).await;
        Ok(Lenient(q.map(|Query(q)| q).unwrap_or_default()))
    }
}

/// A notice after a change, from a fixed list (`?done=`), never echoed text.
pub fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "Created.",
        "enabled" => "The user is enabled.",
        "disabled" => "The user is disabled: logins are refused and sessions stop counting.",
        "password" => "The password was changed.",
        "saved" => "Saved.",
        "secret" => "The client has a new secret; the old one no longer works.",
        "removed" => "Removed.",
        "ended" => "Ended.",
        "revoked" => "Revoked.",
        "key" => "The API key is created: copy it now, it is not shown again.",
        "rotated" => "A new key is published; it signs after the lead time.",
        "retired" => "The key is retired.",
        _ => return None,
    })
}

/// A path segment, percent-encoded.
pub fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The page for an operation's refusal.
pub fn refuse(state: &Issuer, e: AdminError, back: &str) -> Response {
    match e {
        AdminError::NotFound(why) => page::message(
            state,
            StatusCode::NOT_FOUND,
            "Not found",
            &why,
            Some((back, "Back")),
        ),
        AdminError::Key(e) => page::message(
            state,
            StatusCode::CONFLICT,
            "Refused",
            &e.to_string(),
            Some((back, "Back")),
        ),
        e => page::unavailable(state, &e),
    }
}

/// The answer to a change: back to `back` with the notice `done`, or the
/// refusal's page (linking to `back`).
pub fn changed<T>(
    state: &Issuer,
    outcome: Result<T, AdminError>,
    back: &str,
    done: &str,
) -> Response {
    match outcome {
        Ok(_) => page::see_other(&format!("{back}?done={done}")),
        Err(e) => refuse(state, e, back),
    }
}

/// `POST /admin/<list>/{key}/remove`: removes the one named, then back to
/// its list with the notice (or the refusal's page).
pub fn removal(what: Removable) -> MethodRouter<Issuer> {
    let list = match what {
        Removable::User => "/admin/users",
        Removable::Client => "/admin/clients",
        Removable::Mapper => "/admin/mappers",
    };
    post(
        move |State(state): State<Issuer>, Path(key): Path<String>, change: Change| async move {
            let by = change.admin.user.username.as_str();
            let removed = admin::remove(state.store.as_ref(), what, &key, by).await;
            changed(&state, removed, list, "removed")
        },
    )
}

/// A login session as the pages list it.
pub struct SessionRow {
    pub id: String,
    pub started: String,
    pub expires: String,
    pub client: String,
    pub last_refresh: String,
    pub browser: bool,
}

impl From<&SessionSummary> for SessionRow {
    fn from(s: &SessionSummary) -> Self {
        SessionRow {
            id: s.session.id.clone(),
            started: page::date(Some(s.session.auth_time)),
            expires: page::date(Some(s.session.expires_at)),
            client: s.client_id.clone().unwrap_or_else(|| "-".into()),
            last_refresh: page::date(s.last_refresh),
            browser: s.session.cookie_hash.is_some(),
        }
    }
}

pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
}

impl From<&ApiKeyRecord> for KeyRow {
    fn from(k: &ApiKeyRecord) -> Self {
        KeyRow {
            id: k.id.clone(),
            name: k.name.clone(),
            created: page::date(Some(k.created_at)),
            expires: k
                .expires_at
                .map_or_else(|| "never".into(), |t| page::date(Some(t))),
            last_used: k
                .last_used_at
                .map_or_else(|| "never".into(), |t| page::date(Some(t))),
        }
    }
}
