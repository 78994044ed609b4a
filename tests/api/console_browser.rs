//! The web console in a real headless Chromium: `console_browser.py`
//! (Playwright from the venv, the system's chromium) walks every page and
//! error path of the start page and the admin console; this side prepares
//! the tokens to check and verifies what the walk changed.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::console::{ADMIN, admin_spec};
use crate::helpers::*;
use crate::python::{chromium, output_of, python_script};

/// `token` with its header replaced by `header`.
fn with_header(token: &str, header: &Value) -> String {
    let rest = token.split_once('.').unwrap().1;
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_real_browser() {
    let chromium = chromium();
    assert!(Path::new(&chromium).is_file(), "no Chromium at {chromium}");
    let app = spawn_app().await;
    app.add_doc().await;
    app.add_user(admin_spec()).await;
    app.add_client(play_client()).await;

    // An expired token: minted, then the clock moves past its lifetime.
    let expired: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    let expired = expired["bearer"].as_str().unwrap().to_owned();
    app.clock.advance(Duration::from_secs(
        app.state.config.max_jwt_duration + app.state.config.leeway + 60,
    ));
    let fresh: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    let fresh = fresh["bearer"].as_str().unwrap().to_owned();
    // A signature with one character changed well inside it (the last one
    // may carry padding bits, which would make the token malformed instead).
    let at = fresh.rfind('.').unwrap() + 10;
    let swapped = if &fresh[at..=at] == "A" { "B" } else { "A" };
    let bad_signature = format!("{}{swapped}{}", &fresh[..at], &fresh[at + 1..]);
    let mut claims = domino_idp::domain::token::Claims::new();
    claims.insert("iss".into(), json!("https://elsewhere.example/realms/x"));
    claims.insert("sub".into(), json!("doc"));
    claims.insert("exp".into(), json!(app.state.clock.now() + 300));
    let wrong_issuer = app.state.keys.sign(&claims).unwrap();
    let unknown_kid = with_header(
        &fresh,
        &json!({"alg": "RS256", "typ": "JWT", "kid": "no-such-kid"}),
    );

    // A refresh token of doc's, which ending doc's sessions must kill.
    let grant = app.password_grant("openid").await;
    let refresh = grant["refresh_token"].as_str().unwrap().to_owned();

    let input = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        input.path(),
        json!({
            "base": app.base,
            "admin": ADMIN,
            "user": "doc",
            "password": PASSWORD,
            "expired": expired,
            "bad_signature": bad_signature,
            "wrong_issuer": wrong_issuer,
            "unknown_kid": unknown_kid,
        })
        .to_string(),
    )
    .unwrap();
    let mut cmd = python_script("console_browser.py");
    cmd.arg(input.path()).env("IDP_TEST_CHROMIUM", chromium);
    let output = output_of(cmd, "Playwright").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the console walk failed:\n{stderr}\n{stdout}"
    );
    println!("{stdout}");

    // Ending doc's sessions in the console revoked the refresh token.
    let refused = app.refresh_grant(&refresh).await;
    expect_oauth_error(refused, 400, "invalid_grant").await;
    // The removed user is gone, the removed client too.
    assert!(app.state.store.get_user("newbie").await.unwrap().is_none());
    assert!(
        app.state
            .store
            .get_client("webapp")
            .await
            .unwrap()
            .is_none()
    );
}
