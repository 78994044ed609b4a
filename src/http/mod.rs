//! The HTTP layer: one module per endpoint group, each with its own `router()`.

mod body;
mod browser;
pub mod client_ip;
mod console;
mod domino;
pub mod error;
mod health;
mod keep;
mod layered;
mod metrics;
mod oidc;
pub mod openapi;
mod realm;
/// The OpenAPI schemas the handlers name: a leaf, so that `openapi` (which
/// imports every handler group) is imported by none of them.
pub mod schemas;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::Issuer;
use crate::http::error::AppError;

pub use body::FormOrJson;

/// `fn api()`: an endpoint group's part of the OpenAPI document, the
/// handlers whose `#[utoipa::path]` it lists (merged in `http::openapi`).
macro_rules! group_api {
    ($($paths:tt)*) => {
        pub(super) fn api() -> utoipa::openapi::OpenApi {
            #[derive(utoipa::OpenApi)]
            #[openapi(paths($($paths)*))]
            struct Doc;
            <Doc as utoipa::OpenApi>::openapi()
        }
    };
}
use group_api;

/// The whole application. Binds nothing and migrates nothing, so tests can
/// drive it on a port-0 listener.
pub fn build_router(state: Issuer) -> Router {
    let prefix = state.config.realms_prefix().to_owned();
    let routes = routes(state);
    if prefix == "/auth" {
        return routes;
    }
    // The routes name realms at /auth/realms/...; under another
    // http_relative_path the realms move, and /auth/realms/... is not served.
    let served: Arc<str> = format!("{prefix}/realms/").into();
    Router::new()
        .fallback_service(routes)
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let relocated = relocate(req, &served);
            async move {
                match relocated {
                    Ok(req) => next.run(req).await,
                    Err((method, path)) => not_found(method, path).await.into_response(),
                }
            }
        }))
}

/// A request for `<prefix>/realms/...` (`served`) as the routes name it
/// (`/auth/realms/...`); a request for `/auth/realms/...` itself is not
/// served under this layout (`Err` with its method and path).
fn relocate(mut req: Request, served: &str) -> Result<Request, (Method, Uri)> {
    let path = req.uri().path();
    if let Some(rest) = path.strip_prefix(served) {
        let uri = match req.uri().query() {
            Some(query) => format!("/auth/realms/{rest}?{query}"),
            None => format!("/auth/realms/{rest}"),
        };
        if let Ok(uri) = uri.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    } else if path.starts_with("/auth/realms/") || path == "/auth/realms" {
        return Err((req.method().clone(), req.uri().clone()));
    }
    Ok(req)
}

fn routes(state: Issuer) -> Router {
    let body_limit = state.config.max_body_bytes;
    let routes = Router::new()
        .merge(keep::router())
        .merge(domino::router())
        .merge(realm::router())
        .merge(oidc::router(state.clone()))
        .merge(console::router(&state))
        .merge(health::router())
        .merge(metrics::router())
        .merge(openapi::router(
            &state.realm.name,
            state.config.realms_prefix(),
        ))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Counts each request, turns a handler's panic into a 500 and sets
        // the body limit: one layer, so one boxed `Route` per route.
        .layer(metrics::Track::new(state.metrics.clone(), body_limit));
    // `TraceLayer`'s spans and events are at DEBUG: with the default filter
    // nobody records them, so the layer (its clock reads, its wrapped body)
    // is only there when `RUST_LOG` asks for them. Errors are logged either
    // way, once, by `http::error::log_cause` (in `server`).
    let routes = if tracing::enabled!(target: "tower_http::trace", tracing::Level::DEBUG) {
        routes.layer(TraceLayer::new_for_http())
    } else {
        routes
    };
    routes.with_state(state)
}

type SetHeader = SetResponseHeaderLayer<HeaderValue>;

/// `Cache-Control: no-store` and `Pragma: no-cache` on every response of the
/// routes it wraps: tokens, user data and login pages are never cached
/// (RFC 6749 §5.1, OIDC Core §5.3.2).
fn no_store() -> (SetHeader, SetHeader) {
    (
        SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ),
        SetResponseHeaderLayer::overriding(header::PRAGMA, HeaderValue::from_static("no-cache")),
    )
}

async fn not_found(method: Method, uri: Uri) -> AppError {
    AppError::NotFound(format!("no endpoint at {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    AppError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path())).into_response()
}
