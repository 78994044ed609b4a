//! The proxy's side towards the upstream API: hyper's pooled HTTP/1 client
//! over rustls (aws-lc-rs, the system's roots through the platform
//! verifier, as reqwest uses them), with each request's URI made by
//! appending the caller's path and query to the upstream's base once, as
//! text. Nothing follows redirects or retries here: the caller sees what
//! the upstream answered, and an error says whether the connection was
//! dropped before any answer (`Unanswered::dropped`), for the caller to
//! decide whether to send again.

use std::time::Duration;

use axum::body::Body;
use http::Uri;
use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use url::Url;

/// How long a connection to the upstream may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the upstream may take to answer with its status and headers
/// (its body then streams for as long as it takes).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// The upstream API and the connections to it.
pub struct Upstream {
    /// `scheme://authority/base-path` without the trailing `/` (and
    /// without the user info the configured URL may carry): a caller's path
    /// and query are appended to it, and it is what messages show.
    prefix: String,
    connector: HttpsConnector<HttpConnector>,
    client: Client<HttpsConnector<HttpConnector>, Body>,
}

impl Upstream {
    /// The upstream at `base` (`http://` or `https://`, with an optional
    /// base path), with keep-alive connections set `TCP_NODELAY`.
    pub fn new(base: Url) -> Result<Upstream, String> {
        let prefix = prefix(&base)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let https = HttpsConnectorBuilder::new()
            .with_provider_and_platform_verifier(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| format!("cannot set up TLS for the upstream API: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Upstream {
            prefix,
            client: pool(https.clone()),
            connector: https,
        })
    }

    /// The same upstream with a pool of connections of its own (the same
    /// TLS set-up): each of the proxy's lanes has one, so that a
    /// connection is only ever used on the thread that opened it.
    pub fn with_own_pool(&self) -> Upstream {
        Upstream {
            prefix: self.prefix.clone(),
            client: pool(self.connector.clone()),
            connector: self.connector.clone(),
        }
    }

    /// The upstream's base URL without user info, for messages and logs.
    pub fn shown(&self) -> &str {
        &self.prefix
    }

    /// The upstream URI for a caller's `path_and_query` (which starts
    /// with `/`).
    pub fn uri(&self, path_and_query: &str) -> Result<Uri, http::uri::InvalidUri> {
        let mut text = String::with_capacity(self.prefix.len() + path_and_query.len());
        text.push_str(&self.prefix);
        text.push_str(path_and_query);
        Uri::try_from(text)
    }

    /// Sends `request` and waits for the upstream's status and headers;
    /// the error says why they could not be had.
    pub async fn send(
        &self,
        request: http::Request<Body>,
    ) -> Result<http::Response<Incoming>, Unanswered> {
        match tokio::time::timeout(ANSWER_TIMEOUT, self.client.request(request)).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(Unanswered {
                dropped: !e.is_connect() && dropped(&e),
                // `{:#}` writes the causes too: hyper's own message is only
                // "client error (Connect)"; a cause says "Connection refused".
                why: format!("{:#}", anyhow::Error::new(e)),
            }),
            Err(_) => Err(Unanswered {
                why: format!("no answer within {} s", ANSWER_TIMEOUT.as_secs()),
                dropped: false,
            }),
        }
    }
}

/// Why the upstream's status and headers could not be had.
#[derive(Debug)]
pub struct Unanswered {
    /// In words, with the causes.
    pub why: String,
    /// The connection ended, closed or reset, after it was open and before
    /// any answer came: most often a kept-alive connection whose idle
    /// timeout the upstream reached as the request arrived on it. The
    /// request may or may not have been acted on.
    pub dropped: bool,
}

/// Whether `error` (or one of its causes) is a connection that ended
/// before the answer began.
fn dropped(error: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_incomplete_message)
            || e.downcast_ref::<std::io::Error>().is_some_and(|io| {
                matches!(io.kind(), ConnectionReset | ConnectionAborted | BrokenPipe)
            })
        {
            return true;
        }
        cause = e.source();
    }
    false
}

/// A pool of keep-alive connections made by `connector`.
fn pool(connector: HttpsConnector<HttpConnector>) -> Client<HttpsConnector<HttpConnector>, Body> {
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(connector)
}

/// `scheme://host[:port]/path` of `base`, without a trailing `/`. Its
/// messages show `base` without a password.
fn prefix(base: &Url) -> Result<String, String> {
    let mut shown = base.clone();
    // Fails only for a URL that cannot have one (no host).
    let _ = shown.set_password(None);
    let base = &shown;
    let scheme = base.scheme();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "the API host {base} is not an http:// or https:// URL"
        ));
    }
    let host = base
        .host_str()
        .ok_or_else(|| format!("the API host {base} has no host"))?;
    let port = base.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = base.path().trim_end_matches('/');
    let prefix = format!("{scheme}://{host}{port}{path}");
    // What every request's URI starts with must be one.
    Uri::try_from(format!("{prefix}/"))
        .map_err(|e| format!("the API host {base} is not a usable URI: {e}"))?;
    Ok(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(base: &str, pq: &str) -> String {
        let upstream = Upstream::new(Url::parse(base).unwrap()).unwrap();
        upstream.uri(pq).unwrap().to_string()
    }

    #[test]
    fn the_callers_path_and_query_follow_the_base_path() {
        assert_eq!(
            uri("http://127.0.0.1:8080", "/v4/users/self"),
            "http://127.0.0.1:8080/v4/users/self"
        );
        assert_eq!(
            uri("https://api.example.com/", "/v4/x?a=1&b=%20x"),
            "https://api.example.com/v4/x?a=1&b=%20x"
        );
        assert_eq!(
            uri("http://[::1]:9/domino/api/", "/v4/x?q"),
            "http://[::1]:9/domino/api/v4/x?q"
        );
        // The default port is left out, as the URL parser does.
        assert_eq!(uri("https://h:443/p", "/"), "https://h/p/");
    }

    #[test]
    fn a_base_that_is_not_http_is_refused() {
        let err = Upstream::new(Url::parse("ftp://h/").unwrap())
            .err()
            .unwrap();
        assert!(err.contains("http://"), "{err}");
        assert!(Upstream::new(Url::parse("unix:/tmp/s").unwrap()).is_err());
    }

    /// A password in `DOMINO_API_HOST` is never shown: not in what the
    /// proxy logs and answers (`shown`), not in its errors.
    #[test]
    fn the_user_info_of_the_base_is_never_shown() {
        let upstream = Upstream::new(Url::parse("http://u:s3cret@h:8/api/").unwrap()).unwrap();
        assert_eq!(upstream.shown(), "http://h:8/api");
        assert_eq!(upstream.uri("/x").unwrap().to_string(), "http://h:8/api/x");
        let err = Upstream::new(Url::parse("ftp://u:s3cret@h/").unwrap())
            .err()
            .unwrap();
        assert!(!err.contains("s3cret"), "{err}");
    }
}
