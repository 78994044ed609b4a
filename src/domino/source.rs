//! Where a Domino Token comes from: an API key exchanged at the token
//! endpoint (RFC 8693), or a token file another process keeps fresh
//! (`super::cache` keeps one for the proxy).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Deserialize;
use url::Url;

use super::{API_KEY_TOKEN_TYPE, DOMINO_PLAY, TOKEN_EXCHANGE};
use crate::domain::secret::Secret;

/// A token and how long it lives.
#[derive(Debug, Clone)]
pub struct Token {
    pub value: String,
    /// Its lifetime when it was fetched.
    pub lifetime: Duration,
    pub fetched_at: Instant,
}

impl Token {
    /// Time left before `exp`.
    pub fn remaining(&self) -> Duration {
        self.lifetime.saturating_sub(self.fetched_at.elapsed())
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SourceError {
    /// The issuer could not be reached (or answered 5xx): try again later.
    #[error("the token endpoint {0} cannot be reached: {1}")]
    Unreachable(String, String),
    /// The issuer refused: a bad, revoked or expired key, a disabled user.
    #[error("the token endpoint refused the API key: {0}")]
    Refused(String),
    #[error("cannot read the token file {0}: {1}")]
    File(PathBuf, String),
    /// The upstream refused a token exchanged moments ago: another would
    /// fare no better (`cache::TokenCache::refresh`).
    #[error("the upstream refused a token exchanged {0:?} ago; another would fare no better yet")]
    TooSoon(Duration),
}

impl SourceError {
    /// Worth trying again later (the network or the issuer may come back).
    pub fn is_transient(&self) -> bool {
        matches!(self, SourceError::Unreachable(..) | SourceError::File(..))
    }
}

/// How to get a token.
pub enum TokenSource {
    /// Exchange `api_key` at `token_url` for a Domino Token.
    Exchange {
        http: reqwest::Client,
        token_url: Url,
        api_key: Secret,
    },
    /// Read the first line of a token file (`DOMINO_TOKEN_FILE`).
    File(PathBuf),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// The token endpoint of the realm served at `api_host` under `prefix`
/// (`http_relative_path`: `/auth`, or empty).
pub fn token_url(api_host: &Url, prefix: &str, realm: &str) -> Result<Url, String> {
    let base = api_host.as_str().trim_end_matches('/');
    Url::parse(&format!(
        "{base}{prefix}/realms/{realm}/protocol/openid-connect/token"
    ))
    .map_err(|e| format!("cannot build the token URL from {api_host}: {e}"))
}

/// The `exp - iat` of a JWT, read without verifying it (the issuer is the
/// one who checks it; a token file's token has no `expires_in`).
fn lifetime_of(jwt: &str) -> Option<Duration> {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_i64()?;
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    u64::try_from(exp.saturating_sub(now))
        .ok()
        .map(Duration::from_secs)
}

impl TokenSource {
    pub async fn fetch(&self) -> Result<Token, SourceError> {
        match self {
            TokenSource::Exchange {
                http,
                token_url,
                api_key,
            } => {
                let unreachable = |e: String| SourceError::Unreachable(token_url.to_string(), e);
                let form = [
                    ("grant_type", TOKEN_EXCHANGE),
                    ("subject_token", api_key.expose()),
                    ("subject_token_type", API_KEY_TOKEN_TYPE),
                    ("client_id", DOMINO_PLAY),
                ];
                let body = serde_urlencoded::to_string(form)
                    .map_err(|e| SourceError::Refused(e.to_string()))?;
                let resp = http
                    .post(token_url.clone())
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| unreachable(e.to_string()))?;
                let status = resp.status();
                let bytes = resp.bytes().await.map_err(|e| unreachable(e.to_string()))?;
                if status.is_server_error() {
                    return Err(unreachable(format!("HTTP {status}")));
                }
                if !status.is_success() {
                    let why = serde_json::from_slice::<ErrorResponse>(&bytes).map_or_else(
                        |_| format!("HTTP {status}"),
                        |e| match e.error_description {
                            Some(d) => format!("{}: {d}", e.error),
                            None => e.error,
                        },
                    );
                    return Err(SourceError::Refused(why));
                }
                let token: TokenResponse = serde_json::from_slice(&bytes).map_err(|e| {
                    SourceError::Refused(format!("the answer is not a token response: {e}"))
                })?;
                let lifetime = token
                    .expires_in
                    .map(Duration::from_secs)
                    .or_else(|| lifetime_of(&token.access_token))
                    .unwrap_or(Duration::from_secs(60));
                Ok(Token {
                    value: token.access_token,
                    lifetime,
                    fetched_at: Instant::now(),
                })
            }
            TokenSource::File(path) => {
                let text = tokio::fs::read_to_string(path)
                    .await
                    .map_err(|e| SourceError::File(path.clone(), e.to_string()))?;
                let value = text.lines().next().unwrap_or("").trim_end().to_owned();
                if value.is_empty() {
                    return Err(SourceError::File(path.clone(), "it is empty".into()));
                }
                let lifetime = lifetime_of(&value).unwrap_or(Duration::ZERO);
                Ok(Token {
                    value,
                    lifetime,
                    fetched_at: Instant::now(),
                })
            }
        }
    }
}
