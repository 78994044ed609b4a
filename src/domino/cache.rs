//! The proxy's token: fetched from its `TokenSource` on first use and
//! again shortly before expiry, with one fetch at a time, and with a cost
//! bounded when the issuer refuses or is away, or the upstream refuses
//! every token.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use http::HeaderValue;
use tokio::sync::Mutex;

use super::source::{SourceError, Token, TokenSource};

/// After a fetch failed, for how long the callers that come next get its
/// error instead of trying again: at most one attempt a second reaches a
/// refusing or unreachable issuer, however many requests the proxy is sent.
const RETRY_FAILED_FETCH_AFTER: Duration = Duration::from_secs(1);

/// How old an exchanged token must be before the upstream's refusal of it
/// makes the proxy exchange the key again. A refusal of a younger one says
/// the upstream does not take this issuer's tokens for that request (an API
/// that trusts another issuer, a 401 that means "not allowed"), which a new
/// token would not change; without this each such request cost an exchange.
const REPLACE_REFUSED_TOKEN_AFTER: Duration = Duration::from_secs(10);

/// A token fetched on first use and reused until shortly before it expires
/// (the last fifth of its life, at least 10 s). Readers take the current
/// token without a lock (the API proxy reads it for every request); one
/// fetch at a time, and the callers that waited for a fetch that failed get
/// its error instead of each trying again.
pub struct TokenCache {
    source: TokenSource,
    current: ArcSwapOption<CachedToken>,
    /// Held while fetching; the last fetch's failure, until one succeeds.
    fetching: Mutex<Option<Failed>>,
}

/// A fetch that failed, and when.
struct Failed {
    at: Instant,
    error: SourceError,
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
            fetching: Mutex::new(None),
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
        let asked = Instant::now();
        let mut failed = self.fetching.lock().await;
        // Someone else may have fetched while this one waited.
        if let Some(token) = self.current_fresh() {
            return Ok(token);
        }
        self.fetch(&mut failed, asked).await
    }

    /// A new token after the upstream refused `stale`, unless someone else
    /// replaced it meanwhile. An exchanged token younger than
    /// `REPLACE_REFUSED_TOKEN_AFTER` is not replaced (`TooSoon`); a token
    /// file is read again whenever asked, which costs the issuer nothing.
    pub async fn refresh(&self, stale: &CachedToken) -> Result<Arc<CachedToken>, SourceError> {
        let asked = Instant::now();
        let mut failed = self.fetching.lock().await;
        if let Some(token) = self
            .current
            .load_full()
            .filter(|t| t.token.value != stale.token.value)
        {
            return Ok(token);
        }
        let age = stale.token.fetched_at.elapsed();
        if matches!(self.source, TokenSource::Exchange { .. }) && age < REPLACE_REFUSED_TOKEN_AFTER
        {
            return Err(SourceError::TooSoon(age));
        }
        self.fetch(&mut failed, asked).await
    }

    /// Fetches and keeps a token, holding `fetching` (`failed`), for a
    /// caller that asked at `asked`. If the last fetch failed after that,
    /// or less than `RETRY_FAILED_FETCH_AFTER` ago, its error is the answer.
    async fn fetch(
        &self,
        failed: &mut Option<Failed>,
        asked: Instant,
    ) -> Result<Arc<CachedToken>, SourceError> {
        if let Some(last) = failed
            .as_ref()
            .filter(|f| f.at >= asked || f.at.elapsed() < RETRY_FAILED_FETCH_AFTER)
        {
            return Err(last.error.clone());
        }
        match self.source.fetch().await {
            Ok(token) => {
                *failed = None;
                let token = Arc::new(CachedToken::new(token));
                self.current.store(Some(token.clone()));
                Ok(token)
            }
            Err(error) => {
                *failed = Some(Failed {
                    at: Instant::now(),
                    error: error.clone(),
                });
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::post;

    use super::*;
    use crate::domain::secret::Secret;

    /// A token endpoint that counts its calls and answers `status`, with a
    /// token named after the call when it is 200.
    async fn token_endpoint(status: StatusCode) -> (url::Url, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let app = Router::new().route(
            "/token",
            post(move || {
                let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
                let body = serde_json::json!({"access_token": format!("t{n}"), "expires_in": 300});
                async move { (status, axum::Json(body)) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url.parse().unwrap(), calls)
    }

    fn exchanging_at(token_url: url::Url) -> TokenCache {
        TokenCache::new(TokenSource::Exchange {
            http: reqwest::Client::new(),
            token_url,
            api_key: Secret::new("a-key".to_owned()),
        })
    }

    /// The current token, as if fetched `ago`.
    fn fetched(cache: &TokenCache, ago: Duration) -> Arc<CachedToken> {
        let token = Arc::new(CachedToken::new(Token {
            value: "old".into(),
            lifetime: Duration::from_secs(300),
            fetched_at: Instant::now().checked_sub(ago).unwrap(),
        }));
        cache.current.store(Some(Arc::clone(&token)));
        token
    }

    #[tokio::test]
    async fn a_refused_token_is_exchanged_again_only_once_it_is_old_enough() {
        let (url, calls) = token_endpoint(StatusCode::OK).await;
        let cache = exchanging_at(url);

        let young = fetched(&cache, REPLACE_REFUSED_TOKEN_AFTER / 2);
        let refused = cache.refresh(&young).await.unwrap_err();
        assert!(matches!(refused, SourceError::TooSoon(_)), "{refused}");
        assert_eq!(calls.load(Ordering::SeqCst), 0);

        let old = fetched(&cache, REPLACE_REFUSED_TOKEN_AFTER + Duration::from_secs(1));
        assert_eq!(cache.refresh(&old).await.unwrap().value(), "t1");
        // A second refusal of the token just replaced finds the new one.
        assert_eq!(cache.refresh(&old).await.unwrap().value(), "t1");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_token_file_is_read_again_at_every_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "first").unwrap();
        let cache = TokenCache::new(TokenSource::File(file.clone()));
        let first = cache.get().await.unwrap();
        std::fs::write(&file, "second").unwrap();
        assert_eq!(cache.refresh(&first).await.unwrap().value(), "second");
    }

    #[tokio::test]
    async fn a_failed_fetch_answers_for_a_second_then_is_tried_again() {
        let (url, calls) = token_endpoint(StatusCode::BAD_REQUEST).await;
        let cache = exchanging_at(url);
        assert!(matches!(cache.get().await, Err(SourceError::Refused(_))));
        assert!(matches!(cache.get().await, Err(SourceError::Refused(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "tried again at once");

        // As if the failure were older than RETRY_FAILED_FETCH_AFTER.
        if let Some(failed) = cache.fetching.lock().await.as_mut() {
            failed.at = Instant::now()
                .checked_sub(RETRY_FAILED_FETCH_AFTER + Duration::from_millis(10))
                .unwrap();
        }
        assert!(matches!(cache.get().await, Err(SourceError::Refused(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
