//! `domino-idp proxy`: the Domino API proxy (`DOMINO_API_PROXY`). `GET
//! /access-token` answers the bare token (text/plain, no newline: clients
//! put the body into `Authorization: Bearer` as it is); every other request
//! goes to the upstream API with its method, path, query and body unchanged
//! and streamed, hop-by-hop headers removed and the caller's credentials
//! replaced by `Authorization: Bearer <token>`. The token is fetched on the
//! first call and reused until shortly before it expires; an upstream 401
//! refreshes it once and repeats a request that can be repeated (`cache`
//! says when a refused token is not replaced), and such a request is also
//! sent once more when the upstream drops its connection before answering.
//! The upstream's status, headers and body come back unchanged; an
//! unreachable upstream is a 502 that says so. A redirect is passed on,
//! not followed: the caller decides whether to follow it (and with what).
//! It holds the user's token for anyone who can connect, so it listens on
//! loopback unless told otherwise. `lanes` serves it, a thread per core;
//! `upstream` is the client side (hyper's, a pool per lane).

mod lanes;
mod upstream;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper::server::conn::http1;
use url::Url;

use self::upstream::Upstream;
use super::cache::{CachedToken, TokenCache};
use crate::http::error::AppError;

/// What the proxy forwards to and with (cloned per request: two `Arc`s).
#[derive(Clone)]
pub struct Proxy {
    upstream: Arc<Upstream>,
    tokens: Arc<TokenCache>,
}

impl Proxy {
    /// A proxy to the API at `api_host` with tokens from `tokens`; an
    /// `api_host` that is not `http(s)://` or TLS that cannot be set up is
    /// an error that says so.
    pub fn new(api_host: Url, tokens: Arc<TokenCache>) -> Result<Proxy, String> {
        Ok(Proxy {
            upstream: Arc::new(Upstream::new(api_host)?),
            tokens,
        })
    }

    /// The same proxy with a pool of upstream connections of its own, for
    /// one lane (`lanes`); the token is shared.
    fn for_lane(&self) -> Proxy {
        Proxy {
            upstream: Arc::new(self.upstream.with_own_pool()),
            tokens: Arc::clone(&self.tokens),
        }
    }

    /// The upstream API's base URL, without user info.
    pub fn upstream(&self) -> &str {
        self.upstream.shown()
    }
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

/// Serves the proxy on `listener` until `shutdown`, in one lane per core
/// (`lanes`), HTTP/1.1 as `http` is set up (the server's `[server]`
/// limits): the first lane takes `proxy` with its pool, each other lane a
/// pool of its own.
pub async fn serve(
    listener: tokio::net::TcpListener,
    proxy: Proxy,
    http: http1::Builder,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut first = Some(proxy.clone());
    let router_for = || router(first.take().unwrap_or_else(|| proxy.for_lane()));
    lanes::serve(listener, lanes::lane_count(), http, router_for, shutdown).await
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

/// Whether a request can be sent again after an upstream 401 or a dropped
/// connection (with no body, see `bodiless`).
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

/// The upstream request: `method`, `uri` and `headers` with the token's
/// `Authorization`.
fn upstream_request(
    method: Method,
    uri: axum::http::Uri,
    mut headers: HeaderMap,
    token: &CachedToken,
    body: Body,
) -> axum::http::Request<Body> {
    if let Some(value) = &token.authorization {
        headers.insert(header::AUTHORIZATION, value.clone());
    }
    let mut request = axum::http::Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    request
}

async fn forward(State(proxy): State<Proxy>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let uri = match proxy.upstream.uri(path_and_query) {
        Ok(uri) => uri,
        Err(e) => {
            return AppError::BadRequest(format!("the request's path cannot be forwarded: {e}"))
                .into_response();
        }
    };
    let mut headers = parts.headers;
    // Before `Transfer-Encoding` goes with the hop-by-hop headers: a chunked
    // body has no `Content-Length`.
    let empty = bodiless(&headers);
    strip_hop_by_hop(&mut headers);
    headers.remove(header::HOST);
    headers.remove(header::AUTHORIZATION);
    headers.remove("x-domino-api-key");
    let repeat = empty && idempotent(&parts.method);

    let token = match proxy.tokens.get().await {
        Ok(t) => t,
        Err(e) => {
            return AppError::BadGateway(format!("no token for the upstream: {e}")).into_response();
        }
    };
    // The caller's body goes on as it comes (streamed, its length known
    // when the caller said it). A request without a body is sent without
    // one (an empty body that ends at once: hyper writes no chunked
    // framing). Only a request that may be sent again keeps a copy of its
    // method, URI and headers.
    let again = repeat.then(|| (parts.method.clone(), uri.clone(), headers.clone()));
    let body = if empty { Body::empty() } else { body };
    let mut upstream = proxy
        .upstream
        .send(upstream_request(parts.method, uri, headers, &token, body))
        .await;
    if let Some((method, uri, headers)) = again {
        let resend = |token: &CachedToken| {
            let request = upstream_request(
                method.clone(),
                uri.clone(),
                headers.clone(),
                token,
                Body::empty(),
            );
            proxy.upstream.send(request)
        };
        // The upstream dropped the connection before answering, most often
        // a kept-alive one it closed as the request arrived: once more, on
        // a new connection, as nginx does for a request that can be
        // repeated.
        if upstream.as_ref().is_err_and(|e| e.dropped) {
            upstream = resend(&token).await;
        }
        // A refused token: once more with a new one, if there is one.
        if upstream
            .as_ref()
            .is_ok_and(|r| r.status() == StatusCode::UNAUTHORIZED)
            && let Ok(fresh) = proxy.tokens.refresh(&token).await
        {
            upstream = resend(&fresh).await;
        }
    }
    match upstream {
        Ok(resp) => {
            // The upstream's body as it comes, not copied; its status and
            // headers moved over, without its connection's own.
            let (parts, body) = resp.into_parts();
            let mut out = Response::new(Body::new(body));
            *out.status_mut() = parts.status;
            *out.headers_mut() = parts.headers;
            strip_hop_by_hop(out.headers_mut());
            out
        }
        Err(e) => AppError::BadGateway(format!(
            "the upstream API {} cannot be reached: {}",
            proxy.upstream.shown(),
            e.why
        ))
        .into_response(),
    }
}
