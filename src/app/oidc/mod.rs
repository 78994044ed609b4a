//! The OpenID Connect provider's rules, apart from HTTP: scopes, sessions,
//! the four grants, and minting. The handlers in `http::oidc` are thin.

pub mod access;
pub mod claims;
pub mod codes;
pub mod error;
pub mod grants;
pub mod logout;
pub mod mint;
pub mod params;
pub mod prefetch;
pub mod refresh_token;
pub mod scope;
pub mod sessions;
pub mod tokens;

pub use crate::domain::client::GrantType;
pub use error::OAuthError;
pub use params::Params;
