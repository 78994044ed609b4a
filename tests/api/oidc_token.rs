//! The token endpoint: each grant's happy path and the RFC 6749 §5.2 errors.

use domino_idp::config::Secret;
use domino_idp::domain::client::{ClientSpec, GrantType};
use serde_json::Value;

use crate::clients::{SVC_SECRET, svc_client};
use crate::helpers::*;

#[tokio::test]
async fn password_grant_returns_keycloak_fields_and_an_id_token() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let body = app.password_grant("openid profile email $DATA ADMIN").await;
    for field in [
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_expires_in",
        "token_type",
        "id_token",
        "not-before-policy",
        "session_state",
        "scope",
    ] {
        assert!(body.get(field).is_some(), "missing {field}: {body}");
    }
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "openid profile email $DATA");
    let jwks = app.jwks().await;
    let access = verify_with_jwks(body["access_token"].as_str().unwrap(), &jwks, &app.issuer());
    assert_eq!(access["azp"], "domino-play");
    assert_eq!(access["sub"], "CN=Doctor Notes/O=ProjectKeep");
    assert_eq!(access["sid"], body["session_state"]);
    let id = verify_with_jwks_for(
        body["id_token"].as_str().unwrap(),
        &jwks,
        &app.issuer(),
        "domino-play",
    );
    assert_eq!(id["azp"], "domino-play");
    assert_eq!(id["sub"], access["sub"]);
    assert_eq!(id["email"], "doctor.notes@projectkeep.io");
    assert_eq!(id["preferred_username"], "doc");
    assert!(id["auth_time"].is_i64());
    // at_hash: left half of SHA-256 of the access token, base64url.
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        body["access_token"].as_str().unwrap().as_bytes(),
    );
    use base64::Engine;
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16]);
    assert_eq!(id["at_hash"], expected);
}

#[tokio::test]
async fn without_openid_there_is_no_id_token_and_secret_post_works() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let resp = app
        .oidc_post(
            "token",
            &[
                ("grant_type", "password"),
                ("client_id", "domino-play"),
                ("client_secret", CLIENT_SECRET),
                ("username", "doctor.notes@projectkeep.io"),
                ("password", PASSWORD),
            ],
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("id_token").is_none());
    // No scope asked: the user's own scopes plus profile and email.
    assert_eq!(body["scope"], "MAIL $DATA profile email");
}

#[tokio::test]
async fn client_credentials_acts_for_the_client() {
    let app = spawn_app().await;
    app.add_client(ClientSpec {
        default_scopes: vec!["api.read".into(), "api.write".into()],
        ..svc_client()
    })
    .await;
    let resp = app
        .oidc_post(
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "api.read admin"),
            ],
            Some(("svc", SVC_SECRET)),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("refresh_token").is_none());
    assert!(body.get("id_token").is_none());
    assert_eq!(body["scope"], "api.read");
    let claims = verify_with_jwks(
        body["access_token"].as_str().unwrap(),
        &app.jwks().await,
        &app.issuer(),
    );
    assert_eq!(claims["sub"], "svc");
    assert_eq!(claims["client_id"], "svc");
    assert_eq!(claims["azp"], "svc");
}

#[tokio::test]
async fn refresh_rotates_and_a_replay_revokes_the_family() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let first = app.password_grant("openid MAIL").await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let refresh = |token: String, scope: &'static str| {
        let app = &app;
        async move {
            app.oidc_post(
                "token",
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &token),
                    ("scope", scope),
                ],
                Some(("domino-play", CLIENT_SECRET)),
            )
            .await
        }
    };
    let resp = refresh(r1.to_owned(), "").await;
    assert_eq!(resp.status(), 200);
    let second: Value = resp.json().await.unwrap();
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2, "rotated");
    assert_eq!(second["scope"], "openid MAIL");
    assert!(second["id_token"].is_string());
    assert_eq!(second["session_state"], first["session_state"]);

    // Widening is refused without spending the token; narrowing is allowed.
    let resp = refresh(r2.clone(), "MAIL $DATA").await;
    expect_oauth_error(resp, 400, "invalid_scope").await;
    let resp = refresh(r2, "MAIL").await;
    assert_eq!(resp.status(), 200);
    let narrowed: Value = resp.json().await.unwrap();
    assert_eq!(narrowed["scope"], "MAIL");
    assert!(
        narrowed.get("id_token").is_none(),
        "openid was narrowed away"
    );

    // A fresh family: replaying a rotated token kills its successor.
    let third = app.password_grant("openid").await;
    let a = third["refresh_token"].as_str().unwrap().to_owned();
    let resp = refresh(a.clone(), "").await;
    let b = resp.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = refresh(a, "").await;
    let err = expect_oauth_error(resp, 400, "invalid_grant").await;
    assert!(
        err["error_description"]
            .as_str()
            .unwrap()
            .contains("already been used")
    );
    let resp = refresh(b, "").await;
    expect_oauth_error(resp, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_disabled_user_cannot_refresh() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let body = app.password_grant("openid").await;
    app.state.store.set_enabled("doc", false).await.unwrap();
    let resp = app
        .refresh_grant(body["refresh_token"].as_str().unwrap())
        .await;
    expect_oauth_error(resp, 400, "invalid_grant").await;
}

#[tokio::test]
async fn refresh_tokens_are_bound_to_their_client() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    app.add_client(ClientSpec {
        client_id: "other".into(),
        secret: Some(Secret::new("other-secret-0123456789")),
        redirect_uris: vec!["http://127.0.0.1:9/other".into()],
        ..ClientSpec::default()
    })
    .await;
    let body = app.password_grant("openid").await;
    let resp = app
        .oidc_post(
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", body["refresh_token"].as_str().unwrap()),
            ],
            Some(("other", "other-secret-0123456789")),
        )
        .await;
    expect_oauth_error(resp, 400, "invalid_grant").await;
}

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
    let resp = http
        .post(&url)
        .basic_auth("domino-play", Some(CLIENT_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&grant_type=password")
        .send()
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
        let resp = http
            .post(&url)
            .basic_auth("domino-play", Some(CLIENT_SECRET))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
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
