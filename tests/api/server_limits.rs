//! The `[server]` limits, over raw TCP: slow handlers and slow bodies time
//! out with the JSON error shape, oversized headers get 431, a client that
//! never finishes its headers is cut off, and connections beyond the cap wait.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use domino_idp::config::ServerSettings;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::helpers::*;

/// `domino_idp::server::serve` around a small router with a slow handler,
/// a body echo and the peer address.
struct Served {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn serve(settings: ServerSettings) -> Served {
    let router = Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "done"
            }),
        )
        .route("/echo", post(|body: Bytes| async move { body }))
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        domino_idp::server::serve(listener, router, &settings, async {
            let _ = stopped.await;
        })
        .await
    });
    Served { addr, _stop: stop }
}

/// Sends `request` and reads until the server closes or `limit` passes.
async fn exchange(addr: SocketAddr, request: &[u8], limit: Duration) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    read_for(&mut stream, limit).await
}

async fn read_for(stream: &mut TcpStream, limit: Duration) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(limit, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// One response, head and body (by its `Content-Length`), from a
/// connection the server may keep open; what came within `limit`.
async fn read_answer(stream: &mut TcpStream, limit: Duration) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let text = String::from_utf8_lossy(&out).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            });
            if length.is_some_and(|n| body.len() >= n) {
                return text;
            }
        }
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => out.extend_from_slice(&buf[..n]),
            _ => return text,
        }
    }
}

fn json_body(response: &str) -> Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"))
}

fn has_header(response: &str, name: &str, value: &str) -> bool {
    let head = response.split("\r\n\r\n").next().unwrap_or("");
    head.lines().any(|line| {
        line.split_once(':').is_some_and(|(n, v)| {
            n.trim().eq_ignore_ascii_case(name) && v.trim().eq_ignore_ascii_case(value)
        })
    })
}

fn quick() -> ServerSettings {
    ServerSettings {
        request_timeout: 1,
        header_read_timeout: 1,
        ..ServerSettings::default()
    }
}

#[tokio::test]
async fn a_slow_handler_gets_503_with_retry_after() {
    let served = serve(quick()).await;
    let started = Instant::now();
    let response = exchange(
        served.addr,
        b"GET /slow HTTP/1.1\r\nHost: idp\r\nConnection: close\r\n\r\n",
        Duration::from_secs(10),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    assert!(has_header(&response, "retry-after", "5"), "{response}");
    let body = json_body(&response);
    assert_eq!(body["status"], 503);
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(body["message"].is_string());
}

#[tokio::test]
async fn a_slow_body_gets_408_and_the_connection_closes() {
    let served = serve(quick()).await;
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nHost: idp\r\nContent-Length: 100\r\n\r\nonly part")
        .await
        .unwrap();
    let response = read_for(&mut stream, Duration::from_secs(10)).await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(has_header(&response, "connection", "close"), "{response}");
    let body = json_body(&response);
    assert_eq!(body["status"], 408);
    assert_eq!(body["error"], "request_timeout");
}

#[tokio::test]
async fn the_real_app_times_out_a_stalled_login_body() {
    let app = spawn_with(|c| c.server.request_timeout = 1).await;
    let response = exchange(
        app.addr,
        b"POST /auth HTTP/1.1\r\nHost: idp\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{\"username\":",
        Duration::from_secs(10),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert_eq!(json_body(&response)["error"], "request_timeout");
    // The server is fine afterwards.
    assert_eq!(app.get("/health/live").await.status(), 200);
}

/// A body whose `Content-Length` already exceeds `max_body_bytes` is
/// refused at once, in each reader's own shape (Keep's JSON error, OAuth's,
/// the console's plain text), before a byte of it arrives; it used to hold the
/// connection for `request_timeout` and end in a 408.
#[tokio::test]
async fn a_body_declared_over_the_limit_is_refused_at_once() {
    let app = spawn_app().await;
    let oidc = "/auth/realms/DominoRealm/protocol/openid-connect";
    for (path, content_type, shape) in [
        ("/auth".to_owned(), "application/json", "payload_too_large"),
        (
            format!("{oidc}/token"),
            "application/x-www-form-urlencoded",
            "invalid_request",
        ),
        (
            "/admin/users".to_owned(),
            "application/x-www-form-urlencoded",
            "the form is larger than 65536 bytes",
        ),
    ] {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: idp\r\nContent-Type: {content_type}\r\nContent-Length: 100000000\r\n\r\nabc"
        );
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let started = Instant::now();
        let answer = read_answer(&mut stream, Duration::from_secs(5)).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path}: {answer}"
        );
        // The console reads its form (with the CSRF token) before the
        // session, so signed out it is refused as too large too.
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(answer.contains(shape), "{path}: {answer}");
    }
}

#[tokio::test]
async fn oversized_or_too_many_headers_get_431() {
    let served = serve(ServerSettings::default()).await;
    let big = format!(
        "GET /peer HTTP/1.1\r\nHost: idp\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    let response = exchange(served.addr, big.as_bytes(), Duration::from_secs(5)).await;
    assert!(response.starts_with("HTTP/1.1 431"), "{response}");

    let mut many = String::from("GET /peer HTTP/1.1\r\nHost: idp\r\n");
    for i in 0..150 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let response = exchange(served.addr, many.as_bytes(), Duration::from_secs(5)).await;
    assert!(response.starts_with("HTTP/1.1 431"), "{response}");

    // Within the limits, the handler sees the peer address.
    let response = exchange(
        served.addr,
        b"GET /peer HTTP/1.1\r\nHost: idp\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\r\n\r\n127.0.0.1:"), "{response}");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let served = serve(quick()).await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    stream
        .write_all(b"GET /peer HTTP/1.1\r\nHost: idp\r\nX-Slow: ")
        .await
        .unwrap();
    let response = read_for(&mut stream, Duration::from_secs(10)).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "closed after {took:?}: {response:?}"
    );
    assert!(!response.contains("200 OK"), "{response}");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let served = serve(ServerSettings {
        max_connections: 1,
        ..ServerSettings::default()
    })
    .await;
    let first = TcpStream::connect(served.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut second = TcpStream::connect(served.addr).await.unwrap();
    second
        .write_all(b"GET /peer HTTP/1.1\r\nHost: idp\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let early = read_for(&mut second, Duration::from_millis(300)).await;
    assert_eq!(early, "", "served beyond max_connections");
    drop(first);
    let response = read_for(&mut second, Duration::from_secs(5)).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[tokio::test]
async fn the_settings_are_checked() {
    let mut config = config_in(std::path::Path::new("/tmp/unused"));
    config.server.max_header_bytes = 100;
    config.server.max_connections = 0;
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("server.max_header_bytes"), "{err}");
    assert!(err.contains("server.max_connections"), "{err}");
}
