//! The token endpoint's errors: client authentication (`invalid_client`),
//! RFC 6749 §5.2's grant errors, and hostile requests.

use domino_idp::config::Secret;
use domino_idp::domain::client::{ClientSpec, GrantType};

use crate::helpers::*;

#[tokio::test]
async fn client_authentication_failures_are_invalid_client() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let form = [("grant_type", "client_credentials")];
    // Wrong secret via Basic: 401 with a Basic challenge.
    let resp = app
        .oidc_post(
            "token",
            &form,
            Some(("domino-play", "wrong-secret-0123456789")),
        )
        .await;
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic realm=")
    );
    expect_oauth_error(resp, 401, "invalid_client").await;
    // Unknown client.
    let resp = app
        .oidc_post("token", &form, Some(("nobody", "whatever-secret-0123")))
        .await;
    expect_oauth_error(resp, 401, "invalid_client").await;
    // Confidential client without its secret.
    let resp = app
        .oidc_post(
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "domino-play"),
            ],
            None,
        )
        .await;
    expect_oauth_error(resp, 401, "invalid_client").await;
    // No client at all.
    let resp = app.oidc_post("token", &form, None).await;
    expect_oauth_error(resp, 401, "invalid_client").await;
    // Two methods at once.
    let resp = app
        .oidc_post(
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", CLIENT_SECRET),
            ],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await;
    expect_oauth_error(resp, 400, "invalid_request").await;
}

#[tokio::test]
async fn grant_errors_follow_rfc6749() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    app.add_client(ClientSpec {
        client_id: "web".into(),
        secret: Some(Secret::new("web-secret-0123456789")),
        redirect_uris: vec!["http://127.0.0.1:9/web".into()],
        grant_types: vec![GrantType::AuthorizationCode],
        ..ClientSpec::default()
    })
    .await;
    let play = Some(("domino-play", CLIENT_SECRET));
    let web = Some(("web", "web-secret-0123456789"));
    let cases: [(&[(&str, &str)], _, &str); 8] = [
        (&[("username", "doc")], play, "invalid_request"),
        (
            &[("grant_type", "implicit")],
            play,
            "unsupported_grant_type",
        ),
        (
            &[
                ("grant_type", "password"),
                ("username", "doc"),
                ("password", PASSWORD),
            ],
            web,
            "unauthorized_client",
        ),
        (
            &[
                ("grant_type", "password"),
                ("username", "doc"),
                ("password", "nope"),
            ],
            play,
            "invalid_grant",
        ),
        (
            &[
                ("grant_type", "password"),
                ("username", "ghost"),
                ("password", "nope"),
            ],
            play,
            "invalid_grant",
        ),
        (
            &[("grant_type", "password"), ("username", "doc")],
            play,
            "invalid_request",
        ),
        (
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "garbage"),
            ],
            play,
            "invalid_grant",
        ),
        (
            &[
                ("grant_type", "authorization_code"),
                ("code", "garbage"),
                ("redirect_uri", REDIRECT_URI),
            ],
            play,
            "invalid_grant",
        ),
    ];
    for (form, client, error) in cases {
        let resp = app.oidc_post("token", form, client).await;
        expect_oauth_error(resp, 400, error).await;
    }
}

#[tokio::test]
async fn hostile_token_requests_get_clear_errors() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let url = app.oidc("token");
    let http = &app.client;
    // JSON instead of a form.
    let resp = http
        .post(&url)
        .basic_auth("domino-play", Some(CLIENT_SECRET))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    expect_oauth_error(resp, 400, "invalid_request").await;
    // Repeated parameter.
    // A form body sent as bytes, as no form encoder would write it.
    let raw_form = |body: &[u8]| {
        http.post(&url)
            .basic_auth("domino-play", Some(CLIENT_SECRET))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_vec())
            .send()
    };
    let resp = raw_form(b"grant_type=client_credentials&grant_type=password")
        .await
        .unwrap();
    let err = expect_oauth_error(resp, 400, "invalid_request").await;
    assert!(
        err["error_description"]
            .as_str()
            .unwrap()
            .contains("repeated")
    );
    // Non-UTF-8, NUL.
    for body in [&b"grant_type=%ff%fe"[..], b"grant_type=pass%00word"] {
        let resp = raw_form(body).await.unwrap();
        expect_oauth_error(resp, 400, "invalid_request").await;
    }
    // Oversized body.
    let resp = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=password&username={}",
            "x".repeat(100_000)
        ))
        .send()
        .await
        .unwrap();
    expect_oauth_error(resp, 413, "invalid_request").await;
    // Garbage Basic header and other schemes.
    for auth in ["Basic !!!notbase64", "Bearer abc", "Basic "] {
        let resp = http
            .post(&url)
            .header("authorization", auth)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        expect_oauth_error(resp, 401, "invalid_client").await;
    }
    // SQL-ish and very long usernames are just bad credentials.
    for name in ["doc' OR '1'='1", &"é".repeat(300)] {
        let resp = app
            .oidc_post(
                "token",
                &[
                    ("grant_type", "password"),
                    ("username", name),
                    ("password", "x"),
                ],
                Some(("domino-play", CLIENT_SECRET)),
            )
            .await;
        assert_eq!(resp.status(), 400);
    }
    // Unknown realm.
    let resp = http
        .post(app.url("/auth/realms/Nope/protocol/openid-connect/token"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    expect_error(resp, 404).await;
}
