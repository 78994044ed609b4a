//! `GET /metrics` and the middleware that counts every request.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::app::Issuer;

pub(super) const METRICS: &str = "/metrics";

pub fn router() -> Router<Issuer> {
    Router::new().route(METRICS, get(render))
}

// This group's part of the OpenAPI document.
crate::http::group_api!(render);

/// Prometheus metrics: requests per route, login outcomes, tokens issued,
/// lockouts, key age.
#[utoipa::path(
    get,
    path = METRICS,
    tag = "operations",
    operation_id = "metrics",
    summary = "Prometheus metrics",
    responses(
        (status = 200, description = "OpenMetrics text", body = String,
            content_type = "application/openmetrics-text"),
    ),
)]
async fn render(State(state): State<Issuer>) -> Response {
    let now = u64::try_from(state.clock.now()).unwrap_or(0);
    let created = state.keys.signer().dates.created;
    let age = i64::try_from(now.saturating_sub(created)).unwrap_or(i64::MAX);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(age),
    )
        .into_response()
}

/// Counts the request under its route template (never the raw path, so
/// scanners cannot create series) with its status and latency.
pub async fn track(State(state): State<Issuer>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    let method = match method.as_str() {
        m @ ("GET" | "POST" | "OPTIONS" | "HEAD" | "PUT" | "DELETE" | "PATCH") => m,
        _ => "other",
    };
    state.metrics.request(
        &route,
        method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
