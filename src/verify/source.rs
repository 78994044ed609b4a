//! One verification request end to end: load or fetch the source's keys, set
//! the expectations the source implies, and give a verdict (a provider
//! directory is `directory`'s).

use std::path::PathBuf;

use url::Url;

use super::check::{self, Expectations};
use super::directory::try_providers;
use super::fetch::{FetchError, Fetcher};
use super::keyset::KeySet;
use super::providers::ProviderDir;
use super::verdict::Verdict;
use crate::keys::KeyHome;

/// Exactly one place to take keys from.
#[derive(Debug, Clone)]
pub enum Source {
    /// This issuer's published keys (`keys_dir` or the database); tokens
    /// must carry its issuer.
    Local {
        keys: KeyHome,
        issuer: String,
    },
    Jwks(Url),
    /// OIDC discovery; tokens must carry the discovered `issuer`.
    IssuerUrl(Url),
    /// A Keycloak realm; tokens must carry the realm URL as `iss`.
    RealmUrl(Url),
    /// A PEM public key or certificate.
    KeyFile(PathBuf),
    /// A Keep `keepconfig.d`-style directory of provider files.
    Providers(PathBuf),
}

/// Expectations that the command line sets for every source.
#[derive(Debug, Clone)]
pub struct Options {
    /// Overrides the issuer a source implies.
    pub issuer: Option<String>,
    /// Overrides the audience; empty = a provider's `aud`, else `default_audience`.
    pub audiences: Vec<String>,
    pub default_audience: String,
    pub leeway: u64,
}

impl Options {
    pub(super) fn expectations(
        &self,
        implied_issuer: Option<String>,
        implied_aud: &[String],
    ) -> Expectations {
        let audiences = if !self.audiences.is_empty() {
            self.audiences.clone()
        } else if !implied_aud.is_empty() {
            implied_aud.to_vec()
        } else {
            vec![self.default_audience.clone()]
        };
        Expectations::new(
            self.issuer.clone().or(implied_issuer),
            audiences,
            self.leeway,
        )
    }
}

/// The source could not be used at all (exit 2): an unreadable file, a
/// directory without providers, an unreachable URL.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

impl From<FetchError> for SetupError {
    fn from(e: FetchError) -> Self {
        SetupError(format!("cannot fetch {e}"))
    }
}

/// The verdict on `token` by `keys`, expecting `issuer` unless the command
/// line names another.
fn verdict(token: &str, keys: &KeySet, issuer: Option<String>, opts: &Options) -> Verdict {
    let expect = opts.expectations(issuer, &[]);
    Verdict::single(check::verify(token, keys, &expect), keys)
}

/// Verifies `token` against `source`. `Err` only when the source itself is
/// unusable; an invalid token is an `Ok` verdict holding the rejection.
pub async fn verify_against(
    token: &str,
    source: &Source,
    opts: &Options,
) -> Result<Verdict, SetupError> {
    // Accept a pasted `Authorization` header value as well as the bare token.
    let token = token.trim();
    let token = match token.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => token,
    };
    match source {
        Source::Local { keys, issuer } => {
            let ring = keys.load().await.map_err(|e| SetupError(e.to_string()))?;
            let keys = KeySet::from_ring(format!("local keys in {}", keys.describe()), &ring)
                .map_err(SetupError)?;
            Ok(verdict(token, &keys, Some(issuer.clone()), opts))
        }
        Source::Jwks(url) => {
            let keys = Fetcher::new()?.jwks(url).await?;
            Ok(verdict(token, &keys, None, opts))
        }
        Source::IssuerUrl(url) => {
            let remote = Fetcher::new()?.discovery(url).await?;
            Ok(verdict(token, &remote.keys, remote.issuer, opts))
        }
        Source::RealmUrl(url) => {
            let remote = Fetcher::new()?.realm(url).await?;
            Ok(verdict(token, &remote.keys, remote.issuer, opts))
        }
        Source::KeyFile(path) => {
            let text = tokio::fs::read(path).await.map_err(|e| {
                SetupError(format!("cannot read the key file {}: {e}", path.display()))
            })?;
            let keys = KeySet::from_pem(format!("key file {}", path.display()), &text)
                .map_err(|e| SetupError(format!("{}: {e}", path.display())))?;
            Ok(verdict(token, &keys, None, opts))
        }
        Source::Providers(dir) => {
            let providers = ProviderDir::load(dir).map_err(SetupError)?;
            Ok(try_providers(token, &providers, opts).await)
        }
    }
}
