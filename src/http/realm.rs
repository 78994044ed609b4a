//! Keycloak-shaped realm endpoints: realm info, JWKS and discovery.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::OpenApi;

use crate::error::{AppError, Result};
use crate::http::openapi::{Discovery, Jwks, RealmInfo, RealmNotFound};
use crate::state::AppState;

pub(super) const REALM: &str = "/auth/realms/{realm}";
pub(super) const CERTS: &str = "/auth/realms/{realm}/protocol/openid-connect/certs";
pub(super) const REALM_DISCOVERY: &str = "/auth/realms/{realm}/.well-known/openid-configuration";
pub(super) const DISCOVERY: &str = "/.well-known/openid-configuration";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(REALM, get(realm_info))
        .route(CERTS, get(certs))
        .route(REALM_DISCOVERY, get(realm_discovery))
        .route(DISCOVERY, get(discovery))
        // Public documents: any page may read them (as Keycloak allows).
        .layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::any())
                .allow_methods([Method::GET]),
        )
}

/// This group's part of the OpenAPI document.
pub(super) fn api() -> utoipa::openapi::OpenApi {
    #[derive(OpenApi)]
    #[openapi(paths(realm_info, certs, realm_discovery, discovery))]
    struct Doc;
    Doc::openapi()
}

/// Resolves the `{realm}` path segment; only the configured realm exists.
fn check_realm(state: &AppState, realm: RealmPath) -> Result<()> {
    match realm {
        Ok(Path(name)) if name == state.realm.name => Ok(()),
        _ => Err(AppError::NotFound("Realm does not exist".into())),
    }
}

fn json_body(body: &Bytes, max_age: u64) -> Response {
    let cache = HeaderValue::from_str(&format!("public, max-age={max_age}"))
        .unwrap_or(HeaderValue::from_static("no-cache"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, cache),
        ],
        body.clone(),
    )
        .into_response()
}

type RealmPath = std::result::Result<Path<String>, PathRejection>;

/// Keycloak's realm document: the realm's public key and service URLs.
#[utoipa::path(
    get,
    path = REALM,
    tag = "realm",
    operation_id = "realm_info",
    responses(
        (status = 200, description = "The realm document", body = RealmInfo,
            headers(("Cache-Control" = String, description = "`public, max-age=<jwks_max_age>`"))),
        (status = 404, response = RealmNotFound),
    ),
)]
async fn realm_info(State(state): State<AppState>, realm: RealmPath) -> Result<Response> {
    check_realm(&state, realm)?;
    let published = state.keys.current();
    Ok(json_body(
        &published.documents.info,
        state.config.jwks_max_age,
    ))
}

/// The JWKS: every published signing key, the signer first.
#[utoipa::path(
    get,
    path = CERTS,
    tag = "realm",
    operation_id = "certs",
    responses(
        (status = 200, description = "The JSON Web Key Set", body = Jwks,
            headers(("Cache-Control" = String, description = "`public, max-age=<jwks_max_age>`"))),
        (status = 404, response = RealmNotFound),
    ),
)]
async fn certs(State(state): State<AppState>, realm: RealmPath) -> Result<Response> {
    check_realm(&state, realm)?;
    let published = state.keys.current();
    Ok(json_body(
        &published.documents.jwks,
        state.config.jwks_max_age,
    ))
}

/// OpenID Connect discovery, under the realm.
#[utoipa::path(
    get,
    path = REALM_DISCOVERY,
    tag = "realm",
    operation_id = "realm_discovery",
    responses(
        (status = 200, description = "The discovery document", body = Discovery,
            headers(("Cache-Control" = String, description = "`public, max-age=<jwks_max_age>`"))),
        (status = 404, response = RealmNotFound),
    ),
)]
async fn realm_discovery(State(state): State<AppState>, realm: RealmPath) -> Result<Response> {
    check_realm(&state, realm)?;
    Ok(json_body(&state.realm.discovery, state.config.jwks_max_age))
}

/// OpenID Connect discovery at the server root (the same document).
#[utoipa::path(
    get,
    path = DISCOVERY,
    tag = "realm",
    operation_id = "discovery",
    responses(
        (status = 200, description = "The discovery document", body = Discovery,
            headers(("Cache-Control" = String, description = "`public, max-age=<jwks_max_age>`"))),
    ),
)]
async fn discovery(State(state): State<AppState>) -> Response {
    json_body(&state.realm.discovery, state.config.jwks_max_age)
}
