//! Turning a granted request into tokens: the access token, the ID token when
//! `openid` was granted, and the next refresh token of the session's family.

use serde::Serialize;
use serde_json::json;

use crate::domain::client::Client;
use crate::domain::opaque;
use crate::domain::token::{self, Claims};
use crate::domain::user::User;
use crate::oidc::error::OAuthError;
use crate::oidc::scope;
use crate::state::AppState;
use crate::store::{RefreshRecord, SessionRecord, now};

/// The token response, with Keycloak's field names.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(rename = "not-before-policy")]
    pub not_before_policy: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_state: Option<String>,
    pub scope: String,
}

/// Everything a grant decided; `mint` turns it into tokens.
pub struct Grant<'a> {
    pub client: &'a Client,
    /// `None` for client_credentials: the client acts for itself.
    pub user: Option<&'a User>,
    pub scopes: Vec<String>,
    /// The login session the tokens belong to; refresh tokens need one.
    pub session: Option<&'a SessionRecord>,
    pub nonce: Option<&'a str>,
    /// Continue this refresh family (refresh grant); otherwise start one.
    pub family_id: Option<String>,
}

pub struct Minted {
    pub response: TokenResponse,
    /// The refresh family the response's refresh token belongs to.
    pub family_id: Option<String>,
    pub access_jti: String,
}

/// Signs the tokens of a grant and stores its refresh token.
pub async fn mint(state: &AppState, grant: Grant<'_>) -> Result<Minted, OAuthError> {
    let policy = &state.policy;
    let now = now();
    let lifetime = policy.lifetime(None);
    let exp = now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX));
    let jti = uuid::Uuid::new_v4().to_string();
    let client_id = grant.client.client_id.as_str();

    let mut access = match grant.user {
        Some(user) => token::access_claims(policy, user, &grant.scopes, lifetime, now, &jti),
        None => client_claims(state, client_id, &grant.scopes, now, exp, &jti),
    };
    access.insert("azp".into(), json!(client_id));
    if let Some(session) = grant.session {
        access.insert("sid".into(), json!(session.id));
    }
    let access_token = state.keys.sign(&access)?;

    let id_token = match grant.user {
        Some(user) if scope::has(&grant.scopes, "openid") => {
            let claims = id_claims(state, &grant, user, &access_token, now, exp);
            Some(state.keys.sign(&claims)?)
        }
        _ => None,
    };

    let (refresh_token, refresh_expires_in, family_id) = match (grant.user, grant.session) {
        (Some(user), Some(session)) if grant.client.allows(super::GrantType::RefreshToken) => {
            let token = opaque::generate();
            let expires_at = now
                .saturating_add(i64::try_from(state.config.refresh_token_ttl).unwrap_or(i64::MAX))
                .min(session.expires_at);
            let family_id = grant
                .family_id
                .clone()
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            state
                .store
                .insert_refresh(&RefreshRecord {
                    token_hash: opaque::digest(&token),
                    family_id: family_id.clone(),
                    session_id: session.id.clone(),
                    client_id: client_id.to_owned(),
                    user_id: user.id.clone(),
                    scope: grant.scopes.join(" "),
                    auth_time: session.auth_time,
                    issued_at: now,
                    expires_at,
                    used_at: None,
                    revoked_at: None,
                })
                .await?;
            let left = u64::try_from(expires_at.saturating_sub(now)).unwrap_or(0);
            (Some(token), left, Some(family_id))
        }
        _ => (None, 0, None),
    };

    tracing::info!(
        client_id,
        user_id = grant.user.map(|u| u.id.as_str()),
        jti = %jti,
        id_token = id_token.is_some(),
        refresh = refresh_token.is_some(),
        "tokens issued"
    );
    Ok(Minted {
        response: TokenResponse {
            access_token,
            expires_in: lifetime,
            refresh_expires_in,
            refresh_token,
            token_type: "Bearer",
            id_token,
            not_before_policy: 0,
            session_state: grant.session.map(|s| s.id.clone()),
            scope: grant.scopes.join(" "),
        },
        family_id,
        access_jti: jti,
    })
}

/// A client_credentials access token (RFC 9068 §2.2: `sub` = the client id).
fn client_claims(
    state: &AppState,
    client_id: &str,
    scopes: &[String],
    now: i64,
    exp: i64,
    jti: &str,
) -> Claims {
    let mut c = Claims::new();
    c.insert("iss".into(), json!(state.policy.issuer));
    c.insert("sub".into(), json!(client_id));
    c.insert("aud".into(), json!(state.policy.audience));
    c.insert("iat".into(), json!(now));
    c.insert("exp".into(), json!(exp));
    c.insert("jti".into(), json!(jti));
    c.insert("client_id".into(), json!(client_id));
    c.insert("scope".into(), json!(scopes.join(" ")));
    c
}

/// The ID token of OIDC Core §2, with Keycloak's `typ: "ID"` so it can never
/// pass for an access token at userinfo.
fn id_claims(
    state: &AppState,
    grant: &Grant<'_>,
    user: &User,
    access_token: &str,
    now: i64,
    exp: i64,
) -> Claims {
    let policy = &state.policy;
    let mut c = Claims::new();
    c.insert("iss".into(), json!(policy.issuer));
    c.insert("sub".into(), json!(policy.subject_of(user)));
    c.insert("aud".into(), json!(grant.client.client_id));
    c.insert("iat".into(), json!(now));
    c.insert("exp".into(), json!(exp));
    c.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
    c.insert("typ".into(), json!("ID"));
    c.insert("azp".into(), json!(grant.client.client_id));
    c.insert(
        "at_hash".into(),
        json!(opaque::left_half_hash(access_token)),
    );
    if let Some(session) = grant.session {
        c.insert("auth_time".into(), json!(session.auth_time));
        c.insert("sid".into(), json!(session.id));
    }
    if let Some(nonce) = grant.nonce {
        c.insert("nonce".into(), json!(nonce));
    }
    profile_claims(&mut c, user, &grant.scopes);
    c
}

/// The standard claims a scope releases (OIDC Core §5.4), shared with userinfo.
pub fn profile_claims(claims: &mut Claims, user: &User, scopes: &[String]) {
    if scope::has(scopes, "profile") {
        claims.insert("name".into(), json!(user.cn));
        claims.insert("preferred_username".into(), json!(user.username));
        claims.insert("CN".into(), json!(user.dn()));
    }
    if scope::has(scopes, "email")
        && let Some(email) = &user.email
    {
        claims.insert("email".into(), json!(email));
    }
}
