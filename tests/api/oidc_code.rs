//! The authorization endpoint, the login form and the code grant over HTTP.

use domino_idp::config::Secret;
use domino_idp::domain::client::ClientSpec;
use reqwest::header::COOKIE;
use serde_json::Value;

use crate::clients::public_client;
use crate::helpers::*;
use crate::oidc_flow::*;

#[tokio::test]
async fn code_flow_with_pkce_state_and_nonce() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let done = login_through_form(&app, &[]).await;
    assert!(done.redirect.as_str().starts_with(REDIRECT_URI));
    assert_eq!(query(&done.redirect, "state").as_deref(), Some("st-123"));
    assert_eq!(query(&done.redirect, "iss"), Some(app.issuer()));
    let code = query(&done.redirect, "code").unwrap();
    let resp = exchange(&app, &code, VERIFIER).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let id = body["id_token"].as_str().unwrap();
    let jwks = app.jwks().await;
    let claims = verify_with_jwks_for(id, &jwks, &app.issuer(), "domino-play");
    assert_eq!(claims["nonce"], "n-456");
    assert!(claims["auth_time"].is_i64());
    assert_eq!(claims["sid"], body["session_state"]);

    // The code is single-use, and reusing it revokes what it produced.
    let resp = exchange(&app, &code, VERIFIER).await;
    expect_oauth_error(resp, 400, "invalid_grant").await;
    let resp = app
        .refresh_grant(body["refresh_token"].as_str().unwrap())
        .await;
    expect_oauth_error(resp, 400, "invalid_grant").await;
}

#[tokio::test]
async fn session_cookie_skips_the_form_and_prompt_none_needs_it() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let http = no_redirects();
    // prompt=none without a session: login_required at the redirect URI.
    let resp = http
        .get(authorize_url(&app, &[("prompt", "none")]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let to = location(&resp);
    assert_eq!(query(&to, "error").as_deref(), Some("login_required"));
    assert_eq!(query(&to, "state").as_deref(), Some("st-123"));

    let done = login_through_form(&app, &[]).await;
    let cookie_attrs = done.session_cookie.clone();
    assert!(cookie_attrs.starts_with("DOMINO_IDP_SESSION="));
    let resp = http
        .get(authorize_url(
            &app,
            &[("prompt", "none"), ("nonce", "again")],
        ))
        .header(COOKIE, &done.session_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302, "signed-in browser gets a code directly");
    let code = query(&location(&resp), "code").unwrap();
    assert_eq!(exchange(&app, &code, VERIFIER).await.status(), 200);
    // prompt=login forces the form even with a session.
    let resp = http
        .get(authorize_url(&app, &[("prompt", "login")]))
        .header(COOKIE, &done.session_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn session_cookie_is_httponly_and_lax() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let (resp, _) = submit_login(&authorize_url(&app, &[]), PASSWORD).await;
    let raw = set_cookie_header(&resp, "DOMINO_IDP_SESSION").unwrap();
    assert!(raw.contains("HttpOnly"), "{raw}");
    assert!(raw.contains("SameSite=Lax"), "{raw}");
    assert!(raw.contains("Path=/auth/realms/DominoRealm/"), "{raw}");
    assert!(!raw.contains("Secure"), "plain-http issuer: {raw}");
}

async fn code_for(app: &TestApp) -> String {
    let done = login_through_form(app, &[]).await;
    query(&done.redirect, "code").unwrap()
}

#[tokio::test]
async fn code_exchange_errors() {
    let app = spawn_with(|c| c.code_ttl = 1).await;
    app.add_doc_and_play().await;
    app.add_client(ClientSpec {
        client_id: "other".into(),
        secret: Some(Secret::new("other-secret-0123456789")),
        redirect_uris: vec![REDIRECT_URI.into()],
        ..ClientSpec::default()
    })
    .await;
    // PKCE mismatch.
    let code = code_for(&app).await;
    let wrong = "x".repeat(43);
    expect_oauth_error(exchange(&app, &code, &wrong).await, 400, "invalid_grant").await;
    // A code is spent by a failed attempt, too.
    expect_oauth_error(exchange(&app, &code, VERIFIER).await, 400, "invalid_grant").await;
    // Missing verifier.
    let code = code_for(&app).await;
    let resp = code_grant(
        &app,
        &code,
        &[("redirect_uri", REDIRECT_URI)],
        Some(("domino-play", CLIENT_SECRET)),
    )
    .await;
    expect_oauth_error(resp, 400, "invalid_grant").await;
    // Code from another client.
    let code = code_for(&app).await;
    let resp = code_grant(
        &app,
        &code,
        &[("redirect_uri", REDIRECT_URI), ("code_verifier", VERIFIER)],
        Some(("other", "other-secret-0123456789")),
    )
    .await;
    expect_oauth_error(resp, 400, "invalid_grant").await;
    // redirect_uri mismatch.
    let code = code_for(&app).await;
    let resp = code_grant(
        &app,
        &code,
        &[
            ("redirect_uri", "http://127.0.0.1:9/elsewhere"),
            ("code_verifier", VERIFIER),
        ],
        Some(("domino-play", CLIENT_SECRET)),
    )
    .await;
    expect_oauth_error(resp, 400, "invalid_grant").await;
    // Expired code (code_ttl = 1 s).
    let code = code_for(&app).await;
    app.clock.advance(std::time::Duration::from_millis(2100));
    expect_oauth_error(exchange(&app, &code, VERIFIER).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn untrusted_client_or_redirect_gets_a_page_never_a_redirect() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let http = no_redirects();
    for extra in [
        vec![("client_id", "nobody")],
        vec![("client_id", "bad id<>")],
        vec![("redirect_uri", "https://evil.example/cb")],
        vec![("redirect_uri", "http://127.0.0.1:9/callback/")],
        vec![("redirect_uri", "")],
        vec![("client_id", "")],
    ] {
        let resp = http.get(authorize_url(&app, &extra)).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{extra:?}");
        assert!(resp.headers().get("location").is_none(), "{extra:?}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert_eq!(resp.headers()["x-frame-options"], "DENY");
    }
}

#[tokio::test]
async fn bad_requests_from_a_trusted_client_go_back_with_an_error() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    app.add_client(public_client("spa")).await;
    let http = no_redirects();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("response_type", "")], "invalid_request"),
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge_method", "")], "invalid_request"),
        (vec![("code_challenge", "short")], "invalid_request"),
        (
            vec![
                ("client_id", "spa"),
                ("code_challenge", ""),
                ("code_challenge_method", ""),
            ],
            "invalid_request",
        ),
        (vec![("response_mode", "form_post")], "invalid_request"),
        (vec![("max_age", "-1")], "invalid_request"),
        (vec![("request", "eyJ")], "request_not_supported"),
    ];
    for (extra, error) in cases {
        let resp = http.get(authorize_url(&app, &extra)).send().await.unwrap();
        assert_eq!(resp.status(), 302, "{extra:?}");
        let to = location(&resp);
        assert!(to.as_str().starts_with(REDIRECT_URI));
        assert_eq!(query(&to, "error").as_deref(), Some(error), "{extra:?}");
        assert_eq!(query(&to, "state").as_deref(), Some("st-123"));
    }
}

#[tokio::test]
async fn public_client_with_pkce_gets_tokens_without_a_secret() {
    let app = spawn_app().await;
    app.add_doc().await;
    app.add_client(public_client("domino-play")).await;
    let done = login_through_form(&app, &[]).await;
    let code = query(&done.redirect, "code").unwrap();
    let resp = app
        .oidc_post(
            "token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "domino-play"),
                ("code", &code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", VERIFIER),
            ],
            None,
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body["refresh_token"].is_string());
}

#[tokio::test]
async fn wrong_password_and_missing_csrf_reshow_the_form() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let (resp, _) = submit_login(&authorize_url(&app, &[]), "wrong password").await;
    assert_eq!(resp.status(), 401);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Invalid username or password."));
    assert!(html.contains("name=\"username\" value=\"doc\""));

    // A cross-site POST without the CSRF cookie is refused.
    let resp = no_redirects()
        .post(format!("{}/login-actions/authenticate", app.issuer()))
        .form(&[
            ("client_id", "domino-play"),
            ("redirect_uri", REDIRECT_URI),
            ("response_type", "code"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("csrf_token", "forged"),
            ("username", "doc"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.text().await.unwrap().contains("expired"));
}

#[tokio::test]
async fn the_login_page_escapes_what_it_echoes() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let evil = "\"><script>alert(1)</script>";
    let resp = no_redirects()
        .get(authorize_url(
            &app,
            &[("state", evil), ("login_hint", evil)],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"));
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));
}

#[tokio::test]
async fn fragment_response_mode_for_keycloak_js() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let done = login_through_form(&app, &[("response_mode", "fragment")]).await;
    assert!(done.redirect.query().is_none(), "{}", done.redirect);
    let fragment =
        url::Url::parse(&format!("http://x/?{}", done.redirect.fragment().unwrap())).unwrap();
    assert_eq!(query(&fragment, "state").as_deref(), Some("st-123"));
    let code = query(&fragment, "code").unwrap();
    assert_eq!(exchange(&app, &code, VERIFIER).await.status(), 200);
}

#[tokio::test]
async fn cookies_are_secure_when_the_issuer_is_https() {
    let app = spawn_with(|c| c.public_url = Some("https://idp.example.com".into())).await;
    app.add_doc().await;
    app.add_client(ClientSpec {
        client_id: "domino-play".into(),
        secret: Some(Secret::new(CLIENT_SECRET)),
        redirect_uris: vec![REDIRECT_URI.into()],
        ..ClientSpec::default()
    })
    .await;
    // The page is fetched from the real listener; only the issuer says https.
    let mut url = authorize_url(&app, &[]);
    url.set_path("/auth/realms/DominoRealm/protocol/openid-connect/auth");
    let resp = no_redirects().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let csrf = set_cookie_header(&resp, "DOMINO_IDP_CSRF").unwrap();
    assert!(csrf.contains("Secure"), "{csrf}");
    assert!(
        csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict"),
        "{csrf}"
    );
}
