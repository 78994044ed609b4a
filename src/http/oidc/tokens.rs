//! Userinfo (OIDC Core §5.3), introspection (RFC 7662) and revocation
//! (RFC 7009): the endpoints that take a token back. They parse the request
//! and the client's credentials; the operations are `Issuer::userinfo`,
//! `introspect` and `revoke` (app::oidc::tokens).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::headers::HeaderMapExt as _;
use axum_extra::headers::authorization::{Authorization, Bearer};
use serde_json::Value;

use super::client_auth;
use super::form::{OAuthForm, QueryOrForm};
use crate::app::Issuer;
use crate::app::oidc::OAuthError;
use crate::http::schemas::{
    ClientAuthErrors, Introspection, InvalidToken, OAuthBadRequest, OAuthUnavailable,
    RealmNotFound, TokenRequestByValue, UserInfo,
};

/// `GET|POST R/protocol/openid-connect/userinfo` with a Bearer access token
/// (header, or `access_token` in a form body per RFC 6750 §2.2; never in
/// the query).
#[utoipa::path(
    get,
    path = super::USERINFO,
    summary = "UserInfo (OIDC Core §5.3): the bearer token's user's claims",
    security((), ("BearerAuth" = [])),
    responses(
        (status = 200, description = "The user's claims", body = UserInfo),
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
    let claims = state.userinfo(&token).await?;
    Ok(Json(Value::Object(claims)).into_response())
}

/// `POST R/protocol/openid-connect/token/introspect` (RFC 7662). Anything
/// expired, revoked, malformed, foreign or of a disabled user is `active: false`.
#[utoipa::path(
    post,
    path = super::INTROSPECT,
    summary = "Token introspection (RFC 7662), for confidential clients",
    request_body(content = TokenRequestByValue, content_type = "application/x-www-form-urlencoded"),
    security((), ("ClientBasic" = [])),
    responses(
        (status = 200, description = "The token's state", body = Introspection),
        ClientAuthErrors,
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
    Ok(Json(state.introspect(&client, token).await?).into_response())
}

/// `POST R/protocol/openid-connect/revoke` (RFC 7009). A refresh token ends its
/// family; an access token's `jti` is denied until it expires. Unknown and
/// malformed tokens are answered 200, as §2.2 asks.
#[utoipa::path(
    post,
    path = super::REVOKE,
    summary = "Token revocation (RFC 7009)",
    request_body(content = TokenRequestByValue, content_type = "application/x-www-form-urlencoded"),
    security((), ("ClientBasic" = [])),
    responses(
        (status = 200, description = "Revoked, or unknown (RFC 7009 §2.2): an empty body"),
        ClientAuthErrors,
    ),
)]
pub async fn revoke(
    State(state): State<Issuer>,
    headers: HeaderMap,
    OAuthForm(params): OAuthForm,
) -> Result<Response, OAuthError> {
    let client = client_auth::authenticate(&state, &headers, &params).await?;
    let token = params.require("token")?;
    state.revoke(&client, token).await?;
    Ok(StatusCode::OK.into_response())
}
