//! domino-idp: a token issuer and minimal OpenID Connect provider that speaks
//! the Domino REST API ("Keep") login and Keycloak's realm endpoints.

// Request paths must never panic: errors go through `http::error::AppError`.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod domino;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod realm;
pub mod server;
pub mod startup;
pub mod store;
pub mod verify;

pub use http::build_router;
