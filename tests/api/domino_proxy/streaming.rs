//! Bodies through the proxy as they come, both ways, and a request without
//! a body sent without one.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::Method;
use futures_util::StreamExt as _;
use serde_json::Value;
use tokio::sync::Notify;

use super::{echo_upstream, start_proxy};

/// An upstream that streams: `GET /v4/down` sends a first chunk, then the
/// rest only once `go` is notified; `POST /v4/up` notifies `seen` once the
/// first chunk of the caller's body has arrived and answers the number of
/// bytes it received in all.
async fn streaming_upstream(go: Arc<Notify>, seen: Arc<Notify>) -> String {
    let down = move || {
        let go = go.clone();
        async move {
            let chunks = futures_util::stream::unfold(0, move |n| {
                let go = go.clone();
                async move {
                    match n {
                        0 => Some((Ok::<_, std::io::Error>(Bytes::from(vec![b'a'; CHUNK])), 1)),
                        1..=REST_CHUNKS => {
                            if n == 1 {
                                go.notified().await;
                            }
                            Some((Ok(Bytes::from(vec![b'b'; CHUNK])), n + 1))
                        }
                        _ => None,
                    }
                }
            });
            axum::body::Body::from_stream(chunks)
        }
    };
    let up = move |body: axum::body::Body| {
        let seen = seen.clone();
        async move {
            let mut stream = body.into_data_stream();
            let mut total = 0;
            let mut told = false;
            while let Some(chunk) = stream.next().await {
                total += chunk.unwrap().len();
                if total >= CHUNK && !told {
                    seen.notify_one();
                    told = true;
                }
            }
            total.to_string()
        }
    };
    let router = Router::new()
        .route("/v4/down", axum::routing::get(down))
        .route("/v4/up", axum::routing::post(up));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

const CHUNK: usize = 64 * 1024;
const REST_CHUNKS: usize = 64;
/// Long enough for a loaded machine; a proxy that waits for a whole body
/// before passing it on waits for ever here.
const PATIENCE: Duration = Duration::from_secs(20);

/// Large bodies pass through both ways as they come: the caller reads the
/// upstream's first chunk before the upstream sends the rest, and the
/// upstream reads the caller's first chunk before the caller sends the
/// rest (a chunked upload of unknown length). A request without a body
/// goes out without one.
#[tokio::test]
async fn bodies_stream_both_ways_and_a_bodiless_request_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let (go, seen) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let upstream = streaming_upstream(go.clone(), seen.clone()).await;
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "header.payload.sig\n").unwrap();
    let proxy = start_proxy(dir.path(), &upstream, &token_file);
    let http = reqwest::Client::new();

    // Down: the first chunk arrives while the upstream holds the rest back.
    let mut resp = http
        .get(format!("{}/v4/down", proxy.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut received = 0;
    while received < CHUNK {
        let chunk = tokio::time::timeout(PATIENCE, resp.chunk())
            .await
            .expect("the first chunk arrives before the upstream sends the rest")
            .unwrap()
            .expect("a chunk");
        received += chunk.len();
    }
    go.notify_one();
    while let Some(chunk) = resp.chunk().await.unwrap() {
        received += chunk.len();
    }
    assert_eq!(received, CHUNK * (1 + REST_CHUNKS));

    // Up: the upstream sees the first chunk before the caller sends more.
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1);
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    });
    let sent = tokio::spawn(
        http.post(format!("{}/v4/up", proxy.base))
            .body(reqwest::Body::wrap_stream(body))
            .send(),
    );
    tx.send(Bytes::from(vec![b'c'; CHUNK])).await.unwrap();
    tokio::time::timeout(PATIENCE, seen.notified())
        .await
        .expect("the upstream reads the first chunk before the caller sends the rest");
    for _ in 0..REST_CHUNKS {
        tx.send(Bytes::from(vec![b'd'; CHUNK])).await.unwrap();
    }
    drop(tx);
    let resp = sent.await.unwrap().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.text().await.unwrap(),
        (CHUNK * (1 + REST_CHUNKS)).to_string()
    );

    // No body: no chunked framing, no body (the echo upstream says what
    // headers it saw).
    let echo = echo_upstream().await;
    let proxy = start_proxy(dir.path(), &echo, &token_file);
    for method in [Method::GET, Method::DELETE, Method::POST] {
        let resp = http
            .request(method.clone(), format!("{}/v4/things/1", proxy.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 207, "{method}");
        let seen: Value = resp.json().await.unwrap();
        assert!(
            seen["headers"].get("transfer-encoding").is_none(),
            "{method}: {seen}"
        );
        assert_eq!(seen["body"], "", "{method}");
    }
}
