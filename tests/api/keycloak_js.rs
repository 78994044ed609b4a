//! keycloak-js 26 (tests/node, unmodified) with default options in headless
//! Chromium, driven by Python Playwright (keycloak_js.py): the app page is
//! served by this test from an origin of its own; the issuer is the real
//! binary, its client (with `web_origins` from the config file) the app's.
//! Login through our page (PKCE, fragment response mode, the third-party
//! cookie check, the session iframe, a credentialed CORS code exchange),
//! `updateToken(-1)`, `logout()`; afterwards every token the app held is
//! inactive. Needs tests/node/node_modules and Playwright (scripts/test.sh).

use std::path::PathBuf;

use axum::Router;
use axum::http::header;
use axum::response::Html;
use axum::routing::get;
use serde_json::Value;

use crate::helpers::*;
use crate::process::ServerProcess;
use crate::python::{chromium, output_of, python_script};
use crate::seeded::{Http, config};

/// The app: one page that loads keycloak-js as a module and signs in.
fn index(issuer_base: &str) -> String {
    format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><title>keycloak-js app</title></head>
<body><p>keycloak-js app</p>
<script type="module">
import Keycloak from "./keycloak.js";
const keycloak = new Keycloak({{ url: "{issuer_base}/auth", realm: "DominoRealm", clientId: "kcjs-app" }});
window.keycloak = keycloak;
keycloak.init({{ onLoad: "login-required", pkceMethod: "S256" }}).then(
  (authenticated) => {{ window.kcResult = {{ authenticated }}; }},
  (error) => {{ window.kcResult = {{ error: String((error && (error.error || error.message)) || error) }}; }}
);
</script></body></html>"#
    )
}

/// Serves the app on a port-0 listener; returns its origin and the setter
/// for the page (which must name the issuer, started after this).
async fn app_server() -> (String, std::sync::Arc<std::sync::OnceLock<String>>) {
    let lib = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/node/node_modules/keycloak-js/lib/keycloak.js");
    let script = std::fs::read_to_string(&lib)
        .expect("tests/node/node_modules is missing: run the suite through scripts/test.sh");
    let page = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let served = page.clone();
    let app = Router::new()
        .route(
            "/",
            get(move || {
                let served = served.clone();
                async move { Html(served.get().cloned().unwrap_or_default()) }
            }),
        )
        .route(
            "/keycloak.js",
            get(move || {
                let script = script.clone();
                async move { ([(header::CONTENT_TYPE, "text/javascript")], script) }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), page)
}

#[tokio::test]
async fn keycloak_js_with_default_options_logs_in_refreshes_and_logs_out() {
    let (app_origin, page) = app_server().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cfg = config(
        dir,
        &format!(
            r#"
[[clients]]
client_id = "kcjs-app"
public = true
redirect_uris = ["{app_origin}/"]
post_logout_redirect_uris = ["{app_origin}/"]
web_origins = ["{app_origin}"]
"#
        ),
    );
    let server = ServerProcess::start(dir, &cfg);
    page.set(index(&server.url(""))).unwrap();

    let app_url = format!("{app_origin}/");
    let mut cmd = python_script("keycloak_js.py");
    cmd.args([app_url.as_str(), "doc", PASSWORD])
        .env("IDP_TEST_CHROMIUM", chromium());
    let output = output_of(cmd, "Playwright").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "keycloak-js in Chromium failed:\n{}\n{stdout}\n--- issuer log ---\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    let seen: Value = serde_json::from_str(&stdout).expect("keycloak_js.py prints JSON");
    let login = &seen["login"];
    assert_eq!(login["username"], "doc");
    assert_eq!(login["allowedOrigins"], serde_json::json!([app_origin]));

    // logout() ended the session: nothing the app held still counts.
    let api = Http::of(&server);
    for token in [&login["token"], &seen["refresh"]["token"]] {
        let token = token.as_str().unwrap();
        assert_eq!(api.introspect(token).await["active"], false);
        assert_eq!(api.userinfo(token).await.0, 401);
    }
    for rt in [&login["refreshToken"], &seen["refresh"]["refreshToken"]] {
        let resp = api
            .http
            .post(api.oidc("token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", "kcjs-app"),
                ("refresh_token", rt.as_str().unwrap()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
    }
}
