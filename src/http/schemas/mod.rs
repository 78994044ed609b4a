//! Schema-only types for the OpenAPI document: the shapes of bodies and
//! parameters that the handlers build or read dynamically (`json!`, `Params`),
//! and the error responses the endpoints share. Nothing here is constructed;
//! a change to what a handler sends belongs here too, and the schemathesis run
//! (scripts/schemathesis.sh) catches the ones that are forgotten. The
//! requests' shapes (parameters, forms) are in `requests`.

mod requests;

use utoipa::{ToResponse, ToSchema};

use crate::http::error::ErrorBody;
use crate::http::error::OAuthErrorBody;
pub use requests::{
    AuthorizeParams, CSRF_EXAMPLE, LoginForm, LogoutParams, TokenRequest, TokenRequestByValue,
};

/// Error responses that share a body shape: each a `ToResponse` wrapping the
/// body, with the `#[response(...)]` arguments written after its name.
macro_rules! error_responses {
    ($body:ty; $($(#[$doc:meta])* $name:ident($($response:tt)*),)*) => {$(
        $(#[$doc])*
        #[derive(ToResponse)]
        #[response($($response)*)]
        pub struct $name(pub $body);
    )*};
}

// ---- Error responses in the application's shape: {status, error, message}.
error_responses! {
    ErrorBody;
    /// `invalid_request`: a malformed body, a missing or invalid field.
    BadRequest(description = "`invalid_request`: a malformed body or an invalid field"),
    /// `invalid_credentials`.
    InvalidCredentials(
        description = "`invalid_credentials`: unknown user, wrong password, or a disabled account (never said which)"
    ),
    /// The `{realm}` segment names no realm.
    RealmNotFound(description = "`not_found`: the realm does not exist"),
    /// Any method a path does not document.
    MethodNotAllowed(
        description = "`method_not_allowed`: the path exists, the method does not",
        headers(("Allow" = String, description = "The methods the path accepts"))
    ),
    PayloadTooLarge(description = "`payload_too_large`: the body is larger than `max_body_bytes`"),
    UnsupportedMediaType(
        description = "`unsupported_media_type`: send application/json or application/x-www-form-urlencoded"
    ),
    TooManyRequests(
        description = "`too_many_requests`: brute-force protection locked the user or the client address",
        headers(("Retry-After" = u64, description = "Seconds until the lockout ends"))
    ),
    Unavailable(
        description = "`temporarily_unavailable`: the store is unreachable or the request took too long",
        headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))
    ),
}

// ---- Error responses in RFC 6749 §5.2's shape: {error, error_description}.
error_responses! {
    OAuthErrorBody;
    OAuthBadRequest(
        description = "`invalid_request`, `invalid_grant`, `unauthorized_client`, `unsupported_grant_type` or `invalid_scope`. A password grant refused by brute-force protection is `invalid_grant` with `Retry-After`.",
        headers(
            ("Cache-Control" = String, description = "`no-store`"),
            ("Retry-After" = u64, description = "Only when brute-force protection refused the grant")
        )
    ),
    InvalidClient(
        description = "`invalid_client`: unknown client, wrong secret, or no client authentication",
        headers(("WWW-Authenticate" = String, description = "`Basic realm=...` when HTTP Basic was tried"))
    ),
    InvalidToken(
        description = "`invalid_token` (a missing, malformed, expired, revoked or foreign token) or `invalid_request` (no token)",
        headers(("WWW-Authenticate" = String, description = "`Bearer realm=...`, with `error=\"invalid_token\"` for a bad token"))
    ),
    OAuthPayloadTooLarge(description = "`invalid_request`: the body is larger than `max_body_bytes`"),
    OAuthUnavailable(
        description = "`temporarily_unavailable`: the store is unreachable",
        headers(("Retry-After" = u64, description = "Seconds to wait before retrying"))
    ),
}

// ---- Documents served as pre-rendered bytes.

/// Keycloak's realm document.
#[derive(ToSchema)]
pub struct RealmInfo {
    #[schema(example = "DominoRealm")]
    pub realm: String,
    /// The signing key's SubjectPublicKeyInfo, base64 DER.
    pub public_key: String,
    #[schema(rename = "token-service")]
    pub token_service: String,
    #[schema(rename = "account-service")]
    pub account_service: String,
    #[schema(rename = "tokens-not-before")]
    pub tokens_not_before: u64,
}

/// A JSON Web Key Set (RFC 7517 §5), the signer first.
#[derive(ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// One RSA signing key (RFC 7517 §4, RFC 7518 §6.3).
#[derive(ToSchema)]
pub struct Jwk {
    pub kid: String,
    #[schema(example = "RSA")]
    pub kty: String,
    #[schema(example = "RS256")]
    pub alg: String,
    #[schema(rename = "use", example = "sig")]
    pub use_: String,
    /// Modulus, base64url.
    pub n: String,
    /// Exponent, base64url.
    pub e: String,
    /// The self-signed certificate, standard base64 DER.
    #[schema(required = false)]
    pub x5c: Vec<String>,
    #[schema(required = false)]
    pub x5t: String,
    #[schema(rename = "x5t#S256", required = false)]
    pub x5t_s256: String,
}

/// OpenID Connect Discovery 1.0 §3 (the fields every client reads).
#[derive(ToSchema)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    pub end_session_endpoint: String,
    pub grant_types_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
}

/// Liveness and readiness, in MicroProfile Health's shape.
#[derive(ToSchema)]
pub struct Health {
    pub status: HealthStatus,
    pub checks: Vec<HealthCheck>,
}

#[derive(ToSchema)]
pub enum HealthStatus {
    #[schema(rename = "UP")]
    Up,
    #[schema(rename = "DOWN")]
    Down,
}

#[derive(ToSchema)]
pub struct HealthCheck {
    pub name: String,
    pub status: HealthStatus,
    /// `keys` names the active `kid`.
    #[schema(required = false, value_type = Object)]
    pub data: serde_json::Value,
}

/// The claims about the user (OIDC Core §5.3.2) that the token's scopes
/// release, plus mapped claims; for a client's own token, `sub` is the client.
/// Further properties are the claims (the schema leaves them open).
#[derive(ToSchema)]
pub struct UserInfo {
    pub sub: String,
}

/// RFC 7662 §2.2: `{"active": false}` for anything not live, else the
/// token's claims with `token_type`, `client_id` and `username`.
#[derive(ToSchema)]
pub struct Introspection {
    pub active: bool,
}

/// The error answers of an endpoint that authenticates a client (a form
/// body, HTTP Basic or form credentials): written once for the token,
/// introspection and revocation endpoints.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a shape for the document, never built
pub enum ClientAuthErrors {
    #[response(status = 400)]
    BadRequest(#[ref_response] OAuthBadRequest),
    #[response(status = 401)]
    Unauthorized(#[ref_response] InvalidClient),
    #[response(status = 404)]
    NotFound(#[ref_response] RealmNotFound),
    #[response(status = 413)]
    TooLarge(#[ref_response] OAuthPayloadTooLarge),
    #[response(status = 503)]
    Unavailable(#[ref_response] OAuthUnavailable),
}
