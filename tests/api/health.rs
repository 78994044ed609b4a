//! Liveness and readiness.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::Value;

use crate::helpers::*;
use crate::store_double::Flaky;

#[tokio::test]
async fn live_and_ready() {
    let app = spawn_app().await;
    let live = app.get("/health/live").await;
    assert_eq!(live.status(), 200);
    assert_eq!(live.json::<Value>().await.unwrap()["status"], "UP");
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "UP");
    assert_eq!(body["checks"][0]["name"], "store");
    assert_eq!(
        body["checks"][1]["data"]["active_kid"],
        app.state.keys.signer().kid()
    );
}

#[tokio::test]
async fn ready_goes_red_and_logins_get_503_when_the_store_is_down() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let flaky = Arc::new(Flaky::new(app.state.store.clone()));
    let state = app.state.with_store(flaky.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, domino_idp::build_router(state)).await });
    let client = reqwest::Client::new();
    let status = |path: &'static str| {
        let req = client.get(format!("{base}{path}")).send();
        async move { req.await.unwrap().status() }
    };
    let login = || {
        client
            .post(format!("{base}/auth"))
            .json(&serde_json::json!({"username": "doc", "password": PASSWORD}))
            .send()
    };
    assert_eq!(status("/health/ready").await, 200);
    flaky.down.store(true, Ordering::SeqCst);
    let ready = client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "DOWN");
    assert_eq!(body["checks"][0]["status"], "DOWN");
    let token = client
        .post(format!(
            "{base}/auth/realms/DominoRealm/protocol/openid-connect/token"
        ))
        .basic_auth("domino-play", Some(CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.headers()["retry-after"], "5");
    expect_oauth_error(token, 503, "temporarily_unavailable").await;
    let resp = login().await.unwrap();
    assert_eq!(resp.headers()["retry-after"], "5");
    let err = expect_error(resp, 503).await;
    assert!(
        !err["message"]
            .as_str()
            .unwrap()
            .contains("connection refused"),
        "{err}"
    );
    assert_eq!(status("/health/live").await, 200);
    flaky.down.store(false, Ordering::SeqCst);
    assert_eq!(status("/health/ready").await, 200);
    assert_eq!(login().await.unwrap().status(), 200);
}
