//! Errors of the OAuth operations, typed by RFC 6749 §5.2's codes. How they
//! are sent (`{"error": "<code>", "error_description": "..."}`, never
//! cached) is the HTTP layer's business: `http::error`.

use http::StatusCode;

use crate::domain::password::HashError;
use crate::keys::KeyError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: String,
    /// `WWW-Authenticate` value to send (RFC 6749 §5.2, RFC 6750 §3).
    pub challenge: Option<String>,
    /// `Retry-After` seconds to send.
    pub retry_after: Option<u64>,
    /// What went wrong on our side, for the log only (never sent).
    pub cause: Option<String>,
}

impl OAuthError {
    fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            code,
            description: description.into(),
            challenge: None,
            retry_after: None,
            cause: None,
        }
    }

    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", d)
    }
    /// Client authentication failed. `basic` when the client tried HTTP Basic,
    /// which obliges a `WWW-Authenticate` challenge.
    pub fn invalid_client(d: impl Into<String>, basic_realm: Option<&str>) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "invalid_client", d);
        e.challenge = basic_realm.map(|r| format!("Basic realm=\"{r}\", charset=\"UTF-8\""));
        e
    }
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", d)
    }
    /// Brute-force protection refused the password grant. RFC 6749 §5.2 has
    /// no code for it, so it is `invalid_grant` (what every OAuth library
    /// reports as "credentials refused") with `Retry-After`.
    pub fn locked(retry_after: u64) -> Self {
        let mut e = Self::invalid_grant("Too many failed login attempts; try again later");
        e.retry_after = Some(retry_after);
        e
    }
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unauthorized_client", d)
    }
    pub fn unsupported_grant_type(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", d)
    }
    /// A bearer token that is missing, malformed, expired or revoked (RFC 6750 §3.1).
    pub fn invalid_token(realm: &str, d: impl Into<String>) -> Self {
        let d = d.into();
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "invalid_token", d.clone());
        e.challenge = Some(format!(
            "Bearer realm=\"{realm}\", error=\"invalid_token\", error_description=\"{}\"",
            d.replace(['"', '\\'], "'")
        ));
        e
    }
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    }
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the service is temporarily unavailable; retry shortly",
        )
    }
    /// An error on our side; `cause` is logged where the response is sent.
    pub fn server_error(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "internal error; the cause has been logged",
        );
        e.cause = Some(cause.to_string());
        e
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) | StoreError::Open(cause) => {
                let mut e = OAuthError::unavailable();
                e.cause = Some(format!("store unavailable: {cause}"));
                e
            }
            StoreError::Conflict(m) => OAuthError::invalid_request(m),
            StoreError::Corrupt(m) => OAuthError::server_error(m),
        }
    }
}

impl From<KeyError> for OAuthError {
    fn from(e: KeyError) -> Self {
        OAuthError::server_error(e)
    }
}

impl From<HashError> for OAuthError {
    fn from(e: HashError) -> Self {
        OAuthError::server_error(e)
    }
}
