//! The token endpoint: each grant's happy path and the RFC 6749 §5.2 errors.

use domino_idp::config::Secret;
use domino_idp::domain::client::ClientSpec;
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

mod errors;
