//! Graceful shutdown of the real binary: on SIGTERM every accepted request
//! gets its whole response, new connections are refused, and the process
//! exits 0 within `server.shutdown_grace`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::PASSWORD;
use crate::process::{ServerProcess, write_config};

fn config(dir: &Path, grace: u64) -> PathBuf {
    write_config(
        dir,
        &format!(
            r#"
[server]
shutdown_grace = {grace}

[[users]]
username = "doc"
password = "{PASSWORD}"
"#
        ),
    )
}

/// A Keep login whose body is sent in two parts: the headers and the first
/// half now, the rest on `finish`.
struct SlowLogin {
    stream: TcpStream,
    tail: String,
}

impl SlowLogin {
    async fn start(addr: &str) -> SlowLogin {
        let body = json!({ "username": "doc", "password": PASSWORD }).to_string();
        let (head, tail) = body.split_at(body.len() / 2);
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST /auth HTTP/1.1\r\nHost: idp\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{head}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        SlowLogin {
            stream,
            tail: tail.to_owned(),
        }
    }

    /// Sends the rest of the body and reads the response until the server
    /// closes the connection.
    async fn finish(mut self) -> String {
        self.stream.write_all(self.tail.as_bytes()).await.unwrap();
        let mut response = String::new();
        self.stream.read_to_string(&mut response).await.unwrap();
        response
    }
}

async fn quick_login(client: reqwest::Client, url: String) -> Result<(u16, Value), reqwest::Error> {
    let resp = client
        .post(url)
        .json(&json!({ "username": "doc", "password": PASSWORD }))
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await?))
}

async fn wait_until_refused(addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpStream::connect(addr).await {
            // Reset: the handshake raced with the listener closing; the
            // client was never connected either.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
                ) =>
            {
                return;
            }
            Err(e) => panic!("unexpected connect error: {e}"),
            // Still listening (the signal is being handled): try again.
            Ok(_) => {}
        }
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_every_accepted_request_finish() {
    let tmp = tempfile::tempdir().unwrap();
    let config = config(tmp.path(), 20);
    let mut server = ServerProcess::start(tmp.path(), &config);
    let addr = server.addr.clone();

    let mut slow = Vec::new();
    for _ in 0..8 {
        slow.push(SlowLogin::start(&addr).await);
    }
    // Argon2-bound logins, queued behind one hashing permit per core, racing
    // with the signal.
    // A client each, so that no connection is reused across the shutdown.
    let clients: Vec<_> = (0..16).map(|_| reqwest::Client::new()).collect();
    let quick: Vec<_> = clients
        .into_iter()
        .map(|client| tokio::spawn(quick_login(client, server.url("/auth"))))
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let signalled = Instant::now();
    server.signal("TERM");
    wait_until_refused(&addr).await;

    // Uploads begun before the signal complete after it.
    for login in slow {
        let response = login.finish().await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(
            response.to_ascii_lowercase().contains("connection: close"),
            "{response}"
        );
        assert!(response.contains("\"bearer\""), "{response}");
    }
    let mut completed = 0;
    for login in quick {
        match login.await.unwrap() {
            Ok((200, body)) => {
                assert!(body["bearer"].is_string(), "{body}");
                completed += 1;
            }
            // Never connected: the listener had closed.
            Err(e) if e.is_connect() => {}
            other => panic!("an accepted request was dropped: {other:?}"),
        }
    }
    assert!(completed > 0, "no quick login was served before the signal");

    let status = server.wait_exit(Duration::from_secs(20));
    assert!(status.success(), "exit status {status:?}\n{}", server.log());
    assert!(signalled.elapsed() < Duration::from_secs(20));
    let log = server.log();
    assert!(log.contains("all connections closed"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_grace_bounds_the_wait_for_a_stalled_request() {
    let tmp = tempfile::tempdir().unwrap();
    let config = config(tmp.path(), 1);
    let mut server = ServerProcess::start(tmp.path(), &config);
    // Never finishes its body.
    let stalled = SlowLogin::start(&server.addr).await;
    tokio::time::sleep(Duration::from_millis(150)).await;

    let signalled = Instant::now();
    server.signal("TERM");
    let status = server.wait_exit(Duration::from_secs(10));
    let took = signalled.elapsed();
    assert!(status.success(), "exit status {status:?}\n{}", server.log());
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "exited after {took:?}"
    );
    let log = server.log();
    assert!(
        log.contains("closing the connections still open") && log.contains("connections=1"),
        "{log}"
    );
    drop(stalled);
}
