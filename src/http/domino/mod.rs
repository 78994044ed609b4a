//! The Domino Data Lab API's identity endpoints, at the root as Domino
//! serves them (python-domino cuts its host to `scheme://host:port`):
//! `GET /version`, `GET /v4/users/self`, `GET /v4/users`,
//! `GET /v4/auth/principal`. Callers authenticate with `X-Domino-Api-Key`
//! or `Authorization: Bearer <a token of this issuer>`; a missing or bad
//! credential is 401, never 409 (which python-domino reads as "relogin
//! required"); `caller` reads the credential and refuses it.

mod caller;

use axum::Json;
use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::get;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::app::Issuer;
use crate::app::oidc::Params;
use crate::domain::domino;
use crate::domain::user::User;
use crate::http::error::{AppError, ErrorBody};
use crate::http::schemas::{BadRequest, TooManyRequests, Unavailable};
use caller::{Caller, DominoError, RequiredCaller};

pub(super) const VERSION: &str = "/version";
pub(super) const USERS_SELF: &str = "/v4/users/self";
pub(super) const USERS: &str = "/v4/users";
pub(super) const PRINCIPAL: &str = "/v4/auth/principal";

pub fn router() -> Router<Issuer> {
    let users = Router::new()
        .route(USERS_SELF, get(users_self))
        .route(USERS, get(users))
        .route(PRINCIPAL, get(principal))
        .layer(super::no_store());
    Router::new().route(VERSION, get(version)).merge(users)
}

// This group's part of the OpenAPI document.
crate::http::group_api!(version, users_self, users, principal);

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"version": "6.2.0"}))]
struct Version {
    /// `domino_api_version`: X.Y.Z.
    version: String,
}

/// A user as the Domino API shows one (seed 000).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"firstName": "Jack", "lastName": "London", "fullName": "Jack London",
    "userName": "jack-london", "email": "jack.london@oaklandpub.com", "avatarUrl": "",
    "id": "0b7c7a52-8d3c-4bd6-9a1e-1f0d8c2b5e61"}))]
struct DominoUser {
    /// The `given_name` attribute, else the common name up to its last space.
    first_name: String,
    /// The `family_name` attribute, else the common name after its last space.
    last_name: String,
    /// The common name.
    full_name: String,
    user_name: String,
    /// `null` for a user without one.
    email: Option<String>,
    /// Always empty.
    avatar_url: &'static str,
    /// The user's stable id.
    id: String,
}

impl From<&User> for DominoUser {
    fn from(user: &User) -> Self {
        let (first_name, last_name) = domino::names(user);
        DominoUser {
            first_name,
            last_name,
            full_name: user.cn.clone(),
            user_name: user.username.clone(),
            email: user.email.clone(),
            avatar_url: "",
            id: user.id.clone(),
        }
    }
}

/// Who is calling, as Domino's authorization service says.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"isAnonymous": false, "isAdmin": false,
    "canonicalId": "0b7c7a52-8d3c-4bd6-9a1e-1f0d8c2b5e61", "canonicalName": "jack-london",
    "allowedSystemOperations": []}))]
struct Principal {
    is_anonymous: bool,
    /// A member of the group `admin_group` names.
    is_admin: bool,
    /// The user's stable id; `null` when anonymous.
    canonical_id: Option<String>,
    /// The username; `null` when anonymous.
    canonical_name: Option<String>,
    /// Always empty.
    allowed_system_operations: Vec<String>,
}

/// `GET /v4/users`' filters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct UsersQuery {
    /// Only the user with this username (case-insensitive).
    #[param(rename = "userName", required = false, example = "jack-london")]
    user_name: String,
    /// Only the user with this email (case-insensitive).
    #[param(required = false, example = "jack.london@oaklandpub.com")]
    email: String,
}

/// `GET /v4/users`' filters, read before the caller: a malformed query is
/// 400 and costs no attempt.
struct UsersFilter(Params);

impl<S: Send + Sync> FromRequestParts<S> for UsersFilter {
    type Rejection = DominoError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, DominoError> {
        let query = parts.uri.query().unwrap_or_default();
        let params = Params::parse(query.as_bytes()).map_err(AppError::BadRequest)?;
        Ok(UsersFilter(params))
    }
}

/// How the endpoints that read the caller refuse one, written once for the
/// document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a shape for the document, never built
enum CallerErrors {
    #[response(
        status = 401,
        description = "`invalid_credentials`: a bad, expired or revoked credential, or its user is disabled or gone; on `/v4/users/self` and `/v4/users`, no credential too (`/v4/auth/principal` answers that one as anonymous)",
        headers(("WWW-Authenticate" = String, description = "`Bearer realm=...`"))
    )]
    Unauthorized(ErrorBody),
    #[response(status = 429)]
    Locked(#[ref_response] TooManyRequests),
    #[response(status = 503)]
    Unavailable(#[ref_response] Unavailable),
}

/// The Domino version this server speaks for. No credentials needed; any sent are ignored.
#[utoipa::path(
    get,
    path = VERSION,
    operation_id = "domino_version",
    responses((status = 200, description = "The version (`domino_api_version`)", body = Version)),
)]
async fn version(State(state): State<Issuer>) -> Json<Version> {
    Json(Version {
        version: state.config.domino_api_version.clone(),
    })
}

/// The calling user.
#[utoipa::path(
    get,
    path = USERS_SELF,
    operation_id = "domino_users_self",
    security(("DominoApiKey" = []), ("BearerAuth" = [])),
    responses(
        (status = 200, description = "The caller", body = DominoUser),
        CallerErrors,
    ),
)]
async fn users_self(RequiredCaller(user): RequiredCaller) -> Json<DominoUser> {
    Json(DominoUser::from(&user))
}

/// The enabled users, optionally filtered (python-domino's `get_user_id`).
#[utoipa::path(
    get,
    path = USERS,
    operation_id = "domino_users",
    params(UsersQuery),
    security(("DominoApiKey" = []), ("BearerAuth" = [])),
    responses(
        (status = 200, description = "The users", body = Vec<DominoUser>),
        (status = 400, response = BadRequest),
        CallerErrors,
    ),
)]
async fn users(
    State(state): State<Issuer>,
    UsersFilter(params): UsersFilter,
    _caller: RequiredCaller,
) -> Result<Json<Vec<DominoUser>>, DominoError> {
    let users = state
        .domino_users(params.get("userName"), params.get("email"))
        .await
        .map_err(AppError::from)?;
    Ok(Json(users.iter().map(DominoUser::from).collect()))
}

/// Who is calling; anonymous without credentials.
#[utoipa::path(
    get,
    path = PRINCIPAL,
    operation_id = "domino_principal",
    security((), ("DominoApiKey" = []), ("BearerAuth" = [])),
    responses(
        (status = 200, description = "The caller, or an anonymous principal", body = Principal),
        CallerErrors,
    ),
)]
async fn principal(State(state): State<Issuer>, Caller(caller): Caller) -> Json<Principal> {
    let principal = match caller {
        Some(user) => Principal {
            is_anonymous: false,
            is_admin: state.is_domino_admin(&user),
            canonical_id: Some(user.id),
            canonical_name: Some(user.username),
            allowed_system_operations: Vec::new(),
        },
        None => Principal {
            is_anonymous: true,
            is_admin: false,
            canonical_id: None,
            canonical_name: None,
            allowed_system_operations: Vec::new(),
        },
    };
    Json(principal)
}
