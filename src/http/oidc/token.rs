//! `POST R/protocol/openid-connect/token`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;

use super::client_auth;
use super::form::OAuthForm;
use crate::oidc::{OAuthError, grants};
use crate::state::AppState;

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    OAuthForm(params): OAuthForm,
) -> Result<impl IntoResponse, OAuthError> {
    let client = client_auth::authenticate(&state, &headers, &params).await?;
    let response = grants::exchange(&state, &client, &params).await?;
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(response),
    ))
}
