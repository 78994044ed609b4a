//! A person signing in with a real browser: headless Chromium (Debian's
//! `chromium`, driven by Python Playwright through `browser_login.py`) walks
//! the authorization code flow against a client whose redirect URI is a
//! listener of this test; the test then redeems the codes like the client's
//! backend would. `.ci/run` installs Chromium; `scripts/test.sh` installs
//! Playwright into the venv. A missing browser fails the test.

use std::path::Path;

use aws_lc_rs::digest::{SHA256, digest};
use axum::Router;
use axum::extract::RawQuery;
use axum::response::Html;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domino_idp::config::Secret;
use domino_idp::domain::client::ClientSpec;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::helpers::*;
use crate::oidc_flow::code_grant;
use crate::python::{chromium, output_of, python_script};

const CLIENT_ID: &str = "browser-app";
const SECRET: &str = "browser-secret-0123456789";

/// `len` random URL-safe characters (a state, a nonce, a PKCE verifier).
fn random(len: usize) -> String {
    let mut bytes = vec![0; len];
    aws_lc_rs::rand::fill(&mut bytes).expect("random bytes");
    let mut text = URL_SAFE_NO_PAD.encode(bytes);
    text.truncate(len);
    text
}

/// `BASE64URL(SHA-256(input))`, or its left half (`at_hash`, OIDC Core §3.1.3.6).
fn sha256_b64(input: &str, half: bool) -> String {
    let hash = digest(&SHA256, input.as_bytes());
    let bytes = hash.as_ref();
    URL_SAFE_NO_PAD.encode(if half { &bytes[..16] } else { bytes })
}

/// The client's redirect URI: records each callback's query and shows a page.
async fn callback_listener() -> (String, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = Router::new().route(
        "/callback",
        get(move |RawQuery(query): RawQuery| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(query.unwrap_or_default());
                Html("<!doctype html><title>Signed in</title><p>Back at the client.</p>")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("callback listener binds");
    let addr = listener.local_addr().expect("callback addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/callback"), rx)
}

/// One authorization request: its URL and the secrets the client keeps.
struct AuthRequest {
    url: String,
    state: String,
    nonce: String,
    verifier: String,
}

fn authorization_request(app: &TestApp, redirect_uri: &str) -> AuthRequest {
    let state = random(24);
    let nonce = random(24);
    let verifier = random(64);
    let url = url::Url::parse_with_params(
        &app.oidc("auth"),
        [
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", redirect_uri),
            ("scope", "openid profile email"),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", &sha256_b64(&verifier, false)),
            ("code_challenge_method", "S256"),
        ],
    )
    .expect("authorize URL")
    .to_string();
    AuthRequest {
        url,
        state,
        nonce,
        verifier,
    }
}

/// Redeems the code in `query` (the callback's) for `req`; returns the ID
/// token's claims after the client-side checks.
async fn redeem(app: &TestApp, query: &str, req: &AuthRequest, redirect_uri: &str) -> Value {
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("callback query");
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("callback has no {name}: {query}"))
    };
    assert_eq!(param("state"), req.state, "{query}");
    assert_eq!(param("iss"), app.issuer(), "{query}");
    let code = param("code");

    let resp = code_grant(
        app,
        &code,
        &[
            ("redirect_uri", redirect_uri),
            ("code_verifier", &req.verifier),
        ],
        Some((CLIENT_ID, SECRET)),
    )
    .await;
    assert_eq!(resp.status(), 200, "code exchange");
    let body: Value = resp.json().await.expect("token response");
    let access = body["access_token"].as_str().expect("access_token");
    assert!(body["refresh_token"].is_string(), "{body}");
    let id_token = body["id_token"].as_str().expect("id_token");
    let claims = verify_with_jwks_for(id_token, &app.jwks().await, &app.issuer(), CLIENT_ID);
    assert_eq!(claims["nonce"], req.nonce.as_str(), "{claims}");
    assert_eq!(claims["azp"], CLIENT_ID, "{claims}");
    assert_eq!(claims["at_hash"], sha256_b64(access, true), "{claims}");
    assert!(claims["auth_time"].is_i64(), "{claims}");
    assert!(claims["sid"].is_string(), "{claims}");
    assert_eq!(claims["email"], "doctor.notes@projectkeep.io", "{claims}");
    claims
}

#[tokio::test]
async fn a_person_signs_in_with_headless_chromium() {
    let chromium = chromium();
    assert!(
        Path::new(&chromium).is_file(),
        "no Chromium at {chromium}: install Debian's `chromium` (.ci/run does) \
         or point IDP_TEST_CHROMIUM at one"
    );

    let app = spawn_app().await;
    app.add_doc().await;
    let (redirect_uri, mut callbacks) = callback_listener().await;
    app.add_client(ClientSpec {
        client_id: CLIENT_ID.into(),
        secret: Some(Secret::new(SECRET)),
        redirect_uris: vec![redirect_uri.clone()],
        ..ClientSpec::default()
    })
    .await;

    let first = authorization_request(&app, &redirect_uri);
    let again = authorization_request(&app, &redirect_uri);
    let mut cmd = python_script("browser_login.py");
    cmd.args([first.url.as_str(), "doc", PASSWORD, again.url.as_str()])
        .env("IDP_TEST_CHROMIUM", chromium);
    let output = output_of(cmd, "Playwright").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser sign-in failed (run the suite through scripts/test.sh so Playwright \
         is installed):\n{stderr}\n{stdout}"
    );
    // Shown with --nocapture.
    println!("{stdout}");
    let ended: Value = serde_json::from_str(&stdout).expect("browser_login prints JSON");

    // Exactly two visits reached the client: the sign-in and the silent one.
    let first_query = callbacks.recv().await.expect("first callback");
    let again_query = callbacks.recv().await.expect("second callback");
    assert!(
        callbacks.try_recv().is_err(),
        "a failed or XSS attempt reached the client"
    );
    assert_eq!(
        ended["login"].as_str(),
        Some(format!("{redirect_uri}?{first_query}").as_str())
    );
    assert_eq!(
        ended["again"].as_str(),
        Some(format!("{redirect_uri}?{again_query}").as_str())
    );

    let signed_in = redeem(&app, &first_query, &first, &redirect_uri).await;
    let silent = redeem(&app, &again_query, &again, &redirect_uri).await;
    // The second authorization rode the first one's browser session.
    assert_eq!(silent["sid"], signed_in["sid"]);
    assert_eq!(silent["auth_time"], signed_in["auth_time"]);
    assert_eq!(silent["sub"], signed_in["sub"]);
}
