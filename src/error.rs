//! One error type for the HTTP layer. Every JSON error has the same shape,
//! `{"status": <code>, "error": "<kind>", "message": "<what to do>"}`;
//! server-side causes are logged, never sent.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

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
    /// or `server_error`.
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
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            AppError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                "internal error; the cause has been logged".to_owned()
            }
            AppError::Unavailable(cause) => {
                tracing::warn!(%cause, "dependency unavailable");
                "the service is temporarily unavailable; retry shortly".to_owned()
            }
            other => other.to_string(),
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
