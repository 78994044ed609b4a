//! Checking a JWT the way a third-party consumer (Keep, an API gateway) does:
//! against exactly one key source — this issuer's key ring, a JWKS, OIDC
//! discovery, a Keycloak realm, a PEM key or certificate, or a Keep-style
//! provider directory. `keyset` turns each form into keys (`rsa` reads one),
//! `check` is the pure verdict, `fetch` the HTTP layer, `providers` Keep's
//! JSON, `source` ties them together for `domino-idp token verify`
//! (`directory` tries a provider directory's providers in turn), `verdict` is
//! the outcome and its reports.

mod check;
mod directory;
mod fetch;
mod keyset;
mod providers;
mod rsa;
mod source;
mod verdict;

use serde::Serialize;

pub use check::{Expectations, Verified, verify};
pub use fetch::{FetchError, Fetcher, Remote};
pub use keyset::KeySet;
pub use providers::{Provider, ProviderDir, ProviderKey};
pub use rsa::{RSA_ALGORITHMS, VerifyingKey};
pub use source::{Options, SetupError, Source, verify_against};
pub use verdict::{Attempt, Verdict};

/// What kind of problem rejected a token; stable names for scripts (`--json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Code {
    Malformed,
    AlgNone,
    HmacRefused,
    AlgorithmNotAccepted,
    UnknownKid,
    KidMismatch,
    InvalidSignature,
    ExpiredSignature,
    ImmatureSignature,
    InvalidIssuer,
    InvalidAudience,
    MissingClaim,
    InvalidClaim,
    /// A provider's keys could not be loaded or fetched.
    SourceUnavailable,
    /// A provider entry is inactive or unusable as configured.
    ProviderSkipped,
    NoProviderMatched,
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// Why a token was not accepted. The message names the problem; the code
/// classifies it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({code})")]
pub struct Rejection {
    pub code: Code,
    pub message: String,
}

impl Rejection {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod testkit;
