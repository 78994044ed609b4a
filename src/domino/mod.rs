//! The Domino-run side (SPEC §9, seeds 000 and 001): how code in a Domino
//! workspace, job or app gets its Domino Token. `TokenSource` exchanges an
//! API key for a token at the realm's token endpoint (or reads a token
//! file), and `TokenCache` keeps one for the proxy; `agent` keeps
//! `DOMINO_TOKEN_FILE` fresh; `proxy` is the local API proxy that adds the
//! token to every request it forwards. These are
//! clients of an issuer: nothing here touches the store or the keys.

pub mod agent;
pub mod cache;
pub mod proxy;
pub mod source;

pub use cache::TokenCache;
pub use source::{Token, TokenSource};

/// The RFC 8693 grant the token endpoint answers with a Domino Token.
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The `subject_token_type` of an API key.
pub const API_KEY_TOKEN_TYPE: &str = "urn:domino:params:oauth:token-type:api-key";
/// The client the Domino Token is issued to.
pub const DOMINO_PLAY: &str = "domino-play";
