//! The operations: one place for every use case the HTTP endpoints, the
//! command line and the web console share (logging in, the OAuth grants,
//! introspection, revocation, sessions, administering users, clients,
//! mappers and API keys, the Domino API's identity endpoints). They take an
//! `Issuer` (or just the store trait they need) and return plain values and
//! errors; how those are sent is the caller's business. Nothing here knows
//! about axum.

pub mod admin;
pub mod apikeys;
pub mod clients;
pub mod config_cache;
pub mod console;
pub mod domino_api;
pub mod issuer;
pub mod keep;
pub mod keycloak;
pub mod login;
pub mod mappers;
pub mod oidc;
pub mod roles;
pub mod start;
pub mod users;

pub use issuer::Issuer;
