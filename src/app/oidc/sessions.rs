//! Login sessions: one per Keep login and per password grant, one per
//! browser login (with a cookie). Every token issued for a user carries its
//! session's id (`sid`), and userinfo and introspection find the user
//! through it (`holder`), never through a claim a mapper could write.
//! Refresh tokens and codes are bound to sessions; logout ends them.

use serde_json::Value;

use crate::app::Issuer;
use crate::domain::opaque;
use crate::domain::token::Claims;
use crate::domain::user::User;
use crate::store::{SessionHolder, SessionRecord, StoreError};

/// Starts a session for `user` that lasts `ttl` seconds. With `browser`,
/// also returns the cookie value (only its digest is stored).
pub async fn start(
    state: &Issuer,
    user: &User,
    browser: bool,
    ttl: u64,
) -> Result<(SessionRecord, Option<String>), StoreError> {
    let now = state.clock.now();
    let cookie = browser.then(opaque::generate);
    let session = SessionRecord {
        id: uuid::Uuid::new_v4().to_string(),
        cookie_hash: cookie.as_deref().map(opaque::digest),
        user_id: user.id.clone(),
        auth_time: now,
        expires_at: now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)),
        ended_at: None,
    };
    state.store.insert_session(&session).await?;
    Ok((session, cookie))
}

/// The live session a browser cookie names, with its enabled user.
pub async fn from_cookie(
    state: &Issuer,
    cookie: &str,
) -> Result<Option<SessionHolder>, StoreError> {
    if cookie.len() != 43 {
        return Ok(None);
    }
    let found = state
        .store
        .find_session_by_cookie_with_user(&opaque::digest(cookie))
        .await?;
    let now = state.clock.now();
    Ok(found.filter(|(session, user)| {
        session.ended_at.is_none() && session.expires_at > now && user.enabled
    }))
}

/// Who a verified access token speaks for, as of now.
pub enum Holder {
    /// A client acting for itself (client_credentials): no user claims.
    Client,
    User(Box<User>),
    /// The session ended or expired, or its user is disabled or gone (a
    /// new user of the same name is someone else): the token no longer counts.
    Gone,
}

impl Holder {
    pub fn user(&self) -> Option<&User> {
        match self {
            Holder::User(user) => Some(user),
            Holder::Client | Holder::Gone => None,
        }
    }
}

/// Resolves a token's holder from what only the issuer sets: `sid` names
/// the session, whose user id is immutable; a token without a session is a
/// client's own only when its subject is the client it was issued to.
pub async fn holder(state: &Issuer, claims: &Claims) -> Result<Holder, StoreError> {
    match claims.get("sid") {
        // The session and its user in one statement.
        Some(Value::String(sid)) => Ok(in_session(
            state,
            state.store.get_session_with_user(sid).await?,
        )),
        Some(_) => Ok(Holder::Gone),
        None => Ok(client_holder(claims)),
    }
}

/// The holder of a token whose session the store found (or not): its user
/// while the session lives and the user is enabled.
pub fn in_session(state: &Issuer, found: Option<SessionHolder>) -> Holder {
    match found {
        Some((session, user))
            if session.ended_at.is_none()
                && session.expires_at > state.clock.now()
                && user.enabled =>
        {
            Holder::User(Box::new(user))
        }
        _ => Holder::Gone,
    }
}

/// The holder of a token without a session: its client's own when its
/// subject is the client it was issued to.
fn client_holder(claims: &Claims) -> Holder {
    let azp = claims.get("azp").and_then(Value::as_str);
    let sub = claims.get("sub").and_then(Value::as_str);
    match azp {
        Some(azp) if sub == Some(azp) => Holder::Client,
        _ => Holder::Gone,
    }
}
