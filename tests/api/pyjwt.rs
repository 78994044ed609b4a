//! A JWKS consumer this project did not write: PyJWT's `PyJWKClient`.
//! `scripts/test.sh` installs PyJWT into a venv and points
//! `IDP_TEST_PYTHON` at it.

use serde_json::Value;

use crate::helpers::*;
use crate::python::{output_of, python_script};

/// Runs `pyjwt_check.py` against `app` for `token`.
async fn pyjwt_check(app: &TestApp, token: String) -> std::process::Output {
    let mut cmd = python_script("pyjwt_check.py");
    cmd.args([
        app.url("/auth/realms/DominoRealm/protocol/openid-connect/certs"),
        app.url("/auth/realms/DominoRealm"),
        token,
        app.issuer(),
        "Domino".to_owned(),
    ]);
    output_of(cmd, "PyJWT").await
}

#[tokio::test]
async fn pyjwt_verifies_tokens_from_the_jwks_and_the_realm_key() {
    let app = spawn_app().await;
    app.add_doc().await;
    let body: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    let token = body["bearer"].as_str().unwrap().to_owned();
    let output = pyjwt_check(&app, token).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "PyJWT check failed (run the suite through scripts/test.sh so PyJWT is installed):\n{stderr}"
    );
    let claims: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(claims, body["claims"]);

    // A tampered token must be refused by the same consumer.
    // Flip a character well inside the signature (the last one only carries padding bits).
    let mut tampered: Vec<char> = body["bearer"].as_str().unwrap().chars().collect();
    let at = tampered.len() - 20;
    tampered[at] = if tampered[at] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let output = pyjwt_check(&app, tampered).await;
    assert!(!output.status.success(), "a tampered token verified");
}
