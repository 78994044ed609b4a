//! Web origins (Keycloak's `webOrigins`): CORS with credentials on the
//! endpoints browser apps call, preflights everywhere a browser needs one,
//! `allowed-origins` in access tokens, and the pages keycloak-js embeds
//! (the third-party cookie check and the session iframe with its init).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domino_idp::domain::client::ClientSpec;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::*;
use crate::oidc_flow::*;

const SPA: &str = "http://127.0.0.1:7/app";
const NAMED: &str = "https://app.example";
const ANY: &str = "https://anyone.example";

/// A public SPA naming one extra origin, and a client that allows any.
async fn clients(app: &TestApp) {
    app.add_doc_and_play().await;
    app.add_client(ClientSpec {
        client_id: "spa".into(),
        public: true,
        redirect_uris: vec![format!("{SPA}/")],
        web_origins: vec!["+".into(), NAMED.into()],
        ..ClientSpec::default()
    })
    .await;
    app.add_client(ClientSpec {
        client_id: "anywhere".into(),
        public: true,
        redirect_uris: vec!["http://127.0.0.1:8/cb".into()],
        web_origins: vec!["*".into()],
        ..ClientSpec::default()
    })
    .await;
}

async fn preflight(app: &TestApp, url: &str, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, url)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn credentials_only_for_named_origins_and_preflights_everywhere() {
    let app = spawn_app().await;
    clients(&app).await;
    let spa_origin = "http://127.0.0.1:7";
    for endpoint in ["token", "userinfo", "revoke", "logout", "token/introspect"] {
        let url = app.oidc(endpoint);
        for origin in [spa_origin, NAMED] {
            let resp = preflight(&app, &url, origin).await;
            assert_eq!(resp.status(), 200, "{endpoint}");
            assert_eq!(header(&resp, "access-control-allow-origin"), Some(origin));
            assert_eq!(
                header(&resp, "access-control-allow-credentials"),
                Some("true"),
                "{endpoint} {origin}"
            );
            let headers = header(&resp, "access-control-allow-headers").unwrap();
            assert!(headers.contains("Authorization"), "{headers}");
            assert!(
                header(&resp, "access-control-allow-methods")
                    .unwrap()
                    .contains("POST")
            );
        }
        // Allowed only through a client's `*`: echoed, never with credentials.
        let resp = preflight(&app, &url, ANY).await;
        assert_eq!(header(&resp, "access-control-allow-origin"), Some(ANY));
        assert_eq!(header(&resp, "access-control-allow-credentials"), None);
        // `null` (sandboxed frames, file: pages): nothing.
        let resp = preflight(&app, &url, "null").await;
        assert_eq!(header(&resp, "access-control-allow-origin"), None);
        assert_eq!(header(&resp, "access-control-allow-credentials"), None);
    }
    // The real response carries them too (keycloak-js's code exchange).
    let resp = app
        .client
        .post(app.oidc("token"))
        .header("origin", spa_origin)
        .form(&[
            ("grant_type", "password"),
            ("username", "doc"),
            ("password", PASSWORD),
            ("client_id", "domino-play"),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "access-control-allow-origin"),
        Some(spa_origin)
    );
    assert_eq!(
        header(&resp, "access-control-allow-credentials"),
        Some("true")
    );
    assert!(header(&resp, "vary").unwrap().contains("Origin"));
    // The public documents: any origin, no credentials, preflight answered.
    let realm = app.issuer();
    for url in [
        app.oidc("certs"),
        format!("{realm}/.well-known/openid-configuration"),
        app.url("/.well-known/openid-configuration"),
        realm.clone(),
    ] {
        let resp = app
            .client
            .request(Method::OPTIONS, &url)
            .header("origin", ANY)
            .header("access-control-request-method", "GET")
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{url}: {}", resp.status());
        assert_eq!(
            header(&resp, "access-control-allow-origin"),
            Some("*"),
            "{url}"
        );
        assert_eq!(header(&resp, "access-control-allow-credentials"), None);
    }
}

#[tokio::test]
async fn access_tokens_name_the_clients_allowed_origins() {
    let app = spawn_app().await;
    clients(&app).await;
    let body = app.password_grant("openid").await;
    let claims = verify_with_jwks(
        body["access_token"].as_str().unwrap(),
        &app.jwks().await,
        &app.issuer(),
    );
    // domino-play's `+`: its redirect URI's origin.
    assert_eq!(
        claims["allowed-origins"],
        serde_json::json!(["http://127.0.0.1:9"])
    );
}

#[tokio::test]
async fn the_session_iframe_init_answers_for_the_clients_origins_only() {
    let app = spawn_app().await;
    clients(&app).await;
    let init = |client: &str, origin: &str| {
        app.client
            .get(app.oidc("login-status-iframe.html/init"))
            .query(&[("client_id", client), ("origin", origin)])
            .send()
    };
    for (client, origin, status) in [
        ("spa", "http://127.0.0.1:7", 204),
        ("spa", NAMED, 204),
        ("spa", ANY, 403),
        ("spa", "null", 403),
        ("spa", "http://127.0.0.1:9", 403),
        ("domino-play", "http://127.0.0.1:9", 204),
        ("anywhere", ANY, 204),
        ("no-such-client", NAMED, 403),
    ] {
        let resp = init(client, origin).await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{client} {origin}");
    }
    let resp = app
        .client
        .get(app.oidc("login-status-iframe.html/init"))
        .query(&[("client_id", "spa")])
        .send()
        .await
        .unwrap();
    expect_oauth_error(resp, 400, "invalid_request").await;
}

#[tokio::test]
async fn keycloak_js_pages_are_served_with_their_scripts_apart() {
    let app = spawn_app().await;
    for (page, script) in [
        ("3p-cookies/step1.html", "3p-cookies/step1.js"),
        ("3p-cookies/step2.html", "3p-cookies/step2.js"),
        ("login-status-iframe.html", "login-status-iframe.js"),
    ] {
        let resp = app.client.get(app.oidc(page)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{page}");
        assert!(
            header(&resp, "content-type")
                .unwrap()
                .starts_with("text/html")
        );
        let csp = header(&resp, "content-security-policy").unwrap().to_owned();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("frame-ancestors"),
            "{csp}"
        );
        assert!(
            header(&resp, "x-frame-options").is_none(),
            "other sites frame it"
        );
        let html = resp.text().await.unwrap();
        let name = script.rsplit('/').next().unwrap();
        assert!(
            html.contains(&format!("<script src=\"{name}\"></script>")),
            "{html}"
        );
        assert_eq!(html.matches("<script").count(), 1, "no inline script");
        let js = app.client.get(app.oidc(script)).send().await.unwrap();
        assert_eq!(js.status(), 200, "{script}");
        assert!(
            header(&js, "content-type")
                .unwrap()
                .starts_with("text/javascript")
        );
        assert_eq!(header(&js, "x-content-type-options"), Some("nosniff"));
    }
    // The realm must exist, as for every realm page.
    let other = app
        .client
        .get(app.url("/auth/realms/Other/protocol/openid-connect/login-status-iframe.html"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}

/// The session-status cookie the iframe's script reads: not HttpOnly,
/// base64url(SHA-256(session id)), scoped to the realm.
#[tokio::test]
async fn login_sets_the_session_status_cookie() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let (resp, _) = submit_login(&authorize_url(&app, &[]), PASSWORD).await;
    assert_eq!(resp.status(), 303);
    let raw = set_cookie_header(&resp, "KEYCLOAK_SESSION").expect("KEYCLOAK_SESSION is set");
    assert!(!raw.to_ascii_lowercase().contains("httponly"), "{raw}");
    assert!(raw.contains("Path=/auth/realms/DominoRealm/"), "{raw}");
    let value = raw
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("KEYCLOAK_SESSION=");
    let code = query(&location(&resp), "code").unwrap();
    let body: Value = exchange(&app, &code, VERIFIER).await.json().await.unwrap();
    let sid = body["session_state"].as_str().unwrap();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, sid.as_bytes());
    assert_eq!(value, URL_SAFE_NO_PAD.encode(digest.as_ref()));
}
