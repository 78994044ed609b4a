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
use crate::keys::KeyError;
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
    // With `openid`, the ID token: its `at_hash` (which no mapper sets) is
    // the access token's, added once that is signed.
    let id = if grant.scopes.contains("openid") {
        ctx.id(grant.nonce, None, &uuid::Uuid::new_v4().to_string())
    } else {
        None
    };
    let signed = state.keys.in_turn(move |keys| {
        let access_token = keys.sign(&access)?;
        let id_token = id
            .map(|mut id| {
                let at_hash = opaque::left_half_hash(&access_token);
                id.insert("at_hash".into(), serde_json::Value::String(at_hash));
                keys.sign(&id)
            })
            .transpose()?;
        Ok::<_, KeyError>((access_token, id_token))
    });
    // The signatures wait for their turn while the refresh token's write
    // waits for its batch. A refused rotation (a replay) drops the
    // signatures unmade. A signature that fails after the rotation
    // committed (only when its task stopped: the runtime shutting down)
    // leaves the presented token spent and answers an error, as an answer
    // lost on its way after the commit does.
    let (signed, refresh) = tokio::try_join!(
        async { Ok::<_, OAuthError>(signed.await??) },
        next_refresh(state, &grant, now),
    )?;
    let (access_token, id_token) = signed;
    let (refresh_token, refresh_expires_in, family_id) = match refresh {
        Some(next) => (Some(next.token), next.expires_in, Some(next.family_id)),
        None => (None, 0, None),
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

/// The refresh token a grant's answer carries: a user's tokens in a
/// session, for a client allowed the refresh grant.
struct NextRefresh {
    token: String,
    /// Seconds until it expires.
    expires_in: u64,
    /// The refresh family it belongs to.
    family_id: String,
}

/// Signs the grant's next refresh token and stores it: a new family's
/// first, or the presented token's successor in the write that spends it.
async fn next_refresh(
    state: &Issuer,
    grant: &Grant<'_>,
    now: i64,
) -> Result<Option<NextRefresh>, OAuthError> {
    let (Some(user), Some(session)) = (grant.user, grant.session) else {
        return Ok(None);
    };
    if !grant.client.allows(super::GrantType::RefreshToken) {
        return Ok(None);
    }
    let client_id = grant.client.client_id.as_str();
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
    Ok(Some(NextRefresh {
        token,
        expires_in: left,
        family_id,
    }))
}
