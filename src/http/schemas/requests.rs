//! The requests' shapes for the OpenAPI document: the parameters and form
//! bodies the handlers read from `Params`, and the token request's one form
//! per grant.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};

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
