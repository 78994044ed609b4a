//! A body extractor that takes JSON or an HTML form, as Keep's `/auth` does,
//! and turns every failure into the one error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::app::Issuer;
use crate::http::error::AppError;

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

/// Why a request body was not read.
pub enum Unread {
    /// Larger than `max_body_bytes` (carried), by its `Content-Length` or
    /// by what arrived.
    TooLarge(usize),
    /// The connection failed while it came.
    Failed,
}

/// The request body, at most `max_body_bytes`: every body extractor reads
/// through here. A body whose `Content-Length` already says it is larger
/// (hyper's parse of it, the body's size hint) is refused before a byte of
/// it is read; axum's limit counts bytes as they arrive, so a client that
/// declared 100 MB and sent three bytes held the connection until
/// `request_timeout` and got a 408.
pub async fn read(req: Request, state: &Issuer) -> Result<Bytes, Unread> {
    let limit = state.config.max_body_bytes;
    let declared = http_body::Body::size_hint(req.body()).lower();
    if declared > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Err(Unread::TooLarge(limit));
    }
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Unread::TooLarge(limit)
        } else {
            Unread::Failed
        }
    })
}

impl<T> FromRequest<Issuer> for FormOrJson<T>
where
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &Issuer) -> Result<Self, Self::Rejection> {
        let kind = kind_of(&req)?;
        let bytes = read(req, state).await.map_err(|unread| match unread {
            Unread::TooLarge(limit) => AppError::PayloadTooLarge(limit),
            Unread::Failed => AppError::BadRequest("the request body could not be read".into()),
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(AppError::BadRequest("the request body is empty".into()));
        }
        let value = match kind {
            Kind::Json => serde_json::from_slice(&bytes)
                .map_err(|e| AppError::BadRequest(format!("malformed JSON body: {e}")))?,
            Kind::Form => {
                require_utf8_form(&bytes)
                    .map_err(|why| AppError::BadRequest(format!("malformed form body: {why}")))?;
                serde_urlencoded::from_bytes(&bytes)
                    .map_err(|e| AppError::BadRequest(format!("malformed form body: {e}")))?
            }
        };
        Ok(FormOrJson(value))
    }
}

/// Refuses `application/x-www-form-urlencoded` data (a body or a query)
/// whose names or values are not UTF-8 once percent-decoded: the form
/// parsers would replace the bytes with U+FFFD and go on with another value
/// than the one sent. The separators are ASCII, which no UTF-8 sequence
/// contains, so decoding the whole input at once checks every part.
pub(crate) fn require_utf8_form(form: &[u8]) -> Result<(), &'static str> {
    percent_encoding::percent_decode(form)
        .decode_utf8()
        .map(|_| ())
        .map_err(|_| "names and values must be UTF-8")
}

/// Whether the request says its body is `application/x-www-form-urlencoded`.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

#[cfg(test)]
mod tests {
    use super::require_utf8_form;

    #[test]
    fn forms_must_decode_to_utf8() {
        for ok in [
            &b""[..],
            b"username=doc&password=x",
            b"name=%C3%A9t%C3%A9+x",
            "name=\u{e9}".as_bytes(),
            b"a=%EF%BF%BD",
            b"a=%zz",
        ] {
            assert!(require_utf8_form(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            &b"username=%ff%fe&password=x"[..],
            b"%ff=x",
            b"a=%C3",
            b"a=%C3&b=%A9",
            b"a=\xff",
        ] {
            assert!(require_utf8_form(bad).is_err(), "{bad:?}");
        }
    }
}
