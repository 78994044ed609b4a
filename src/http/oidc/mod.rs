//! The OpenID Connect endpoints under `R = /auth/realms/<realm>`.

mod authorize;
mod client_auth;
mod cors;
mod form;
mod known_realm;
mod logout;
mod pages;
mod token;
mod tokens;

use axum::Router;
use axum::routing::{get, post};

use crate::app::Issuer;

/// A path under `R/protocol/openid-connect`; the router and the OpenAPI
/// document use the same constants.
macro_rules! oidc_path {
    ($tail:literal) => {
        concat!("/auth/realms/{realm}/protocol/openid-connect", $tail)
    };
}

mod session_iframe;

pub(super) use session_iframe::STATUS_IFRAME_INIT;

pub(super) const TOKEN: &str = oidc_path!("/token");
pub(super) const AUTHORIZE: &str = oidc_path!("/auth");
pub(super) const USERINFO: &str = oidc_path!("/userinfo");
pub(super) const INTROSPECT: &str = oidc_path!("/token/introspect");
pub(super) const REVOKE: &str = oidc_path!("/revoke");
pub(super) const LOGOUT: &str = oidc_path!("/logout");
pub(super) const AUTHENTICATE: &str = "/auth/realms/{realm}/login-actions/authenticate";

// This group's part of the OpenAPI document. The POST forms of the GET
// endpoints and the other preflights are derived in `http::openapi`.
crate::http::group_api!(
    token::token,
    authorize::authorize,
    authorize::authenticate,
    tokens::userinfo,
    tokens::introspect,
    tokens::revoke,
    logout::logout,
    session_iframe::init,
    session_iframe::step1,
    session_iframe::step1_js,
    session_iframe::step2,
    session_iframe::step2_js,
    session_iframe::status_iframe,
    session_iframe::status_iframe_js,
    preflight,
);

// The OPTIONS route, for the CORS middleware (`cors`, which wraps each
// method's handler).
crate::http::realm::cors_preflight!(
    preflight,
    TOKEN,
    "token_preflight",
    "Answered by the CORS middleware: `Access-Control-Allow-Origin` (and `Access-Control-Allow-Credentials: true`) only for a client's web origin"
);

pub fn router(state: Issuer) -> Router<Issuer> {
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
        // Inside the CORS middleware: the preflights it answers stay as they were.
        .layer(super::no_store())
        .layer(cors::Cors::layer(state.clone()))
        .merge(pages)
        .merge(session_iframe::router())
        .route_layer(known_realm::KnownRealm::layer(&state.realm.name))
}
