//! Keep login: `POST /auth` and `POST /api/v1/auth` (Domino REST API dialect).

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::app::Issuer;
use crate::app::keep::{KeepError, KeepLogin};
use crate::app::login::ClientIp;
use crate::app::users::LoginError;
use crate::domain::token::Claims;
use crate::domain::user::{LoginName, Password};
use crate::http::FormOrJson;
use crate::http::error::{AppError, Result};
use crate::http::schemas::{
    BadRequest, InvalidCredentials, PayloadTooLarge, TooManyRequests, Unavailable,
    UnsupportedMediaType,
};

pub fn router() -> Router<Issuer> {
    Router::new()
        .route(LOGIN, post(login))
        .route(LOGIN_V1, post(login))
        .layer(super::no_store())
}

pub(super) const LOGIN: &str = "/auth";
pub(super) const LOGIN_V1: &str = "/api/v1/auth";

// This group's part of the OpenAPI document (`LOGIN_V1` is added as an alias).
crate::http::group_api!(login);

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"username": "doc", "password": "passw0rd"}))]
struct LoginRequest {
    /// Login name or email.
    #[schema(min_length = 1)]
    username: String,
    #[schema(min_length = 1)]
    password: String,
    /// Space-separated subset of the user's scopes.
    #[serde(default)]
    #[schema(nullable = false)]
    scope: Option<String>,
    /// Requested lifetime in seconds; clamped to `max_jwt_duration`.
    #[serde(default, rename = "expSeconds")]
    #[schema(nullable = false)]
    exp_seconds: Option<u64>,
}

#[derive(Serialize, ToSchema)]
struct LoginResponse {
    /// The signed JWT (RS256).
    bearer: String,
    /// The JWT's payload, exactly.
    #[schema(value_type = Object)]
    claims: Claims,
    /// Clock skew, in seconds, that verifiers should allow.
    leeway: u64,
    #[serde(rename = "expSeconds")]
    exp_seconds: u64,
    #[serde(rename = "issueDate")]
    #[schema(format = DateTime)]
    issue_date: String,
}

/// Keep login: a username and password for a signed JWT.
#[utoipa::path(
    post,
    path = LOGIN,
    operation_id = "keep_login",
    request_body(content(
        (LoginRequest = "application/json"),
        (LoginRequest = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = InvalidCredentials),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 429, response = TooManyRequests),
        (status = 503, response = Unavailable),
    ),
)]
async fn login(
    State(state): State<Issuer>,
    ip: ClientIp,
    FormOrJson(req): FormOrJson<LoginRequest>,
) -> Result<impl IntoResponse> {
    let login = LoginName::parse(&req.username)?;
    let password = Password::parse(&req.password)?;
    if let Some(scope) = &req.scope {
        crate::domain::scope::check_param(scope).map_err(AppError::BadRequest)?;
    }
    let token = state
        .keep_login(KeepLogin {
            login: &login,
            password: &password,
            ip,
            scope: req.scope.as_deref(),
            exp_seconds: req.exp_seconds,
        })
        .await
        .map_err(|e| match e {
            KeepError::Login(LoginError::Refused) => AppError::InvalidCredentials,
            KeepError::Login(LoginError::Locked { retry_after }) => {
                AppError::TooManyRequests(retry_after)
            }
            KeepError::Login(LoginError::Store(e)) | KeepError::Store(e) => e.into(),
            KeepError::Login(LoginError::Hash(e)) => e.into(),
            KeepError::Key(e) => e.into(),
            KeepError::Internal(why) => AppError::Internal(why.into()),
        })?;
    let now = token.issued_at;
    let body = LoginResponse {
        bearer: token.bearer,
        claims: token.claims,
        leeway: state.config.leeway,
        exp_seconds: token.lifetime,
        issue_date: now
            .replace_nanosecond(0)
            .unwrap_or(now)
            .format(&Rfc3339)
            .map_err(|e| AppError::Internal(e.to_string()))?,
    };
    Ok(Json(body))
}
