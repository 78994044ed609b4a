//! The proxy holds its callers to the server's `[server]` limits on what
//! comes before a request is served: a caller that never finishes its
//! headers is cut off after `header_read_timeout` (it would otherwise hold
//! a task and a socket for as long as it liked), and headers over
//! `max_header_bytes` get 431.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::{echo_upstream, proxy_command, run_proxy};

/// Sends `request` on a new connection to `base` and reads until the proxy
/// closes it or `limit` passes.
async fn exchange(base: &str, request: &[u8], limit: Duration) -> String {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(limit, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn the_proxy_holds_its_callers_to_the_servers_header_limits() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = echo_upstream().await;
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "header.payload.sig").unwrap();
    let config = dir.path().join("idp.toml");
    std::fs::write(&config, "[server]\nheader_read_timeout = 1\n").unwrap();
    let mut cmd = proxy_command(dir.path(), &upstream, &token_file);
    cmd.env("DOMINO_IDP_CONFIG", &config);
    let proxy = run_proxy(cmd);

    // Headers that never end: cut off after the configured second.
    let started = Instant::now();
    let response = exchange(
        &proxy.base,
        b"GET /v4/users/self HTTP/1.1\r\nHost: p\r\nX-Slow: ",
        Duration::from_secs(10),
    )
    .await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "closed after {took:?}: {response:?}"
    );
    assert!(!response.contains("207"), "{response}");

    // Over the default 16 KiB of headers: 431, and nothing forwarded.
    let big = format!(
        "GET /v4/users/self HTTP/1.1\r\nHost: p\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    let response = exchange(&proxy.base, big.as_bytes(), Duration::from_secs(5)).await;
    assert!(response.starts_with("HTTP/1.1 431"), "{response}");

    // Within the limits the request goes through.
    let response = exchange(
        &proxy.base,
        b"GET /v4/users/self HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 207"), "{response}");
}
