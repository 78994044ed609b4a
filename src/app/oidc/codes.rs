//! The authorization endpoint's operations: who is signed in already, and
//! the single-use code a signed-in user's browser carries back to the client
//! (redeemed by `grants`). The endpoint itself (`http::oidc::authorize`)
//! parses the request, shows the login page and renders the redirect.

use crate::app::Issuer;
use crate::app::oidc::{scope, sessions};
use crate::domain::client::{Client, RedirectUri};
use crate::domain::opaque;
use crate::domain::user::User;
use crate::store::{CodeRecord, SessionHolder, SessionRecord, StoreError};

/// What a code is issued for: the validated request's parts that the
/// redemption checks again (client, redirect URI, PKCE challenge) or carries
/// into the tokens (scope, nonce).
pub struct CodeRequest<'a> {
    pub client: &'a Client,
    /// One of the client's registered redirect URIs.
    pub redirect_uri: &'a RedirectUri,
    /// The `scope` parameter as sent, narrowed to what the user and client allow.
    pub scope: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
}

/// The browser's session and its user, when the session cookie names a live
/// session whose sign-in is recent enough for `max_age` (OIDC Core §3.1.2.1).
pub async fn signed_in(
    state: &Issuer,
    cookie: &str,
    max_age: Option<i64>,
) -> Result<Option<SessionHolder>, StoreError> {
    Ok(sessions::from_cookie(state, cookie)
        .await?
        .filter(|(session, _)| {
            max_age.is_none_or(|age| state.clock.now() - session.auth_time <= age)
        }))
}

/// Stores a new code (only its digest) for `user`'s `session` and returns it.
pub async fn issue(
    state: &Issuer,
    req: CodeRequest<'_>,
    session: &SessionRecord,
    user: &User,
) -> Result<String, StoreError> {
    let code = opaque::generate();
    let now = state.clock.now();
    let scopes = scope::for_user(req.client, user, req.scope);
    state
        .store
        .insert_code(&CodeRecord {
            code_hash: opaque::digest(&code),
            client_id: req.client.client_id.clone(),
            redirect_uri: req.redirect_uri.to_owned(),
            user_id: user.id.clone(),
            session_id: session.id.clone(),
            scope: scopes.to_string(),
            nonce: req.nonce.map(str::to_owned),
            code_challenge: req.code_challenge.map(str::to_owned),
            auth_time: session.auth_time,
            expires_at: now
                .saturating_add(i64::try_from(state.config.code_ttl).unwrap_or(i64::MAX)),
        })
        .await?;
    tracing::info!(client_id = %req.client.client_id, user_id = %user.id, "authorization code issued");
    Ok(code)
}
