//! The web console: the developer start page (`/`, `<issuer>/`) and the
//! admin console (`/admin`). Server-rendered askama pages that work without
//! JavaScript; the one script and the stylesheet are static files of the
//! binary. Every page carries a strict CSP (no inline script or style,
//! `frame-ancestors 'none'`) and `no-store`; every form a CSRF token; every
//! admin change goes through the `app` operation the CLI uses.
//!
//! - `page`: rendering, headers, cookies, CSRF and the form extractor.
//! - `start`: the start page. `auth`: admin sign-in, the guard, sign-out.
//! - `users`, `clients`, `mappers`, `roles`, `keys`, `sessions`: the admin pages.

mod assets;
mod auth;
mod chrome;
mod client;
mod clients;
mod keys;
mod limit;
mod mappers;
mod page;
mod roles;
mod sessions;
mod start;
mod user;
mod users;

use axum::Router;
use axum::routing::{get, post};

use crate::app::Issuer;

/// The console's routes, as the settings turn them on.
pub fn router(state: &Issuer) -> Router<Issuer> {
    let mut router = Router::new();
    if state.config.start_page || state.config.admin_console {
        router = router.merge(assets::router());
    }
    if state.config.start_page {
        router = router
            .route("/", get(start::show))
            .route("/auth/realms/{realm}/", get(start::show_in_realm))
            .route("/start/token", post(start::token))
            .route("/start/check", post(start::check));
    }
    if state.config.admin_console {
        router = router
            .route("/admin", get(auth::home))
            .route("/admin/", get(auth::home))
            .route("/admin/callback", get(auth::callback))
            .route("/admin/signout", post(auth::sign_out))
            .merge(users::router())
            .merge(clients::router())
            .merge(mappers::router())
            .merge(keys::router())
            .merge(roles::router())
            .merge(sessions::router())
            .layer(axum::Extension(limit::Limiter::default()));
    }
    router
}
