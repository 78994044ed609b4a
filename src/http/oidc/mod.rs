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
use utoipa::OpenApi;

use crate::app::Issuer;
use crate::http::error::AppError;
use crate::http::schemas::RealmNotFound;

/// A path under `R/protocol/openid-connect`; the router and the OpenAPI
/// document use the same constants.
macro_rules! oidc_path {
    ($tail:literal) => {
        concat!("/auth/realms/{realm}/protocol/openid-connect", $tail)
    };
}

pub(super) const TOKEN: &str = oidc_path!("/token");
pub(super) const AUTHORIZE: &str = oidc_path!("/auth");
pub(super) const USERINFO: &str = oidc_path!("/userinfo");
pub(super) const INTROSPECT: &str = oidc_path!("/token/introspect");
pub(super) const REVOKE: &str = oidc_path!("/revoke");
pub(super) const LOGOUT: &str = oidc_path!("/logout");
pub(super) const AUTHENTICATE: &str = "/auth/realms/{realm}/login-actions/authenticate";

/// This group's part of the OpenAPI document. The POST forms of the GET
/// endpoints and the other preflights are derived in `http::openapi`.
pub(super) fn api() -> utoipa::openapi::OpenApi {
    #[derive(OpenApi)]
    #[openapi(paths(
        token::token,
        authorize::authorize,
        authorize::authenticate,
        tokens::userinfo,
        tokens::introspect,
        tokens::revoke,
        logout::logout,
        preflight,
    ))]
    struct Doc;
    Doc::openapi()
}

/// Only the configured realm exists; any other name is a JSON 404.
async fn known_realm(
    State(state): State<Issuer>,
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
/// Only http(s) redirect URIs name a web origin: a native app's
/// `com.example.app:/cb` has an opaque origin, serialised `null`, which is
/// also what sandboxed frames and `file:` pages send.
async fn registered_origin(state: Issuer, origin: HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if origin == "null" {
        return false;
    }
    let Ok(clients) = state.store.list_clients().await else {
        return false;
    };
    clients
        .iter()
        .flat_map(|c| &c.redirect_uris)
        .filter_map(|uri| url::Url::parse(uri).ok())
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .any(|url| url.origin().ascii_serialization() == origin)
}

/// The OPTIONS route, so that the CORS layer (which wraps each method's
/// handler) sees preflights: it answers every OPTIONS request itself, so this
/// handler is not reached.
#[utoipa::path(
    options,
    path = TOKEN,
    tag = "oidc",
    operation_id = "token_preflight",
    summary = "CORS preflight",
    responses(
        (status = 200, description = "Answered by the CORS layer: `Access-Control-Allow-Origin` only for the origin of a registered redirect URI"),
        (status = 404, response = RealmNotFound),
    ),
)]
async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

pub fn router(state: Issuer) -> Router<Issuer> {
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
            AUTHORIZE,
            get(authorize::authorize).post(authorize::authorize),
        )
        .route(AUTHENTICATE, post(authorize::authenticate))
        .layer(super::no_store());
    Router::new()
        .route(TOKEN, post(token::token).options(preflight))
        .route(
            USERINFO,
            get(tokens::userinfo)
                .post(tokens::userinfo)
                .options(preflight),
        )
        .route(INTROSPECT, post(tokens::introspect).options(preflight))
        .route(REVOKE, post(tokens::revoke).options(preflight))
        .route(
            LOGOUT,
            get(logout::logout).post(logout::logout).options(preflight),
        )
        // Inside the CORS layer: the preflights it answers stay as they were.
        .layer(super::no_store())
        .layer(cors)
        .merge(pages)
        .route_layer(middleware::from_fn_with_state(state, known_realm))
}
