//! Every way a session ends makes its access tokens inactive at
//! introspection and 401 at userinfo at once (disabling or removing the
//! user: attacks::a_token_dies_with_its_user).

use reqwest::header::COOKIE;
use serde_json::Value;

use crate::helpers::*;
use crate::oidc_flow::*;

async fn active(app: &TestApp, token: &str) -> bool {
    app.play_introspect(token).await["active"] == true
}

async fn userinfo_status(app: &TestApp, token: &str) -> u16 {
    app.userinfo(token).await.status().as_u16()
}

async fn assert_live(app: &TestApp, token: &str) {
    assert!(active(app, token).await);
    assert_eq!(userinfo_status(app, token).await, 200);
}

async fn assert_dead(app: &TestApp, token: &str, path: &str) {
    assert!(!active(app, token).await, "{path}: still active");
    assert_eq!(userinfo_status(app, token).await, 401, "{path}");
}

/// A browser login: the code's tokens and the session cookie.
async fn browser_login(app: &TestApp) -> (Value, String) {
    let done = login_through_form(app, &[]).await;
    let code = query(&done.redirect, "code").unwrap();
    let body: Value = exchange(app, &code, VERIFIER).await.json().await.unwrap();
    (body, done.session_cookie)
}

#[tokio::test]
async fn every_logout_path_ends_the_sessions_access_tokens_at_once() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let http = no_redirects();

    // RP-initiated logout, GET with an id_token_hint of this session.
    let (body, cookie) = browser_login(&app).await;
    let at = body["access_token"].as_str().unwrap();
    assert_live(&app, at).await;
    let resp = http
        .get(app.oidc("logout"))
        .query(&[("id_token_hint", body["id_token"].as_str().unwrap())])
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        set_cookie(&resp, "KEYCLOAK_SESSION").is_some_and(|c| c == "KEYCLOAK_SESSION="),
        "the session-status cookie is removed"
    );
    assert_dead(&app, at, "end_session GET").await;

    // RP-initiated logout confirmed on the page (POST).
    let (body, cookie) = browser_login(&app).await;
    let at = body["access_token"].as_str().unwrap();
    assert_live(&app, at).await;
    let page = http
        .get(app.oidc("logout"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    let csrf_cookie = set_cookie(&page, "DOMINO_IDP_CSRF").unwrap();
    let csrf = hidden(&page.text().await.unwrap(), "csrf_token").unwrap();
    let resp = http
        .post(app.oidc("logout"))
        .header(COOKIE, format!("{cookie}; {csrf_cookie}"))
        .form(&[("confirm", "yes"), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_dead(&app, at, "end_session POST").await;

    // Keycloak's adapter logout: POST client_id + refresh_token, as
    // python-keycloak's logout() sends it (a confidential client authenticates).
    let body = app.password_grant("openid").await;
    let at = body["access_token"].as_str().unwrap();
    assert_live(&app, at).await;
    let resp = app
        .oidc_post(
            "logout",
            &[
                ("client_id", "domino-play"),
                ("client_secret", CLIENT_SECRET),
                ("refresh_token", body["refresh_token"].as_str().unwrap()),
            ],
            None,
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert_dead(&app, at, "logout with refresh_token").await;

    // Revoking the refresh token (RFC 7009) ends its session.
    let body = app.password_grant("openid").await;
    let at = body["access_token"].as_str().unwrap();
    assert_live(&app, at).await;
    let resp = app
        .oidc_post(
            "revoke",
            &[
                ("token", body["refresh_token"].as_str().unwrap()),
                ("token_type_hint", "refresh_token"),
            ],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_dead(&app, at, "revoke refresh token").await;

    // Another session of the same user is not touched by any of it.
    let other = app.password_grant("openid").await;
    assert_live(&app, other["access_token"].as_str().unwrap()).await;
}
