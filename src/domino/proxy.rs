//! `domino-idp proxy`: the Domino API proxy (`DOMINO_API_PROXY`). `GET
//! /access-token` answers the bare token (text/plain, no newline: clients
//! put the body into `Authorization: Bearer` as it is); every other request
//! goes to the upstream API with its method, path, query and body unchanged
//! and streamed, hop-by-hop headers removed and the caller's credentials
//! replaced by `Authorization: Bearer <token>`. The token is fetched on the
//! first call and reused until shortly before it expires; an upstream 401
//! refreshes it once and retries a request that can be repeated. The
//! upstream's status, headers and body come back unchanged; an unreachable
//! upstream is a 502 that says so. It holds the user's token for anyone who
//! can connect, so it listens on loopback unless told otherwise.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt as _;
use url::Url;

use super::source::{CachedToken, TokenCache};
use crate::http::error::AppError;

/// What the proxy forwards to and with.
#[derive(Clone)]
pub struct Proxy {
    pub upstream: Url,
    pub tokens: Arc<TokenCache>,
    pub http: reqwest::Client,
}

/// Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes hop-by-hop headers, including those `Connection` names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Serves the proxy on `listener` until `shutdown`. Each connection is set
/// `TCP_NODELAY` (`axum::serve` does not): a response is never held back
/// waiting for the caller's ACK. It runs on the process's multi-threaded
/// runtime: on a thread of its own (a current-thread runtime) it took
/// 47-50 us of CPU per request against 60-74 us before this round's changes,
/// but on a machine shared with busy processes one thread gets one thread's
/// share of the cores and capped the throughput (docs/performance.md, (k)).
pub async fn serve(
    listener: tokio::net::TcpListener,
    proxy: Proxy,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = listener.tap_io(|stream| {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(listener, router(proxy))
        .with_graceful_shutdown(shutdown)
        .await
}

pub fn router(proxy: Proxy) -> Router {
    Router::new()
        .route("/access-token", get(access_token))
        .fallback(forward)
        .with_state(proxy)
}

async fn access_token(State(proxy): State<Proxy>) -> Response {
    match proxy.tokens.get().await {
        Ok(token) => (
            [
                (header::CONTENT_TYPE, "text/plain"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            token.value().to_owned(),
        )
            .into_response(),
        Err(e) => AppError::BadGateway(format!("no token: {e}")).into_response(),
    }
}

/// Whether a request can be sent again after an upstream 401 (with no
/// body, see `bodiless`).
fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::DELETE
    )
}

/// A request that says it has no body (RFC 9112 §6.3: neither
/// Transfer-Encoding nor a Content-Length other than 0).
fn bodiless(headers: &HeaderMap) -> bool {
    !headers.contains_key(header::TRANSFER_ENCODING)
        && headers
            .get(header::CONTENT_LENGTH)
            .is_none_or(|v| v.as_bytes() == b"0")
}

async fn forward(State(proxy): State<Proxy>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let mut url = proxy.upstream.clone();
    let base = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{base}{}", parts.uri.path()));
    url.set_query(parts.uri.query());
    let mut headers = parts.headers;
    strip_hop_by_hop(&mut headers);
    headers.remove(header::HOST);
    headers.remove(header::AUTHORIZATION);
    headers.remove("x-domino-api-key");
    let empty = bodiless(&headers);
    let repeat = empty && idempotent(&parts.method);

    let token = match proxy.tokens.get().await {
        Ok(t) => t,
        Err(e) => {
            return AppError::BadGateway(format!("no token for the upstream: {e}")).into_response();
        }
    };
    // A request without a body is sent without one (a streamed body would
    // go out chunked, an empty chunked body the upstream must parse). Only
    // a request that may be sent again keeps a copy of its headers.
    let send = |token: &CachedToken, mut headers: HeaderMap, body: Option<reqwest::Body>| {
        if let Some(value) = &token.authorization {
            headers.insert(header::AUTHORIZATION, value.clone());
        }
        let request = proxy
            .http
            .request(parts.method.clone(), url.clone())
            .headers(headers);
        match body {
            Some(body) => request.body(body),
            None => request,
        }
        .send()
    };
    let again = repeat.then(|| headers.clone());
    let body = (!empty).then(|| reqwest::Body::wrap_stream(body.into_data_stream()));
    let first = send(&token, headers, body).await;
    let upstream = match (first, again) {
        (Ok(resp), Some(headers)) if resp.status() == StatusCode::UNAUTHORIZED => {
            match proxy.tokens.refresh(&token).await {
                Ok(fresh) => send(&fresh, headers, None).await,
                Err(_) => Ok(resp),
            }
        }
        (other, _) => other,
    };
    match upstream {
        Ok(resp) => {
            // The upstream's body as it comes (its length known when the
            // upstream said it), without copying its headers.
            let (parts, body) = axum::http::Response::from(resp).into_parts();
            let mut out = Response::new(Body::new(body));
            *out.status_mut() = parts.status;
            *out.headers_mut() = parts.headers;
            strip_hop_by_hop(out.headers_mut());
            out
        }
        Err(e) => AppError::BadGateway(format!(
            "the upstream API {} cannot be reached: {e}",
            proxy.upstream
        ))
        .into_response(),
    }
}
