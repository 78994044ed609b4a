//! The whole router (`build_router`) with arbitrary requests: every endpoint,
//! method, content type, credentials, query and body. No request, however
//! malformed, may panic or get a 5xx other than 503 (SPEC §3).

#![no_main]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use domino_idp_fuzz::{CLIENT_SECRET, app};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt as _;

const R: &str = "/auth/realms/DominoRealm";

const PATHS: &[&str] = &[
    "/auth",
    "/api/v1/auth",
    R,
    "/auth/realms/DominoRealm/protocol/openid-connect/token",
    "/auth/realms/DominoRealm/protocol/openid-connect/auth",
    "/auth/realms/DominoRealm/protocol/openid-connect/userinfo",
    "/auth/realms/DominoRealm/protocol/openid-connect/token/introspect",
    "/auth/realms/DominoRealm/protocol/openid-connect/revoke",
    "/auth/realms/DominoRealm/protocol/openid-connect/logout",
    "/auth/realms/DominoRealm/protocol/openid-connect/certs",
    "/auth/realms/DominoRealm/.well-known/openid-configuration",
    "/.well-known/openid-configuration",
    "/health/live",
    "/health/ready",
    "/metrics",
    "/openapi.json",
    "/auth/realms/Other/protocol/openid-connect/token",
];

const CONTENT_TYPES: &[Option<&str>] = &[
    Some("application/x-www-form-urlencoded"),
    Some("application/json"),
    None,
    Some("application/json; charset=utf-8"),
    Some("text/plain"),
    Some("application/x-www-form-urlencoded; charset=ISO-8859-1"),
    Some("multipart/form-data; boundary=x"),
];

#[derive(Arbitrary, Debug)]
enum Credentials {
    None,
    Client,
    PublicClient,
    Basic(Vec<u8>),
    Bearer(String),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    path: u8,
    method: u8,
    content_type: u8,
    credentials: Credentials,
    cookie: Option<String>,
    query: Vec<u8>,
    body: Vec<u8>,
    peer: [u8; 4],
}

/// Percent-encodes what a URI may not hold, keeping `&`, `=`, `%` and `+`
/// so the parameter structure survives.
fn query(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"&=%+-._~*!$'(),;:@/?".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn request(input: &Input) -> Option<Request<Body>> {
    let path = PATHS[usize::from(input.path) % PATHS.len()];
    let method = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
        Method::HEAD,
    ][usize::from(input.method) % 6]
        .clone();
    let uri = if input.query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query(&input.query))
    };
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(ct) = CONTENT_TYPES[usize::from(input.content_type) % CONTENT_TYPES.len()] {
        builder = builder.header(header::CONTENT_TYPE, ct);
    }
    let authorization = match &input.credentials {
        Credentials::None => None,
        Credentials::Client => Some(format!(
            "Basic {}",
            STANDARD.encode(format!("domino-play:{CLIENT_SECRET}"))
        )),
        Credentials::PublicClient => Some(format!("Basic {}", STANDARD.encode("spa:"))),
        Credentials::Basic(raw) => Some(format!("Basic {}", STANDARD.encode(raw))),
        Credentials::Bearer(token) => Some(format!("Bearer {token}")),
        Credentials::Raw(raw) => Some(String::from_utf8_lossy(raw).into_owned()),
    };
    if let Some(value) = authorization {
        builder = builder.header(header::AUTHORIZATION, value);
    }
    if let Some(cookie) = &input.cookie {
        builder = builder.header(header::COOKIE, cookie.as_str());
    }
    let mut req = builder.body(Body::from(input.body.clone())).ok()?;
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((input.peer, 40_000))));
    Some(req)
}

fuzz_target!(|input: Input| {
    // Header values that cannot be built are refused by hyper before the router.
    let Some(req) = request(&input) else {
        return;
    };
    let app = app();
    let Ok(response) = app.runtime.block_on(app.router.clone().oneshot(req));
    let status = response.status();
    assert!(
        !status.is_server_error() || status.as_u16() == 503,
        "{status} for {input:?}"
    );
});
