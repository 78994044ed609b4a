//! What every admin page shares: the chrome (realm, admin, CSRF token,
//! active tab), the notices after a change, the refusal pages of an
//! operation's errors, and path encoding.

use axum::http::StatusCode;
use axum::response::Response;

use super::page;
use crate::app::Issuer;
use crate::app::admin::AdminError;
use crate::app::console::Admin;
use crate::store::{ApiKeyRecord, SessionSummary};

/// The chrome of every admin page: realm, who is signed in, the CSRF token
/// of their session, the active tab.
pub struct Chrome {
    pub realm: String,
    pub admin: String,
    pub csrf: String,
    pub active: &'static str,
}

impl Chrome {
    pub fn new(state: &Issuer, admin: &Admin, active: &'static str) -> Chrome {
        Chrome {
            realm: state.realm.name.clone(),
            admin: admin.user.username.clone(),
            csrf: admin.record.csrf.clone(),
            active,
        }
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
