//! The proxy's token fetches under refusal and outage, with the key
//! exchanged at a stand-in issuer that counts the exchanges: an upstream
//! that refuses every token costs one exchange, not one per request, and
//! an issuer that is away is tried once for all the requests waiting on
//! it, not once each in turn.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::json;

use super::run_proxy;
use crate::helpers::idp_command;

const TOKEN_PATH: &str = "/auth/realms/DominoRealm/protocol/openid-connect/token";

/// A stand-in issuer and API at one address: its token endpoint counts
/// the exchanges and, when `away`, answers 503 after 300 ms; its API
/// answers 401 to every request, as an API that trusts another issuer.
async fn refusing_api(away: bool) -> (String, Arc<AtomicUsize>) {
    let exchanges = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&exchanges);
    let app = Router::new()
        .route(
            TOKEN_PATH,
            post(move || {
                let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
                async move {
                    if away {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({})));
                    }
                    let token = json!({"access_token": format!("h.p.s{n}"), "expires_in": 300});
                    (StatusCode::OK, axum::Json(token))
                }
            }),
        )
        .fallback(|| async { StatusCode::UNAUTHORIZED });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), exchanges)
}

fn proxy_to(dir: &std::path::Path, api: &str) -> super::ProxyProcess {
    let mut cmd = idp_command(dir);
    cmd.env("DOMINO_API_HOST", api)
        .env("DOMINO_USER_API_KEY", "a-key")
        .env_remove("DOMINO_TOKEN_FILE");
    run_proxy(cmd)
}

#[tokio::test]
async fn an_upstream_that_refuses_every_token_costs_one_exchange() {
    let dir = tempfile::tempdir().unwrap();
    let (api, exchanges) = refusing_api(false).await;
    let proxy = proxy_to(dir.path(), &api);
    let http = reqwest::Client::new();
    for _ in 0..20 {
        let resp = http
            .get(format!("{}/v4/users/self", proxy.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "the upstream's answer comes back");
    }
    // The first request's exchange; the refusals of a token that young do
    // not make another (they used to, one a request).
    assert_eq!(exchanges.load(Ordering::SeqCst), 1);
    let token = http
        .get(format!("{}/access-token", proxy.base))
        .send()
        .await
        .unwrap();
    assert_eq!(token.text().await.unwrap(), "h.p.s1");
}

#[tokio::test]
async fn an_issuer_that_is_away_is_tried_once_for_the_requests_waiting_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let (api, exchanges) = refusing_api(true).await;
    let proxy = proxy_to(dir.path(), &api);
    let http = reqwest::Client::new();
    let started = Instant::now();
    let requests: Vec<_> = (0..20)
        .map(|_| {
            let (http, url) = (http.clone(), format!("{}/v4/users/self", proxy.base));
            tokio::spawn(async move { http.get(url).send().await.map(|r| r.status()) })
        })
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap().unwrap(), 502);
    }
    let took = started.elapsed();
    // Each waiting request used to try in its turn: 20 exchanges, 6 s.
    let tried = exchanges.load(Ordering::SeqCst);
    assert!(tried <= 2, "{tried} exchanges for 20 requests");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}
