//! Signing in to the web console (`/admin`): the authorization-code flow
//! with PKCE of the built-in (or configured) `admin-console` client,
//! through the realm's own login page and its brute-force rules. Only
//! members of `admin_group` get a console session, which is bound to the
//! realm login session it came from: ending that (sign-out, realm logout,
//! expiry, disabling or removing the user) ends the console session too.
//!
//! Audit events: `console.signin`, `console.refused`, `console.signout`.

use crate::app::Issuer;
use crate::app::login::ClientIp;
use crate::app::oidc::grants::{self, GrantResponse};
use crate::app::oidc::prefetch::Prefetched;
use crate::app::oidc::{OAuthError, Params, sessions};
use crate::domain::client::ADMIN_CONSOLE;
use crate::domain::opaque;
use crate::domain::user::User;
use crate::store::{ConsoleSessionRecord, StoreError};

/// An authorization request on its way: where to send the browser, and
/// what to keep (in a cookie) to finish it.
pub struct SignIn {
    pub url: String,
    pub state: String,
    pub verifier: String,
}

/// Where the console's `admin-console` client is sent back to.
pub fn callback_uri(base_url: &str) -> String {
    format!("{}/admin/callback", base_url.trim_end_matches('/'))
}

/// Starts a sign-in: a fresh state and PKCE verifier, and the URL of the
/// realm's authorization endpoint.
pub fn begin(state: &Issuer, base_url: &str) -> SignIn {
    let sign_in_state = opaque::generate();
    let verifier = opaque::generate();
    let challenge = opaque::pkce_s256(&verifier);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", ADMIN_CONSOLE)
        .append_pair("redirect_uri", &callback_uri(base_url))
        .append_pair("scope", "openid")
        .append_pair("state", &sign_in_state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    SignIn {
        url: format!(
            "{}/protocol/openid-connect/auth?{query}",
            state.realm.issuer
        ),
        state: sign_in_state,
        verifier,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Signed in to the realm, but not a member of the admin group.
    #[error("{0} is not a member of the admin group")]
    NotAdmin(String),
    /// The code exchange failed (expired, replayed, wrong verifier).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A console sign-in just made: the cookie to set (shown once), its record
/// and the admin.
pub struct Started {
    pub cookie: String,
    pub record: ConsoleSessionRecord,
    pub user: User,
}

/// Whether `user` is a console admin.
pub fn is_admin(state: &Issuer, user: &User) -> bool {
    user.groups.iter().any(|g| *g == state.config.admin_group)
}

/// Redeems the code as the `admin-console` client would, then opens a
/// console session for an admin bound to the realm session.
pub async fn finish(
    state: &Issuer,
    base_url: &str,
    code: &str,
    verifier: &str,
) -> Result<Started, SignInError> {
    let refused = |e: OAuthError| SignInError::Refused(e.description);
    let client = state
        .store
        .get_client(ADMIN_CONSOLE)
        .await?
        .ok_or_else(|| SignInError::Refused(format!("there is no {ADMIN_CONSOLE} client")))?;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", code)
        .append_pair("redirect_uri", &callback_uri(base_url))
        .append_pair("code_verifier", verifier)
        .finish();
    let params = Params::parse(body.as_bytes()).map_err(SignInError::Refused)?;
    let config = state.configuration().await?;
    let GrantResponse::Tokens(tokens) = grants::exchange(
        state,
        Prefetched::config(config),
        &client,
        &params,
        ClientIp(None),
    )
    .await
    .map_err(refused)?
    else {
        return Err(SignInError::Refused("unexpected token response".into()));
    };
    let (_, claims) = state
        .keys
        .current()
        .ring
        .verify(
            &tokens.access_token,
            Some(&state.policy.issuer),
            None,
            state.config.leeway,
        )
        .map_err(|e| SignInError::Refused(e.to_string()))?;
    let user = match sessions::holder(state, &claims).await? {
        sessions::Holder::User(user) => *user,
        _ => return Err(SignInError::Refused("the login session ended".into())),
    };
    let session_id = tokens
        .session_state
        .ok_or_else(|| SignInError::Refused("the sign-in has no session".into()))?;
    if !is_admin(state, &user) {
        tracing::info!(target: "audit", event = "console.refused", user_id = %user.id, username = %user.username, "console sign-in refused: not an admin");
        return Err(SignInError::NotAdmin(user.username));
    }
    let session = state
        .store
        .get_session(&session_id)
        .await?
        .ok_or_else(|| SignInError::Refused("the login session ended".into()))?;
    let cookie = opaque::generate();
    let record = ConsoleSessionRecord {
        cookie_hash: opaque::digest(&cookie),
        session_id,
        user_id: user.id.clone(),
        csrf: opaque::generate(),
        created_at: state.clock.now(),
        expires_at: session.expires_at,
    };
    state.store.insert_console_session(&record).await?;
    tracing::info!(target: "audit", event = "console.signin", user_id = %user.id, username = %user.username, session_id = %record.session_id, "console sign-in");
    Ok(Started {
        cookie,
        record,
        user,
    })
}

/// A signed-in admin, as of this request.
pub struct Admin {
    pub user: User,
    pub record: ConsoleSessionRecord,
}

/// The admin a console cookie names, if its console session, its realm
/// session and its user's admin membership all still hold; otherwise the
/// console session is forgotten.
pub async fn resolve(state: &Issuer, cookie: &str) -> Result<Option<Admin>, StoreError> {
    if cookie.len() != 43 {
        return Ok(None);
    }
    let hash = opaque::digest(cookie);
    let Some(record) = state.store.get_console_session(&hash).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    let live = match state.store.get_session(&record.session_id).await? {
        Some(s) => s.is_live(now) && record.expires_at > now,
        None => false,
    };
    let user = if live {
        state
            .store
            .get_user_by_id(&record.user_id)
            .await?
            .filter(|u| u.enabled && is_admin(state, u))
    } else {
        None
    };
    match user {
        Some(user) => Ok(Some(Admin { user, record })),
        None => {
            state.store.delete_console_session(&hash).await?;
            Ok(None)
        }
    }
}

/// Signs out: ends the realm session (and so every token of it) and the
/// console session.
pub async fn sign_out(state: &Issuer, admin: &Admin) -> Result<(), StoreError> {
    state
        .store
        .end_session(&admin.record.session_id, state.clock.now())
        .await?;
    state
        .store
        .delete_console_session(&admin.record.cookie_hash)
        .await?;
    tracing::info!(target: "audit", event = "console.signout", user_id = %admin.user.id, username = %admin.user.username, "console sign-out");
    Ok(())
}
