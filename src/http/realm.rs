//! Keycloak-shaped realm endpoints: realm info, JWKS and discovery.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::{AppError, Result};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/realms/{realm}", get(realm_info))
        .route(
            "/auth/realms/{realm}/protocol/openid-connect/certs",
            get(certs),
        )
        .route(
            "/auth/realms/{realm}/.well-known/openid-configuration",
            get(realm_discovery),
        )
        .route("/.well-known/openid-configuration", get(discovery))
        // Public documents: any page may read them (as Keycloak allows).
        .layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::any())
                .allow_methods([Method::GET]),
        )
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

async fn realm_info(State(state): State<AppState>, realm: RealmPath) -> Result<Response> {
    check_realm(&state, realm)?;
    let published = state.keys.current();
    Ok(json_body(
        &published.documents.info,
        state.config.jwks_max_age,
    ))
}

async fn certs(State(state): State<AppState>, realm: RealmPath) -> Result<Response> {
    check_realm(&state, realm)?;
    let published = state.keys.current();
    Ok(json_body(
        &published.documents.jwks,
        state.config.jwks_max_age,
    ))
}

async fn realm_discovery(State(state): State<AppState>, realm: RealmPath) -> Result<Response> {
    check_realm(&state, realm)?;
    Ok(json_body(&state.realm.discovery, state.config.jwks_max_age))
}

async fn discovery(State(state): State<AppState>) -> Response {
    json_body(&state.realm.discovery, state.config.jwks_max_age)
}
