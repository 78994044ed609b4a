//! `POST R/protocol/openid-connect/token`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::{Extension, Json};

use super::client_auth;
use super::form::OAuthForm;
use crate::app::Issuer;
use crate::app::config_cache::Snapshot;
use crate::app::login::ClientIp;
use crate::app::oidc::grants::GrantResponse;
use crate::app::oidc::prefetch::Prefetched;
use crate::app::oidc::{OAuthError, grants};
use crate::http::schemas::{ClientAuthErrors, TokenRequest};

/// The token endpoint: the `authorization_code`, `refresh_token`, `password`
/// and `client_credentials` grants, and the token exchange of an API key for
/// a Domino Token (RFC 8693; see docs/domino.md).
#[utoipa::path(
    post,
    path = super::TOKEN,
    summary = "Token endpoint: the four grants of RFC 6749 and RFC 8693's token exchange",
    request_body(
        content = TokenRequest,
        content_type = "application/x-www-form-urlencoded",
        example = json!({"grant_type": "password", "username": "doc", "password": "passw0rd", "scope": "openid"}),
    ),
    security((), ("ClientBasic" = [])),
    responses(
        (status = 200, description = "Tokens (Keycloak's response), or for a token exchange RFC 8693's", body = GrantResponse),
        ClientAuthErrors,
    ),
)]
pub async fn token(
    State(state): State<Issuer>,
    read_by_cors: Option<Extension<Arc<Snapshot>>>,
    headers: HeaderMap,
    ip: ClientIp,
    OAuthForm(params): OAuthForm,
) -> Result<impl IntoResponse, OAuthError> {
    // A browser's request had the configuration read for it by `cors`,
    // after it arrived: the same guarantee as a read here.
    let pre = match read_by_cors {
        Some(Extension(config)) => Prefetched::config(config),
        None => state.prefetch(&params).await?,
    };
    let client = client_auth::authenticate_in(&state, &pre.config, &headers, &params)?;
    let response = grants::exchange(&state, pre, &client, &params, ip).await?;
    Ok(Json(response))
}
