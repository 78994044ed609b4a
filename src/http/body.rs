//! A body extractor that takes JSON or an HTML form, as Keep's `/auth` does,
//! and turns every failure into the one error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::state::AppState;

/// `application/json` or `application/x-www-form-urlencoded`, decoded into `T`.
pub struct FormOrJson<T>(pub T);

enum Kind {
    Json,
    Form,
}

fn kind_of(req: &Request) -> Result<Kind, AppError> {
    let unsupported = || {
        AppError::UnsupportedMediaType(
            "send the body as application/json or application/x-www-form-urlencoded".into(),
        )
    };
    let value = req
        .headers()
        .get(header::CONTENT_TYPE)
        .ok_or_else(unsupported)?
        .to_str()
        .map_err(|_| unsupported())?;
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(Kind::Json),
        "application/x-www-form-urlencoded" => Ok(Kind::Form),
        e if e.starts_with("application/") && e.ends_with("+json") => Ok(Kind::Json),
        _ => Err(unsupported()),
    }
}

impl<T> FromRequest<AppState> for FormOrJson<T>
where
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let kind = kind_of(&req)?;
        let limit = state.config.max_body_bytes;
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge(limit)
            } else {
                AppError::BadRequest("the request body could not be read".into())
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(AppError::BadRequest("the request body is empty".into()));
        }
        let value = match kind {
            Kind::Json => serde_json::from_slice(&bytes)
                .map_err(|e| AppError::BadRequest(format!("malformed JSON body: {e}")))?,
            Kind::Form => serde_urlencoded::from_bytes(&bytes)
                .map_err(|e| AppError::BadRequest(format!("malformed form body: {e}")))?,
        };
        Ok(FormOrJson(value))
    }
}
