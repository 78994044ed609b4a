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
pub mod gates;
pub mod housekeeping;
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

use crate::domain::user::InvalidInput;
use crate::store::StoreError;

/// Why a client or a claim mapper was not registered (`clients::ClientError`
/// and `mappers::MapperError` are this type): its spec is invalid, or the
/// store refused it (`Conflict`: the id or name is taken) or failed.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a change to things named by the operator was not made (an edit, a
/// role or its grant, an API key; `admin::EditError`, `roles::RoleError`
/// and `apikeys::ApiKeyError` are this type): input that does not parse, a
/// name that names nothing (the message says what), or the store.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}
