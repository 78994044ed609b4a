//! The OpenID Connect endpoints under `R = /auth/realms/<realm>`.

mod authorize;
mod client_auth;
mod form;
mod logout;
mod pages;
mod token;
mod tokens;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::AppError;
use crate::state::AppState;

const OIDC: &str = "/auth/realms/{realm}/protocol/openid-connect";

/// Only the configured realm exists; any other name is a JSON 404.
async fn known_realm(
    State(state): State<AppState>,
    params: Result<Path<Vec<(String, String)>>, PathRejection>,
    request: Request,
    next: Next,
) -> Response {
    let params = params.map(|Path(p)| p).unwrap_or_default();
    let realm = params.iter().find(|(k, _)| k == "realm").map(|(_, v)| v);
    if realm != Some(&state.realm.name) {
        return AppError::NotFound("Realm does not exist".into()).into_response();
    }
    next.run(request).await
}

/// Whether `origin` is the origin of a redirect URI some client registered
/// (Keycloak's `+` web origin): browser apps may then call the API endpoints.
async fn registered_origin(state: AppState, origin: HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let Ok(clients) = state.store.list_clients().await else {
        return false;
    };
    clients
        .iter()
        .flat_map(|c| &c.redirect_uris)
        .any(|uri| url::Url::parse(uri).is_ok_and(|u| u.origin().ascii_serialization() == origin))
}

/// CORS preflights are answered by the CORS layer; a preflight from an origin
/// it does not allow ends here, without CORS headers.
async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

pub fn router(state: AppState) -> Router<AppState> {
    let cors_state = state.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::async_predicate(
            move |origin: HeaderValue, _: &Parts| registered_origin(cors_state.clone(), origin),
        ))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(3600));
    let pages = Router::new()
        .route(
            &format!("{OIDC}/auth"),
            get(authorize::authorize).post(authorize::authorize),
        )
        .route(
            "/auth/realms/{realm}/login-actions/authenticate",
            post(authorize::authenticate),
        );
    Router::new()
        .route(
            &format!("{OIDC}/token"),
            post(token::token).options(preflight),
        )
        .route(
            &format!("{OIDC}/userinfo"),
            get(tokens::userinfo)
                .post(tokens::userinfo)
                .options(preflight),
        )
        .route(
            &format!("{OIDC}/token/introspect"),
            post(tokens::introspect).options(preflight),
        )
        .route(
            &format!("{OIDC}/revoke"),
            post(tokens::revoke).options(preflight),
        )
        .route(
            &format!("{OIDC}/logout"),
            get(logout::logout).post(logout::logout).options(preflight),
        )
        .layer(cors)
        .merge(pages)
        .route_layer(middleware::from_fn_with_state(state, known_realm))
}
