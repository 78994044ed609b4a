//! Liveness and readiness, in Keycloak's/MicroProfile's shape.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
}

async fn live() -> Json<Value> {
    Json(json!({ "status": "UP", "checks": [] }))
}

/// Ready when the store answers and a signing key is loaded.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
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
