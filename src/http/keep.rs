//! Keep login: `POST /auth` and `POST /api/v1/auth` (Domino REST API dialect).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::domain::mapper::KEEP_CLIENT;
use crate::domain::token::{self, Claims};
use crate::domain::user::{LoginName, Password};
use crate::error::{AppError, Result};
use crate::http::FormOrJson;
use crate::mappers;
use crate::oidc::claims::ClaimContext;
use crate::state::AppState;
use crate::users::{self, LoginError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth", post(login))
        .route("/api/v1/auth", post(login))
}

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
    /// Space-separated subset of the user's scopes.
    #[serde(default)]
    scope: Option<String>,
    /// Requested lifetime in seconds; clamped to `max_jwt_duration`.
    #[serde(default, rename = "expSeconds")]
    exp_seconds: Option<u64>,
}

#[derive(Serialize)]
struct LoginResponse {
    bearer: String,
    claims: Claims,
    leeway: u64,
    #[serde(rename = "expSeconds")]
    exp_seconds: u64,
    #[serde(rename = "issueDate")]
    issue_date: String,
}

async fn login(
    State(state): State<AppState>,
    FormOrJson(req): FormOrJson<LoginRequest>,
) -> Result<impl IntoResponse> {
    let login = LoginName::parse(&req.username)?;
    let password = Password::parse(&req.password)?;
    if let Some(scope) = &req.scope
        && (scope.len() > 4096 || scope.chars().any(char::is_control))
    {
        return Err(AppError::BadRequest(
            "scope must be at most 4096 characters without control characters".into(),
        ));
    }
    let user = users::authenticate(state.store.as_ref(), &state.passwords, &login, &password)
        .await
        .map_err(|e| match e {
            LoginError::Refused => AppError::InvalidCredentials,
            LoginError::Store(e) => e.into(),
            LoginError::Hash(e) => e.into(),
        })?;

    let now = OffsetDateTime::now_utc();
    let lifetime = state.policy.lifetime(req.exp_seconds);
    let scopes = token::narrow_scopes(&user.scopes, req.scope.as_deref());
    let jti = uuid::Uuid::new_v4().to_string();
    let mappers = mappers::load(state.store.as_ref()).await?;
    let ctx = ClaimContext {
        policy: &state.policy,
        mappers: &mappers,
        client_id: KEEP_CLIENT,
        user: Some(&user),
        scopes: &scopes,
        session: None,
        now: now.unix_timestamp(),
        lifetime,
    };
    let claims = ctx
        .keep(&jti)
        .ok_or_else(|| AppError::Internal("no user for a Keep token".into()))?;
    let bearer = state.keys.sign(&claims)?;
    tracing::info!(user_id = %user.id, jti = %jti, "keep token issued");
    let body = LoginResponse {
        bearer,
        claims,
        leeway: state.config.leeway,
        exp_seconds: lifetime,
        issue_date: now
            .replace_nanosecond(0)
            .unwrap_or(now)
            .format(&Rfc3339)
            .map_err(|e| AppError::Internal(e.to_string()))?,
    };
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(body),
    ))
}
