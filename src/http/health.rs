//! Liveness and readiness, in Keycloak's/MicroProfile's shape.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::app::Issuer;
use crate::http::schemas::Health;

pub(super) const LIVE: &str = "/health/live";
pub(super) const READY: &str = "/health/ready";

pub fn router() -> Router<Issuer> {
    Router::new()
        .route(LIVE, get(live))
        .route(READY, get(ready))
}

// This group's part of the OpenAPI document.
crate::http::group_api!(live, ready);

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = LIVE,
    operation_id = "health_live",
    responses((status = 200, description = "Up", body = Health)),
)]
async fn live() -> Json<Value> {
    Json(json!({ "status": "UP", "checks": [] }))
}

/// Ready when the store answers and a signing key is loaded.
#[utoipa::path(
    get,
    path = READY,
    operation_id = "health_ready",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Not ready: the store or the keys are down", body = Health),
    ),
)]
async fn ready(State(state): State<Issuer>) -> (StatusCode, Json<Value>) {
    let store_up = match state.store.ping().await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "readiness: store unreachable");
            false
        }
    };
    let published = state.keys.current();
    let keys_up = !published.ring.keys().is_empty();
    let up = |ok: bool| if ok { "UP" } else { "DOWN" };
    let status = if store_up && keys_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": up(store_up && keys_up),
            "checks": [
                { "name": "store", "status": up(store_up) },
                { "name": "keys", "status": up(keys_up), "data": { "active_kid": published.ring.signer().kid() } },
            ],
        })),
    )
}
