//! Who calls the Domino API: the credential a request carries (an API key
//! or a bearer token), the user it names, and the 401 that refuses it.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::Issuer;
use crate::app::domino_api::{CallerError, Credential};
use crate::app::login::ClientIp;
use crate::domain::user::User;
use crate::http::error::{AppError, ErrorBody};

/// The header python-domino and dominodatalab-data send an API key in.
const API_KEY_HEADER: &str = "x-domino-api-key";

/// Why a Domino API request is refused.
pub(super) enum DominoError {
    /// 401 in the application's error shape, with a `WWW-Authenticate`
    /// challenge (realm name).
    Unauthorized(String, String),
    App(AppError),
}

impl DominoError {
    fn unauthorized(state: &Issuer, why: impl Into<String>) -> Self {
        DominoError::Unauthorized(state.realm.name.clone(), why.into())
    }
}

impl IntoResponse for DominoError {
    fn into_response(self) -> Response {
        match self {
            DominoError::Unauthorized(realm, message) => {
                let body = ErrorBody {
                    status: 401,
                    error: "invalid_credentials",
                    message,
                };
                let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
                // The realm name is A-Z a-z 0-9 - _ . (config validation).
                if let Ok(challenge) = HeaderValue::from_str(&format!("Bearer realm=\"{realm}\"")) {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, challenge);
                }
                response
            }
            DominoError::App(e) => e.into_response(),
        }
    }
}

impl From<AppError> for DominoError {
    fn from(e: AppError) -> Self {
        DominoError::App(e)
    }
}

const NO_CREDENTIALS: &str = "credentials are required: send an API key as X-Domino-Api-Key, or Authorization: Bearer <token>";

/// The credential a request carries, if any. An API key wins over a bearer
/// token. Unreadable values are still a credential (a bad one), so that
/// they count as failed attempts and are answered 401.
fn credential(headers: &HeaderMap) -> Result<Option<Credential<'_>>, &'static str> {
    let mut keys = headers.get_all(API_KEY_HEADER).iter();
    if let Some(value) = keys.next() {
        if keys.next().is_some() {
            return Err("send one X-Domino-Api-Key header");
        }
        return Ok(Some(Credential::ApiKey(
            value.to_str().map(str::trim).unwrap_or_default(),
        )));
    }
    let mut auths = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = auths.next() else {
        return Ok(None);
    };
    if auths.next().is_some() {
        return Err("send one Authorization header");
    }
    let value = value
        .to_str()
        .map_err(|_| "the Authorization header is not readable")?;
    let token = value
        .get(..7)
        .filter(|scheme| scheme.eq_ignore_ascii_case("bearer "))
        .and_then(|_| value.get(7..))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or("use Authorization: Bearer <token>, or an API key as X-Domino-Api-Key")?;
    Ok(Some(Credential::Bearer(token)))
}

/// The calling user; `None` when the request carries no credential.
pub(super) struct Caller(pub Option<User>);

impl FromRequestParts<Issuer> for Caller {
    type Rejection = DominoError;

    async fn from_request_parts(parts: &mut Parts, state: &Issuer) -> Result<Self, DominoError> {
        let Ok(ip) = ClientIp::from_request_parts(parts, state).await;
        let credential = match credential(&parts.headers) {
            Ok(Some(credential)) => credential,
            Ok(None) => return Ok(Caller(None)),
            Err(why) => return Err(DominoError::unauthorized(state, why)),
        };
        match state.domino_caller(credential, ip).await {
            Ok(user) => Ok(Caller(Some(user))),
            Err(CallerError::Unauthenticated(why)) => Err(DominoError::unauthorized(state, why)),
            Err(CallerError::Locked { retry_after }) => {
                Err(AppError::TooManyRequests(retry_after).into())
            }
            Err(CallerError::Store(e)) => Err(AppError::from(e).into()),
        }
    }
}

/// The calling user, who must have sent a credential.
pub(super) struct RequiredCaller(pub User);

impl FromRequestParts<Issuer> for RequiredCaller {
    type Rejection = DominoError;

    async fn from_request_parts(parts: &mut Parts, state: &Issuer) -> Result<Self, DominoError> {
        let Caller(user) = Caller::from_request_parts(parts, state).await?;
        user.map(RequiredCaller)
            .ok_or_else(|| DominoError::unauthorized(state, NO_CREDENTIALS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Header names and their raw values.
    type Pairs<'a> = &'a [(&'a str, &'a [u8])];

    fn headers(pairs: Pairs<'_>) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        h
    }

    #[test]
    fn credentials_are_read_from_either_header() {
        // What `credential` read, as `key:<key>` or `bearer:<token>`.
        let read = |h: &HeaderMap| match credential(h) {
            Ok(Some(Credential::ApiKey(k))) => Some(format!("key:{k}")),
            Ok(Some(Credential::Bearer(t))) => Some(format!("bearer:{t}")),
            _ => None,
        };
        assert!(matches!(credential(&headers(&[])), Ok(None)));
        let read_as: [(Pairs<'_>, &str); 5] = [
            (&[("X-Domino-Api-Key", b"dik_x ")], "key:dik_x"),
            // Unreadable bytes are a (bad) key, not an absent one.
            (&[("x-domino-api-key", b"\xff")], "key:"),
            (&[("authorization", b"Bearer t.o.k")], "bearer:t.o.k"),
            (&[("authorization", b"bearer  t ")], "bearer:t"),
            // The key wins.
            (
                &[("authorization", b"Bearer t"), ("x-domino-api-key", b"k")],
                "key:k",
            ),
        ];
        for (pairs, want) in read_as {
            assert_eq!(read(&headers(pairs)).as_deref(), Some(want), "{pairs:?}");
        }
        assert!(
            credential(&headers(&[
                ("x-domino-api-key", b"a"),
                ("x-domino-api-key", b"b")
            ]))
            .is_err()
        );
        for bad in [
            &b"Basic dXNlcjpwYXNz"[..],
            b"Bearer",
            b"Bearer   ",
            b"Bearer\xff",
        ] {
            assert!(
                credential(&headers(&[("authorization", bad)])).is_err(),
                "{bad:?}"
            );
        }
    }
}
