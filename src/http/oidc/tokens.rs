//! Userinfo (OIDC Core §5.3), introspection (RFC 7662) and revocation
//! (RFC 7009): the endpoints that take a token back.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::headers::HeaderMapExt as _;
use axum_extra::headers::authorization::{Authorization, Bearer};
use serde_json::{Value, json};

use super::client_auth;
use super::form::{OAuthForm, QueryOrForm};
use crate::app::Issuer;
use crate::app::mappers;
use crate::app::oidc::OAuthError;
use crate::app::oidc::access::{self, AccessCheck};
use crate::app::oidc::claims::{ClaimContext, client_of};
use crate::app::oidc::sessions::{self, Holder};
use crate::domain::mapper::Mapper;
use crate::domain::opaque;
use crate::domain::token::Claims;
use crate::domain::user::User;
use crate::http::schemas::{
    Introspection, InvalidClient, InvalidToken, OAuthBadRequest, OAuthPayloadTooLarge,
    OAuthUnavailable, RealmNotFound, TokenRequestByValue, UserInfo,
};
use crate::store::RefreshRecord;

/// `GET|POST R/protocol/openid-connect/userinfo` with a Bearer access token
/// (header, or `access_token` in a form body per RFC 6750 §2.2; never in
/// the query).
#[utoipa::path(
    get,
    path = super::USERINFO,
    tag = "oidc",
    operation_id = "userinfo",
    summary = "UserInfo (OIDC Core §5.3): the bearer token's user's claims",
    security((), ("BearerAuth" = [])),
    responses(
        (status = 200, description = "The user's claims", body = UserInfo,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = OAuthBadRequest),
        (status = 401, response = InvalidToken),
        (status = 404, response = RealmNotFound),
        (status = 503, response = OAuthUnavailable),
    ),
)]
pub async fn userinfo(
    State(state): State<Issuer>,
    method: Method,
    headers: HeaderMap,
    QueryOrForm(params): QueryOrForm,
) -> Result<Response, OAuthError> {
    let realm = state.realm.name.clone();
    // RFC 6750 §2.3: a token in the URL ends up in logs and Referer headers;
    // like Keycloak, only the header and (§2.2) a POSTed form body carry it.
    let from_body = method == Method::POST && headers.contains_key(header::CONTENT_TYPE);
    if !from_body && params.get("access_token").is_some() {
        return Err(OAuthError::invalid_request(
            "send the access token in the Authorization header (Bearer), not in the URL",
        ));
    }
    let from_header = match headers.typed_try_get::<Authorization<Bearer>>() {
        Ok(bearer) => bearer.map(|b| b.token().trim_end().to_owned()),
        Err(_) => {
            return Err(OAuthError::invalid_token(
                &realm,
                "use the Bearer scheme with an access token",
            ));
        }
    };
    let token = match (from_header, params.get("access_token")) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "send the access token once: header or body, not both",
            ));
        }
        (Some(t), None) => t,
        (None, Some(t)) => t.to_owned(),
        (None, None) => {
            let mut e = OAuthError::invalid_token(&realm, "an access token is required");
            e.code = "invalid_request";
            e.status = StatusCode::UNAUTHORIZED;
            e.challenge = Some(format!("Bearer realm=\"{realm}\""));
            return Err(e);
        }
    };
    let claims = match access::check(&state, &token).await? {
        AccessCheck::Active(claims) => claims,
        AccessCheck::Inactive(why) => return Err(OAuthError::invalid_token(&realm, why)),
    };
    if claims.get("typ").and_then(Value::as_str) == Some("ID") {
        return Err(OAuthError::invalid_token(
            &realm,
            "an ID token is not an access token",
        ));
    }
    let holder = sessions::holder(&state, &claims).await?;
    if let Holder::Gone = holder {
        return Err(OAuthError::invalid_token(
            &realm,
            "the session has ended, or the user is disabled or no longer exists",
        ));
    }
    let mappers = mappers::load(state.store.as_ref()).await?;
    let scopes = scopes_of(&claims);
    let ctx = context(&state, &mappers, &claims, holder.user(), &scopes);
    Ok(Json(Value::Object(ctx.userinfo())).into_response())
}

fn scopes_of(claims: &Claims) -> Vec<String> {
    claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// The claim context of a presented access token, for userinfo and introspection.
fn context<'a>(
    state: &'a Issuer,
    mappers: &'a [Mapper],
    claims: &'a Claims,
    user: Option<&'a User>,
    scopes: &'a [String],
) -> ClaimContext<'a> {
    ClaimContext {
        policy: &state.policy,
        mappers,
        client_id: client_of(claims),
        user,
        scopes,
        session: None,
        now: state.clock.now(),
        lifetime: 0,
    }
}

fn refresh_is_live(r: &RefreshRecord, now: i64) -> bool {
    r.used_at.is_none() && r.revoked_at.is_none() && r.expires_at > now
}

/// `POST R/protocol/openid-connect/token/introspect` (RFC 7662). Anything
/// expired, revoked, malformed, foreign or of a disabled user is `active: false`.
#[utoipa::path(
    post,
    path = super::INTROSPECT,
    tag = "oidc",
    operation_id = "introspect",
    summary = "Token introspection (RFC 7662), for confidential clients",
    request_body(content = TokenRequestByValue, content_type = "application/x-www-form-urlencoded"),
    security((), ("ClientBasic" = [])),
    responses(
        (status = 200, description = "The token's state", body = Introspection,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = OAuthBadRequest),
        (status = 401, response = InvalidClient),
        (status = 404, response = RealmNotFound),
        (status = 413, response = OAuthPayloadTooLarge),
        (status = 503, response = OAuthUnavailable),
    ),
)]
pub async fn introspect(
    State(state): State<Issuer>,
    headers: HeaderMap,
    OAuthForm(params): OAuthForm,
) -> Result<Response, OAuthError> {
    let client = client_auth::authenticate(&state, &headers, &params).await?;
    if client.is_public() {
        return Err(OAuthError::invalid_client(
            "introspection needs a confidential client",
            None,
        ));
    }
    let token = params.require("token")?;
    let inactive = || Ok(Json(json!({ "active": false })).into_response());
    if access::is_jwt(token) {
        let claims = match access::check(&state, token).await? {
            AccessCheck::Active(claims) => claims,
            AccessCheck::Inactive(_) => return inactive(),
        };
        let holder = sessions::holder(&state, &claims).await?;
        if let Holder::Gone = holder {
            return inactive();
        }
        let mappers = mappers::load(state.store.as_ref()).await?;
        let scopes = scopes_of(&claims);
        let mut out = context(&state, &mappers, &claims, holder.user(), &scopes)
            .introspection(claims.clone());
        out.insert("active".into(), json!(true));
        if let Some(azp) = out.get("azp").cloned() {
            out.entry("client_id").or_insert(azp);
        }
        if let Some(user) = holder.user() {
            out.insert("username".into(), json!(user.username));
        }
        let typ = if out.get("typ").and_then(Value::as_str) == Some("ID") {
            "ID"
        } else {
            "Bearer"
        };
        out.insert("token_type".into(), json!(typ));
        return Ok(Json(Value::Object(out)).into_response());
    }
    let Some(record) = state.store.get_refresh(&opaque::digest(token)).await? else {
        return inactive();
    };
    if record.client_id != client.client_id || !refresh_is_live(&record, state.clock.now()) {
        return inactive();
    }
    let Some(user) = state
        .store
        .get_user_by_id(&record.user_id)
        .await?
        .filter(|u| u.enabled)
    else {
        return inactive();
    };
    Ok(Json(json!({
        "active": true,
        "token_type": "Refresh",
        "client_id": record.client_id,
        "username": user.username,
        "sub": state.policy.subject_of(&user),
        "scope": record.scope,
        "iat": record.issued_at,
        "exp": record.expires_at,
        "iss": state.policy.issuer,
        "sid": record.session_id,
    }))
    .into_response())
}

/// `POST R/protocol/openid-connect/revoke` (RFC 7009). A refresh token ends its
/// family; an access token's `jti` is denied until it expires. Unknown and
/// malformed tokens are answered 200, as §2.2 asks.
#[utoipa::path(
    post,
    path = super::REVOKE,
    tag = "oidc",
    operation_id = "revoke",
    summary = "Token revocation (RFC 7009)",
    request_body(content = TokenRequestByValue, content_type = "application/x-www-form-urlencoded"),
    security((), ("ClientBasic" = [])),
    responses(
        (status = 200, description = "Revoked, or unknown (RFC 7009 §2.2): an empty body",
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = OAuthBadRequest),
        (status = 401, response = InvalidClient),
        (status = 404, response = RealmNotFound),
        (status = 413, response = OAuthPayloadTooLarge),
        (status = 503, response = OAuthUnavailable),
    ),
)]
pub async fn revoke(
    State(state): State<Issuer>,
    headers: HeaderMap,
    OAuthForm(params): OAuthForm,
) -> Result<Response, OAuthError> {
    let client = client_auth::authenticate(&state, &headers, &params).await?;
    let token = params.require("token")?;
    let foreign = || {
        OAuthError::unauthorized_client("the token was not issued to this client; it is unchanged")
    };
    let now = state.clock.now();
    if access::is_jwt(token) {
        // Signature and issuer must hold; expiry need not (revoking an expired token is a no-op).
        if let Ok((_, claims)) = state
            .keys
            .verify_ignoring_expiry(token, &state.policy.issuer)
        {
            if claims.get("azp").and_then(Value::as_str) != Some(client.client_id.as_str()) {
                return Err(foreign());
            }
            let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
            if let Some(jti) = claims.get("jti").and_then(Value::as_str)
                && exp > now
            {
                state.store.deny_jti(jti, exp).await?;
                state.metrics.revocation("access");
                tracing::info!(target: "audit", event = "token.revoked", kind = "access", client_id = %client.client_id, jti, "access token revoked");
            }
        }
    } else if let Some(record) = state.store.get_refresh(&opaque::digest(token)).await? {
        if record.client_id != client.client_id {
            return Err(foreign());
        }
        let revoked = state.store.revoke_family(&record.family_id, now).await?;
        state.metrics.revocation("refresh");
        tracing::info!(target: "audit", event = "token.revoked", kind = "refresh", client_id = %client.client_id, family_id = %record.family_id, revoked, "refresh token revoked");
    }
    Ok(StatusCode::OK.into_response())
}
