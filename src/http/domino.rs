//! The Domino Data Lab API's identity endpoints, at the root as Domino
//! serves them (python-domino cuts its host to `scheme://host:port`):
//! `GET /version`, `GET /v4/users/self`, `GET /v4/users`,
//! `GET /v4/auth/principal`. Callers authenticate with `X-Domino-Api-Key`
//! or `Authorization: Bearer <a token of this issuer>`; a missing or bad
//! credential is 401, never 409 (which python-domino reads as "relogin
//! required").

use axum::Json;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::app::Issuer;
use crate::app::domino_api::{CallerError, Credential};
use crate::app::login::ClientIp;
use crate::app::oidc::Params;
use crate::domain::domino;
use crate::domain::user::User;
use crate::http::error::{AppError, ErrorBody};
use crate::http::schemas::{BadRequest, TooManyRequests, Unavailable};

pub(super) const VERSION: &str = "/version";
pub(super) const USERS_SELF: &str = "/v4/users/self";
pub(super) const USERS: &str = "/v4/users";
pub(super) const PRINCIPAL: &str = "/v4/auth/principal";

/// The header python-domino and dominodatalab-data send an API key in.
const API_KEY_HEADER: &str = "x-domino-api-key";

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

/// Why a Domino API request is refused.
enum DominoError {
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
async fn caller(
    state: &Issuer,
    headers: &HeaderMap,
    ip: ClientIp,
) -> Result<Option<User>, DominoError> {
    let credential = match credential(headers) {
        Ok(Some(credential)) => credential,
        Ok(None) => return Ok(None),
        Err(why) => return Err(DominoError::unauthorized(state, why)),
    };
    match state.domino_caller(credential, ip).await {
        Ok(user) => Ok(Some(user)),
        Err(CallerError::Unauthenticated(why)) => Err(DominoError::unauthorized(state, why)),
        Err(CallerError::Locked { retry_after }) => {
            Err(AppError::TooManyRequests(retry_after).into())
        }
        Err(CallerError::Store(e)) => Err(AppError::from(e).into()),
    }
}

/// The calling user, who must have sent a credential.
async fn required_caller(
    state: &Issuer,
    headers: &HeaderMap,
    ip: ClientIp,
) -> Result<User, DominoError> {
    caller(state, headers, ip)
        .await?
        .ok_or_else(|| DominoError::unauthorized(state, NO_CREDENTIALS))
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
        (status = 200, description = "The caller", body = DominoUser,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "`invalid_credentials`: no credential, or a bad, expired or revoked one, or its user is disabled or gone",
            body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=...`"))),
        (status = 429, response = TooManyRequests),
        (status = 503, response = Unavailable),
    ),
)]
async fn users_self(
    State(state): State<Issuer>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Json<DominoUser>, DominoError> {
    let user = required_caller(&state, &headers, ip).await?;
    Ok(Json(DominoUser::from(&user)))
}

/// The enabled users, optionally filtered (python-domino's `get_user_id`).
#[utoipa::path(
    get,
    path = USERS,
    operation_id = "domino_users",
    params(UsersQuery),
    security(("DominoApiKey" = []), ("BearerAuth" = [])),
    responses(
        (status = 200, description = "The users", body = Vec<DominoUser>,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, response = BadRequest),
        (status = 401, description = "`invalid_credentials`: no credential, or a bad one",
            body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=...`"))),
        (status = 429, response = TooManyRequests),
        (status = 503, response = Unavailable),
    ),
)]
async fn users(
    State(state): State<Issuer>,
    ip: ClientIp,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<DominoUser>>, DominoError> {
    let params =
        Params::parse(query.unwrap_or_default().as_bytes()).map_err(AppError::BadRequest)?;
    required_caller(&state, &headers, ip).await?;
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
        (status = 200, description = "The caller, or an anonymous principal", body = Principal,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, description = "`invalid_credentials`: a bad credential (none at all is anonymous)",
            body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=...`"))),
        (status = 429, response = TooManyRequests),
        (status = 503, response = Unavailable),
    ),
)]
async fn principal(
    State(state): State<Issuer>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Json<Principal>, DominoError> {
    let principal = match caller(&state, &headers, ip).await? {
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
    Ok(Json(principal))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
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
        let key = |h: &HeaderMap| match credential(h) {
            Ok(Some(Credential::ApiKey(k))) => Some(k.to_owned()),
            _ => None,
        };
        let bearer = |h: &HeaderMap| match credential(h) {
            Ok(Some(Credential::Bearer(t))) => Some(t.to_owned()),
            _ => None,
        };
        assert!(matches!(credential(&headers(&[])), Ok(None)));
        assert_eq!(
            key(&headers(&[("X-Domino-Api-Key", b"dik_x ")])).as_deref(),
            Some("dik_x")
        );
        // Unreadable bytes are a (bad) key, not an absent one.
        assert_eq!(
            key(&headers(&[("x-domino-api-key", b"\xff")])).as_deref(),
            Some("")
        );
        assert!(
            credential(&headers(&[
                ("x-domino-api-key", b"a"),
                ("x-domino-api-key", b"b")
            ]))
            .is_err()
        );
        assert_eq!(
            bearer(&headers(&[("authorization", b"Bearer t.o.k")])).as_deref(),
            Some("t.o.k")
        );
        assert_eq!(
            bearer(&headers(&[("authorization", b"bearer  t ")])).as_deref(),
            Some("t")
        );
        // The key wins.
        assert_eq!(
            key(&headers(&[
                ("authorization", b"Bearer t"),
                ("x-domino-api-key", b"k")
            ]))
            .as_deref(),
            Some("k")
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
