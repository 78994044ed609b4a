//! An upstream that closes a kept-alive connection as a request arrives on
//! it (its idle timeout firing as the proxy reuses the connection): a
//! request that can be repeated goes once more on a new connection, as
//! nginx does, and one that cannot comes back as a 502.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use super::start_proxy;

/// An upstream that answers the first request on each connection (keeping
/// the connection open) and closes the connection, unanswered, when a
/// second request arrives on it: with a FIN, or with a reset when `reset`.
/// Counts the requests it reads.
async fn closing_upstream(reset: bool) -> (String, Arc<AtomicUsize>) {
    async fn connection(mut stream: TcpStream, reset: bool, seen: Arc<AtomicUsize>) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        for nth in 0.. {
            // One request: its head, and a body by its Content-Length.
            let head_end = loop {
                if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break at + 4;
                }
                match stream.read(&mut chunk).await {
                    Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    _ => return,
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            while buf.len() < head_end + length {
                match stream.read(&mut chunk).await {
                    Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                    _ => return,
                }
            }
            buf.drain(..head_end + length);
            seen.fetch_add(1, Ordering::SeqCst);
            if nth > 0 {
                if reset {
                    let _ = stream.set_zero_linger();
                }
                return;
            }
            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
            if stream.write_all(answer).await.is_err() {
                return;
            }
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(connection(stream, reset, Arc::clone(&counted)));
        }
    });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn a_connection_the_upstream_closes_is_retried_only_for_a_repeatable_request() {
    dropped_connections(false).await;
}

#[tokio::test]
async fn a_connection_the_upstream_resets_is_retried_only_for_a_repeatable_request() {
    dropped_connections(true).await;
}

async fn dropped_connections(reset: bool) {
    let dir = tempfile::tempdir().unwrap();
    let (upstream, seen) = closing_upstream(reset).await;
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "header.payload.sig").unwrap();
    let proxy = start_proxy(dir.path(), &upstream, &token_file);
    // One connection to the proxy: one lane, whose pool reuses the
    // upstream connection of the first request for the second.
    let http = reqwest::Client::new();
    let url = format!("{}/v4/users/self", proxy.base);

    let first = http.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.text().await.unwrap(), "ok");
    let again = http.get(&url).send().await.unwrap();
    assert_eq!(again.status(), 200, "the dropped GET was not sent again");
    // The first GET, the dropped one, and the same on a new connection.
    assert_eq!(seen.load(Ordering::SeqCst), 3);

    // A POST on the connection the retry opened is dropped too: it is not
    // sent again (it may have been acted on), and the caller learns so.
    let post = http.post(&url).body("once").send().await.unwrap();
    assert_eq!(post.status(), 502);
    assert_eq!(seen.load(Ordering::SeqCst), 4);
}
