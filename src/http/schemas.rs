//! Schema-only types for the OpenAPI document: the shapes of bodies and
//! parameters that the handlers build or read dynamically (`json!`, `Params`),
//! and the error responses the endpoints share. Nothing here is constructed;
//! a change to what a handler sends belongs here too, and the schemathesis run
//! (scripts/schemathesis.sh) catches the ones that are forgotten.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToResponse, ToSchema};

use crate::http::error::ErrorBody;
use crate::http::error::OAuthErrorBody;

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

// ---- Parameters the handlers read from `Params`.

/// The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeParams {
    /// A registered client.
    #[param(min_length = 1, example = "domino-play")]
    pub client_id: String,
    /// One of the client's registered redirect URIs, exactly.
    #[param(min_length = 1, example = "http://localhost:3000/callback")]
    pub redirect_uri: String,
    /// Only `code`.
    #[param(min_length = 1, example = "code")]
    pub response_type: String,
    #[param(required = false, example = "openid")]
    pub scope: String,
    #[param(required = false, example = "xyz")]
    pub state: String,
    #[param(required = false)]
    pub nonce: String,
    /// Required for public clients.
    #[param(
        required = false,
        example = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )]
    pub code_challenge: String,
    /// Only `S256`.
    #[param(required = false, example = "S256")]
    pub code_challenge_method: String,
    /// `query` (the default) or `fragment`.
    #[param(required = false)]
    pub response_mode: String,
    /// Space-separated; `login` and `none` are honoured.
    #[param(required = false)]
    pub prompt: String,
    /// Seconds since the last sign-in beyond which the user signs in again.
    #[param(required = false, minimum = 0)]
    pub max_age: i64,
    #[param(required = false)]
    pub login_hint: String,
}

/// The login form: the authorization request it continues, the credentials,
/// and the CSRF token the form carried (it must equal the CSRF cookie).
#[derive(ToSchema)]
pub struct LoginForm {
    #[schema(min_length = 1, example = "domino-play")]
    pub client_id: String,
    #[schema(min_length = 1, example = "http://localhost:3000/callback")]
    pub redirect_uri: String,
    #[schema(min_length = 1, example = "code")]
    pub response_type: String,
    #[schema(required = false)]
    pub scope: String,
    #[schema(required = false)]
    pub state: String,
    #[schema(required = false)]
    pub nonce: String,
    #[schema(required = false)]
    pub code_challenge: String,
    #[schema(required = false)]
    pub code_challenge_method: String,
    #[schema(required = false)]
    pub response_mode: String,
    #[schema(required = false, minimum = 0)]
    pub max_age: i64,
    #[schema(min_length = 1, example = "doc")]
    pub username: String,
    #[schema(min_length = 1, example = "passw0rd")]
    pub password: String,
    #[schema(min_length = 1, example = json!(CSRF_EXAMPLE))]
    pub csrf_token: String,
}

/// What a CSRF token looks like (43 characters of base64url).
pub const CSRF_EXAMPLE: &str = "csrf-example-0123456789abcdefghijklmnopqrst";

/// RP-initiated logout (OIDC RP-Initiated Logout §2), or with `refresh_token`
/// and client authentication, Keycloak's adapter (back-channel) logout.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogoutParams {
    /// An ID token of a registered client for this browser's session: the
    /// session ends without asking. Any other hint only asks.
    #[param(required = false)]
    pub id_token_hint: String,
    /// Registered by the client that `client_id` or the hint names.
    #[param(required = false, example = "http://localhost:3000/")]
    pub post_logout_redirect_uri: String,
    #[param(required = false)]
    pub state: String,
    #[param(required = false, example = "domino-play")]
    pub client_id: String,
    /// `yes` with `csrf_token`: the user confirmed on the logout page.
    #[param(required = false)]
    pub confirm: String,
    #[param(required = false)]
    pub csrf_token: String,
    /// Back-channel: end this refresh token's session (answered 204).
    #[param(required = false)]
    pub refresh_token: String,
    /// Back-channel, `client_secret_post`.
    #[param(required = false)]
    pub client_secret: String,
}

/// RFC 7662 §2.1 / RFC 7009 §2.1, with `client_secret_post` credentials.
#[derive(ToSchema)]
pub struct TokenRequestByValue {
    /// An access, ID or refresh token.
    #[schema(min_length = 1)]
    pub token: String,
    /// `access_token` or `refresh_token`; the token's form decides anyway.
    #[schema(required = false)]
    pub token_type_hint: String,
    /// `client_secret_post` (or, for revocation, a public client's id).
    #[schema(required = false)]
    pub client_id: String,
    #[schema(required = false)]
    pub client_secret: String,
}

/// The token request (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6): one form per
/// grant. Clients authenticate with HTTP Basic, or with `client_id` and
/// `client_secret` in the form (`client_secret_post`), or, public clients,
/// with `client_id` alone.
pub struct TokenRequest;

/// Form fields every grant may carry.
const CLIENT_FIELDS: [(&str, &str); 2] = [
    ("client_id", "client_secret_post, or a public client"),
    ("client_secret", "client_secret_post"),
];

/// A grant's form: `grant_type` fixed, then (name, description, required).
fn grant_form(grant_type: &str, fields: &[(&str, &str, bool)]) -> Schema {
    let text = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
    };
    let mut form = ObjectBuilder::new()
        .schema_type(Type::Object)
        .title(Some(grant_type))
        .property(
            "grant_type",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([grant_type])),
        )
        .required("grant_type");
    for (name, description, required) in fields {
        if *required {
            // An empty value counts as absent.
            form = form
                .property(*name, text(description).min_length(Some(1)))
                .required(*name);
        } else {
            form = form.property(*name, text(description));
        }
    }
    for (name, description) in CLIENT_FIELDS {
        form = form.property(name, text(description));
    }
    Schema::Object(form.build())
}

impl PartialSchema for TokenRequest {
    fn schema() -> RefOr<Schema> {
        let scope = ("scope", "Space-separated; narrows the default", false);
        OneOfBuilder::new()
            .item(grant_form(
                "authorization_code",
                &[
                    ("code", "From the authorization response", true),
                    ("redirect_uri", "As in the authorization request", true),
                    ("code_verifier", "PKCE (RFC 7636)", false),
                ],
            ))
            .item(grant_form(
                "refresh_token",
                &[("refresh_token", "Used once; rotated", true), scope],
            ))
            .item(grant_form(
                "password",
                &[
                    ("username", "Login name or email", true),
                    ("password", "The user's password", true),
                    scope,
                ],
            ))
            .item(grant_form("client_credentials", &[scope]))
            .into()
    }
}

impl ToSchema for TokenRequest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TokenRequest")
    }
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
