//! Turning a granted request into tokens: the access token, the ID token when
//! `openid` was granted, and the next refresh token of the session's family
//! (a JWT, see `refresh_token`, stored as its digest).

use serde::Serialize;
use utoipa::ToSchema;

use crate::app::Issuer;
use crate::app::config_cache::Snapshot;
use crate::app::oidc::claims::{self, ClaimContext};
use crate::app::oidc::error::OAuthError;
use crate::app::oidc::refresh_token::{self, RefreshClaims};
use crate::app::oidc::scope;
use crate::app::roles;
use crate::domain::client::Client;
use crate::domain::opaque;
use crate::domain::role::{EffectiveRoles, Holder, holders_of_user};
use crate::domain::scope::ScopeSet;
use crate::domain::user::User;
use crate::store::{RefreshClaim, RefreshRecord, SessionRecord, StoreError};

/// The token response, with Keycloak's field names.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub refresh_token: Option<String>,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// When `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub id_token: Option<String>,
    #[serde(rename = "not-before-policy")]
    pub not_before_policy: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub session_state: Option<String>,
    pub scope: String,
}

/// Everything a grant decided; `mint` turns it into tokens.
pub struct Grant<'a> {
    pub client: &'a Client,
    /// `None` for client_credentials: the client acts for itself.
    pub user: Option<&'a User>,
    pub scopes: ScopeSet,
    /// The login session the tokens belong to; refresh tokens need one.
    pub session: Option<&'a SessionRecord>,
    pub nonce: Option<&'a str>,
    /// The refresh grant's presented token (live when read): the new
    /// refresh token continues its family and is stored in the same write
    /// that spends it. Otherwise a new family starts.
    pub rotates: Option<&'a RefreshRecord>,
}

impl<'a> Grant<'a> {
    /// A user's tokens in a login session, without a nonce, starting a new
    /// refresh family (the password grant's; the others change one field).
    pub fn in_session(
        client: &'a Client,
        user: &'a User,
        scopes: ScopeSet,
        session: &'a SessionRecord,
    ) -> Grant<'a> {
        Grant {
            client,
            user: Some(user),
            scopes,
            session: Some(session),
            nonce: None,
            rotates: None,
        }
    }
}

pub struct Minted {
    pub response: TokenResponse,
    /// The refresh family the response's refresh token belongs to.
    pub family_id: Option<String>,
}

/// The roles a token carries when a scope that needs them applies
/// (`roles`, `microprofile-jwt`): the user's, or for a client acting for
/// itself its service account's.
pub async fn roles_for(
    state: &Issuer,
    config: &Snapshot,
    client: &Client,
    user: Option<&User>,
    applied: &ScopeSet,
) -> Result<Option<EffectiveRoles>, StoreError> {
    if !applied.contains("roles") && !applied.contains("microprofile-jwt") {
        return Ok(None);
    }
    let holders = match user {
        Some(user) => holders_of_user(&user.id, &user.groups),
        None => vec![Holder::Client(client.client_id.to_string())],
    };
    let roles =
        roles::for_token(state.store.as_ref(), config, &state.config.realm, holders).await?;
    Ok(Some(roles))
}

/// Signs the tokens of a grant and stores its refresh token; `config` is
/// the token's one read of the cached configuration.
pub async fn mint(
    state: &Issuer,
    config: &Snapshot,
    grant: Grant<'_>,
) -> Result<Minted, OAuthError> {
    let policy = &state.policy;
    let now = state.clock.now();
    let lifetime = policy.lifetime(None);
    let jti = uuid::Uuid::new_v4().to_string();
    let client_id = grant.client.client_id.as_str();

    let applied = scope::applied(Some(grant.client), &grant.scopes);
    let roles = roles_for(state, config, grant.client, grant.user, &applied).await?;
    let ctx = ClaimContext {
        policy,
        mappers: config.mappers(),
        client_id,
        user: grant.user,
        scopes: &grant.scopes,
        applied: &applied,
        roles: roles.as_ref(),
        session: grant.session.map(|s| (s.id.as_str(), s.auth_time)),
        now,
        lifetime,
    };
    let mut access = ctx.access(&jti);
    claims::add_allowed_origins(&mut access, grant.client);
    let access_token = state.keys.sign(&access)?;
    let id_token = if grant.scopes.contains("openid") {
        let at_hash = opaque::left_half_hash(&access_token);
        let id_jti = uuid::Uuid::new_v4().to_string();
        ctx.id(grant.nonce, Some(&at_hash), &id_jti)
            .map(|claims| state.keys.sign(&claims))
            .transpose()?
    } else {
        None
    };

    let (refresh_token, refresh_expires_in, family_id) = match (grant.user, grant.session) {
        (Some(user), Some(session)) if grant.client.allows(super::GrantType::RefreshToken) => {
            let expires_at = now
                .saturating_add(i64::try_from(state.config.refresh_token_ttl).unwrap_or(i64::MAX))
                .min(session.expires_at);
            let scope = grant.scopes.to_string();
            let token = state
                .sign_refresh_token(&RefreshClaims {
                    subject: &state.policy.subject_of(user),
                    client_id,
                    session_id: &session.id,
                    scope: &scope,
                    issued_at: now,
                    expires_at,
                })
                .await?;
            let family_id = grant.rotates.map_or_else(
                || uuid::Uuid::new_v4().to_string(),
                |spent| spent.family_id.clone(),
            );
            let record = RefreshRecord {
                token_hash: opaque::digest(&token),
                family_id: family_id.clone(),
                session_id: session.id.clone(),
                client_id: grant.client.client_id.clone(),
                user_id: user.id.clone(),
                scope,
                auth_time: session.auth_time,
                issued_at: now,
                expires_at,
                used_at: None,
                revoked_at: None,
            };
            match grant.rotates {
                None => state.store.insert_refresh(&record).await?,
                Some(spent) => match state
                    .store
                    .rotate_refresh(&spent.token_hash, &record)
                    .await?
                {
                    RefreshClaim::Claimed(_) => {}
                    lost => return Err(refresh_token::refused(state, lost).await?),
                },
            }
            let left = u64::try_from(expires_at.saturating_sub(now)).unwrap_or(0);
            (Some(token), left, Some(family_id))
        }
        _ => (None, 0, None),
    };

    tracing::info!(
        target: "audit",
        event = "token.issued",
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
            scope: grant.scopes.to_string(),
        },
        family_id,
    })
}
