//! The console's stylesheet and script, compiled into the binary: no CDN,
//! nothing inline (the CSP allows `'self'` only).

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::app::Issuer;

const CSS: &str = include_str!("../../../static/console.css");
const JS: &str = include_str!("../../../static/console.js");

pub fn router() -> Router<Issuer> {
    Router::new()
        .route(
            "/static/console.css",
            get(|| async { asset(CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/static/console.js",
            get(|| async { asset(JS, "text/javascript; charset=utf-8") }),
        )
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}
