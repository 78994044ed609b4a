//! How errors are sent and logged. Every JSON error outside the OAuth
//! endpoints has one shape, `{"status": <code>, "error": "<kind>",
//! "message": "<what to do>"}`; the OAuth operations' errors are sent in RFC
//! 6749 §5.2's. A server-side cause is never sent: the response carries it
//! as an extension and `log_cause`, called once per response by
//! `server::timeout::serve` (the one place that logs errors), writes it.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::oidc::OAuthError;

use crate::domain::password::HashError;
use crate::domain::user::InvalidInput;
use crate::keys::KeyError;
use crate::store::StoreError;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// The body of every JSON error outside the OAuth endpoints.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": 401, "error": "invalid_credentials", "message": "invalid username or password"}))]
pub struct ErrorBody {
    /// The HTTP status code again.
    pub status: u16,
    /// A stable machine-readable kind: `invalid_request`, `invalid_credentials`,
    /// `too_many_requests`, `not_found`, `method_not_allowed`, `request_timeout`,
    /// `payload_too_large`, `unsupported_media_type`, `temporarily_unavailable`
    /// `server_error` or (the API proxy) `bad_gateway`.
    pub error: &'static str,
    /// What went wrong and what to do, for people.
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("invalid username or password")]
    InvalidCredentials,
    /// Brute-force protection: retry after this many seconds.
    #[error("too many failed login attempts; try again later")]
    TooManyRequests(u64),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unavailable(String),
    /// The client did not finish sending its request in time.
    #[error("the request was not received within {0} seconds; send it faster or smaller")]
    RequestTimeout(u64),
    #[error("internal error")]
    Internal(String),
    /// A proxy's upstream (or token endpoint) failed: what and why.
    #[error("{0}")]
    BadGateway(String),
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::BadGateway(_) => StatusCode::BAD_GATEWAY,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "invalid_request",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::NotFound(_) => "not_found",
            AppError::MethodNotAllowed(_) => "method_not_allowed",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::Unavailable(_) => "temporarily_unavailable",
            AppError::RequestTimeout(_) => "request_timeout",
            AppError::Internal(_) => "server_error",
            AppError::BadGateway(_) => "bad_gateway",
        }
    }
}

/// The server-side cause of an error response, for `log_cause`.
#[derive(Debug, Clone)]
pub struct Cause(pub String);

/// Logs the cause an error response carries: a failure (500) as an error,
/// anything else (an unavailable dependency, a timeout) as a warning.
pub fn log_cause(response: &Response) {
    if let Some(Cause(cause)) = response.extensions().get::<Cause>() {
        if response.status() == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(%cause, "request failed");
        } else {
            tracing::warn!(%cause, status = response.status().as_u16(), "request not served");
        }
    }
}

/// The body of an OAuth error (RFC 6749 §5.2).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid_grant", "error_description": "Invalid user credentials"}))]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope`, `invalid_token`,
    /// `temporarily_unavailable` or `server_error`.
    pub error: &'static str,
    pub error_description: String,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = OAuthErrorBody {
            error: self.code,
            error_description: self.description,
        };
        let mut response = (self.status, Json(body)).into_response();
        // `Cache-Control: no-store` comes from the OAuth routes' layer (`http::no_store`).
        let headers = response.headers_mut();
        if let Some(value) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, seconds.into());
        } else if self.status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(Cause(cause));
        }
        response
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (message, cause) = match &self {
            AppError::Internal(cause) => (
                "internal error; the cause has been logged".to_owned(),
                Some(cause.clone()),
            ),
            AppError::Unavailable(cause) => (
                "the service is temporarily unavailable; retry shortly".to_owned(),
                Some(cause.clone()),
            ),
            other => (other.to_string(), None),
        };
        let body = ErrorBody {
            status: status.as_u16(),
            error: self.kind(),
            message,
        };
        let mut response = (status, Json(body)).into_response();
        if let AppError::TooManyRequests(seconds) = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
        }
        if let Some(cause) = cause {
            response.extensions_mut().insert(Cause(cause));
        }
        response
    }
}

impl From<InvalidInput> for AppError {
    fn from(e: InvalidInput) -> Self {
        AppError::BadRequest(e.0)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => AppError::BadRequest(m),
            StoreError::Unavailable(_) | StoreError::Open(_) => {
                AppError::Unavailable(e.to_string())
            }
            StoreError::Corrupt(_) => AppError::Internal(e.to_string()),
        }
    }
}

impl From<HashError> for AppError {
    fn from(e: HashError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<KeyError> for AppError {
    fn from(e: KeyError) -> Self {
        AppError::Internal(e.to_string())
    }
}
