//! The error bodies the issuer answers with, asserted: OAuth's (RFC 6749
//! §5.2) and the stable JSON shape of the other APIs.

use serde_json::Value;

/// Asserts an RFC 6749 §5.2 error and returns the body.
pub async fn expect_oauth_error(resp: reqwest::Response, status: u16, error: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status, "unexpected status");
    assert_eq!(
        resp.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let body: Value = resp.json().await.expect("error body is JSON");
    assert_eq!(body["error"], error, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}

/// Asserts the stable error shape and returns the body.
pub async fn expect_error(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status, "unexpected status");
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        ct.starts_with("application/json"),
        "error content-type {ct}"
    );
    let body: Value = resp.json().await.expect("error body is JSON");
    assert_eq!(body["status"], status, "{body}");
    assert!(body["error"].is_string(), "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}
