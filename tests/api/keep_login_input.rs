//! Hostile and malformed input to `POST /auth`: every case gets a clear 4xx
//! in the one error shape, never a 500, and nothing is written.

use serde_json::json;

use crate::helpers::*;

async fn raw(app: &TestApp, content_type: Option<&str>, body: Vec<u8>) -> reqwest::Response {
    let mut req = app.client.post(app.url("/auth")).body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    req.send().await.unwrap()
}

const JSON: Option<&str> = Some("application/json");
const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

#[tokio::test]
async fn malformed_bodies_get_400() {
    let app = spawn_app().await;
    app.add_doc().await;
    let cases: Vec<(Option<&str>, Vec<u8>)> = vec![
        (JSON, b"".to_vec()),
        (JSON, b"   ".to_vec()),
        (JSON, b"{".to_vec()),
        (JSON, b"null".to_vec()),
        (JSON, b"[]".to_vec()),
        (JSON, b"\"doc\"".to_vec()),
        (JSON, br#"{"username":"doc"}"#.to_vec()),
        (JSON, br#"{"password":"x"}"#.to_vec()),
        (JSON, br#"{"username":1,"password":"x"}"#.to_vec()),
        (JSON, br#"{"username":"doc","password":null}"#.to_vec()),
        (JSON, br#"{"username":"doc","password":["x"]}"#.to_vec()),
        (
            JSON,
            br#"{"username":"doc","password":"x","expSeconds":"soon"}"#.to_vec(),
        ),
        (
            JSON,
            br#"{"username":"doc","password":"x","expSeconds":-1}"#.to_vec(),
        ),
        (
            JSON,
            br#"{"username":"doc","username":"x","password":"y"}"#.to_vec(),
        ),
        (
            JSON,
            b"{\"username\":\"d\xffoc\",\"password\":\"x\"}".to_vec(),
        ),
        (JSON, br#"{"username":"","password":"x"}"#.to_vec()),
        (JSON, br#"{"username":"doc","password":""}"#.to_vec()),
        (JSON, br#"{"username":"do\u0000c","password":"x"}"#.to_vec()),
        (JSON, br#"{"username":"do\nc","password":"x"}"#.to_vec()),
        (
            JSON,
            br#"{"username":"doc\u001b[31m","password":"x"}"#.to_vec(),
        ),
        (
            JSON,
            br#"{"username":"doc","password":"x","scope":"MAIL\r\nX-Evil: 1"}"#.to_vec(),
        ),
        (FORM, b"username=doc".to_vec()),
        (FORM, b"username=doc&password=x&username=other".to_vec()),
        (FORM, b"username=doc&password=x&expSeconds=abc".to_vec()),
        (FORM, b"username=do%00c&password=x".to_vec()),
    ];
    for (ct, body) in cases {
        let shown = String::from_utf8_lossy(&body).into_owned();
        let resp = raw(&app, ct, body).await;
        assert_eq!(resp.status(), 400, "body {shown:?}");
        let err = expect_error(resp, 400).await;
        let msg = err["message"].as_str().unwrap();
        assert!(!msg.contains("src/") && !msg.contains("panicked"), "{msg}");
    }
}

#[tokio::test]
async fn wrong_or_missing_content_type_gets_415() {
    let app = spawn_app().await;
    let body = json!({"username": "doc", "password": "x"})
        .to_string()
        .into_bytes();
    for ct in [
        None,
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonp"),
        Some(""),
    ] {
        let resp = raw(&app, ct, body.clone()).await;
        expect_error(resp, 415).await;
    }
}

#[tokio::test]
async fn oversized_body_gets_413() {
    let app = spawn_app().await;
    let big = json!({"username": "doc", "password": "x".repeat(200 * 1024)}).to_string();
    let resp = raw(&app, JSON, big.into_bytes()).await;
    let err = expect_error(resp, 413).await;
    assert!(err["message"].as_str().unwrap().contains("65536"), "{err}");
}

#[tokio::test]
async fn very_long_fields_get_400_not_a_hash() {
    let app = spawn_app().await;
    app.add_doc().await;
    let cases = [
        json!({"username": "d".repeat(300), "password": "x"}),
        json!({"username": "doc", "password": "p".repeat(2000)}),
        json!({"username": "doc", "password": PASSWORD, "scope": "S ".repeat(3000)}),
    ];
    for body in cases {
        expect_error(app.post_json("/auth", &body).await, 400).await;
    }
}

#[tokio::test]
async fn injection_attempts_are_just_wrong_credentials() {
    let app = spawn_app().await;
    app.add_doc().await;
    for name in [
        "doc' OR '1'='1",
        "doc\"; DROP TABLE users; --",
        "<script>alert(1)</script>",
        "%00",
        "doc@projectkeep.io' --",
        "\u{202e}cod",
    ] {
        let body = expect_error(app.login(name, PASSWORD).await, 401).await;
        assert!(!body.to_string().contains("<script>"), "{body}");
    }
    // The store is intact: the real user still logs in and nothing was added.
    assert_eq!(app.login("doc", PASSWORD).await.status(), 200);
    assert_eq!(app.state.store.list_users().await.unwrap().len(), 1);
}

#[tokio::test]
async fn wrong_method_and_unknown_paths_get_json_errors() {
    let app = spawn_app().await;
    expect_error(app.get("/auth").await, 405).await;
    let resp = app
        .client
        .put(app.url("/api/v1/auth"))
        .send()
        .await
        .unwrap();
    expect_error(resp, 405).await;
    expect_error(app.get("/nope").await, 404).await;
    expect_error(app.get("/auth/realms/DominoRealm/account").await, 404).await;
}
