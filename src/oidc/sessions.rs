//! Login sessions: one per password grant, one per browser login (with a
//! cookie). Refresh tokens and codes are bound to them; logout ends them.

use crate::domain::opaque;
use crate::domain::user::User;
use crate::state::AppState;
use crate::store::{SessionRecord, StoreError, now};

/// Starts a session for `user`. With `browser`, also returns the cookie value
/// (only its digest is stored).
pub async fn start(
    state: &AppState,
    user: &User,
    browser: bool,
) -> Result<(SessionRecord, Option<String>), StoreError> {
    let now = now();
    let cookie = browser.then(opaque::generate);
    let session = SessionRecord {
        id: uuid::Uuid::new_v4().to_string(),
        cookie_hash: cookie.as_deref().map(opaque::digest),
        user_id: user.id.clone(),
        auth_time: now,
        expires_at: now.saturating_add(i64::try_from(state.config.session_ttl).unwrap_or(i64::MAX)),
        ended_at: None,
    };
    state.store.insert_session(&session).await?;
    Ok((session, cookie))
}

/// The live session a browser cookie names, with its enabled user.
pub async fn from_cookie(
    state: &AppState,
    cookie: &str,
) -> Result<Option<(SessionRecord, User)>, StoreError> {
    if cookie.len() != 43 {
        return Ok(None);
    }
    let Some(session) = state
        .store
        .find_session_by_cookie(&opaque::digest(cookie))
        .await?
    else {
        return Ok(None);
    };
    if session.ended_at.is_some() || session.expires_at <= now() {
        return Ok(None);
    }
    match state.store.get_user_by_id(&session.user_id).await? {
        Some(user) if user.enabled => Ok(Some((session, user))),
        _ => Ok(None),
    }
}
