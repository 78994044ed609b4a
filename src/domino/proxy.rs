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
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use url::Url;

use super::source::TokenCache;
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
            token,
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
    // go out chunked, an empty chunked body the upstream must parse).
    let send = |token: &str, body: Option<reqwest::Body>| {
        let mut headers = headers.clone();
        if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
            headers.insert(header::AUTHORIZATION, value);
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
    let body = (!empty).then(|| reqwest::Body::wrap_stream(body.into_data_stream()));
    let first = send(&token, body).await;
    let upstream = match first {
        Ok(resp) if resp.status() == StatusCode::UNAUTHORIZED && repeat => {
            match proxy.tokens.refresh(&token).await {
                Ok(fresh) => send(&fresh, None).await,
                Err(_) => Ok(resp),
            }
        }
        other => other,
    };
    match upstream {
        Ok(resp) => {
            let mut out = Response::builder().status(resp.status());
            if let Some(headers) = out.headers_mut() {
                *headers = resp.headers().clone();
                strip_hop_by_hop(headers);
            }
            out.body(Body::from_stream(resp.bytes_stream()))
                .unwrap_or_else(|e| AppError::BadGateway(e.to_string()).into_response())
        }
        Err(e) => AppError::BadGateway(format!(
            "the upstream API {} cannot be reached: {e}",
            proxy.upstream
        ))
        .into_response(),
    }
}
