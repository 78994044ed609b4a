//! Where a Domino Token comes from: an API key exchanged at the token
//! endpoint (RFC 8693), or a token file another process keeps fresh; and a
//! cache that fetches on first use and again shortly before expiry.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use http::HeaderValue;
use serde::Deserialize;
use tokio::sync::Mutex;
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

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The issuer could not be reached (or answered 5xx): try again later.
    #[error("the token endpoint {0} cannot be reached: {1}")]
    Unreachable(String, String),
    /// The issuer refused: a bad, revoked or expired key, a disabled user.
    #[error("the token endpoint refused the API key: {0}")]
    Refused(String),
    #[error("cannot read the token file {0}: {1}")]
    File(PathBuf, String),
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

/// A token fetched on first use and reused until shortly before it expires
/// (the last fifth of its life, at least 10 s). Readers take the current
/// token without a lock (the API proxy reads it for every request); one
/// fetch at a time.
pub struct TokenCache {
    source: TokenSource,
    current: ArcSwapOption<CachedToken>,
    fetching: Mutex<()>,
}

/// A token as the proxy sends it: its `Authorization` value is built once
/// per token, not per request.
#[derive(Debug)]
pub struct CachedToken {
    pub token: Token,
    /// `Bearer <token>`; `None` when the token cannot be a header value.
    pub authorization: Option<HeaderValue>,
}

impl CachedToken {
    fn new(token: Token) -> CachedToken {
        let authorization = HeaderValue::from_str(&format!("Bearer {}", token.value)).ok();
        CachedToken {
            token,
            authorization,
        }
    }

    pub fn value(&self) -> &str {
        &self.token.value
    }
}

impl TokenCache {
    pub fn new(source: TokenSource) -> TokenCache {
        TokenCache {
            source,
            current: ArcSwapOption::empty(),
            fetching: Mutex::new(()),
        }
    }

    fn fresh(token: &Token) -> bool {
        let margin = (token.lifetime / 5).max(Duration::from_secs(10));
        token.remaining() > margin
    }

    /// The current token if it is fresh.
    fn current_fresh(&self) -> Option<Arc<CachedToken>> {
        self.current.load_full().filter(|t| Self::fresh(&t.token))
    }

    /// The cached token, or a new one when it is close to expiry.
    pub async fn get(&self) -> Result<Arc<CachedToken>, SourceError> {
        if let Some(token) = self.current_fresh() {
            return Ok(token);
        }
        let _one = self.fetching.lock().await;
        // Someone else may have fetched while this one waited.
        if let Some(token) = self.current_fresh() {
            return Ok(token);
        }
        self.fetch().await
    }

    /// A new token, unless someone else replaced `stale` meanwhile.
    pub async fn refresh(&self, stale: &CachedToken) -> Result<Arc<CachedToken>, SourceError> {
        let _one = self.fetching.lock().await;
        if let Some(token) = self
            .current
            .load_full()
            .filter(|t| t.token.value != stale.token.value)
        {
            return Ok(token);
        }
        self.fetch().await
    }

    /// Fetches and keeps a token; the caller holds `fetching`.
    async fn fetch(&self) -> Result<Arc<CachedToken>, SourceError> {
        let token = Arc::new(CachedToken::new(self.source.fetch().await?));
        self.current.store(Some(token.clone()));
        Ok(token)
    }
}
