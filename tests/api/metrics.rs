//! `GET /metrics`: Prometheus text with bounded labels.

use crate::clients::svc_client;
use crate::helpers::*;

async fn scrape(app: &TestApp) -> String {
    let resp = app.get("/metrics").await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    resp.text().await.unwrap()
}

fn value(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or(0)
}

#[tokio::test]
async fn counts_requests_tokens_reuse_and_revocations() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    app.add_client(svc_client()).await;
    assert_eq!(app.login("doc", PASSWORD).await.status(), 200);
    let resp = app
        .oidc_post(
            "token",
            &[
                ("grant_type", "password"),
                ("username", "doc"),
                ("password", "wrong"),
            ],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await;
    assert_eq!(resp.status(), 400);
    let body = app.password_grant("openid").await;
    let rt = body["refresh_token"].as_str().unwrap();
    assert_eq!(app.refresh_grant(rt).await.status(), 200);
    assert_eq!(app.refresh_grant(rt).await.status(), 400, "replay");
    let resp = app.svc_grant().await;
    assert_eq!(resp.status(), 200);
    let resp = app
        .oidc_post(
            "revoke",
            &[("token", body["access_token"].as_str().unwrap())],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await;
    assert_eq!(resp.status(), 200);
    for _ in 0..3 {
        app.get("/wp-admin/../../etc/passwd").await;
    }

    let text = scrape(&app).await;
    assert_eq!(
        value(&text, r#"domino_idp_tokens_issued_total{grant="password"}"#),
        1
    );
    assert_eq!(
        value(&text, r#"domino_idp_tokens_issued_total{grant="keep"}"#),
        1
    );
    assert_eq!(
        value(
            &text,
            r#"domino_idp_logins_total{path="keep",outcome="success"}"#
        ),
        1
    );
    assert_eq!(
        value(
            &text,
            r#"domino_idp_logins_total{path="password_grant",outcome="failure"}"#
        ),
        1
    );
    assert_eq!(
        value(
            &text,
            r#"domino_idp_tokens_issued_total{grant="refresh_token"}"#
        ),
        1
    );
    assert_eq!(
        value(
            &text,
            r#"domino_idp_tokens_issued_total{grant="client_credentials"}"#
        ),
        1
    );
    assert_eq!(value(&text, "domino_idp_refresh_token_reuse_total"), 1);
    assert_eq!(
        value(&text, r#"domino_idp_revocations_total{kind="access"}"#),
        1
    );
    assert_eq!(
        value(
            &text,
            r#"domino_idp_http_requests_total{route="/auth",method="POST",status="200"}"#
        ),
        1
    );
    assert!(text.contains(r#"route="unmatched",method="GET",status="404""#));
    assert!(!text.contains("wp-admin"), "raw paths never become labels");
    assert!(text.contains("domino_idp_http_request_duration_seconds_bucket"));
    assert!(text.contains("domino_idp_signing_key_age_seconds "));
    assert!(text.trim_end().ends_with("# EOF"));
}
