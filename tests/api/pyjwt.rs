//! A JWKS consumer this project did not write: PyJWT's `PyJWKClient`.
//! `scripts/test.sh` installs PyJWT into a venv and points
//! `DOMINO_IDP_TEST_PYTHON` at it.

use std::process::Command;

use serde_json::Value;

use crate::helpers::*;

fn python() -> String {
    std::env::var("DOMINO_IDP_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[tokio::test]
async fn pyjwt_verifies_tokens_from_the_jwks_and_the_realm_key() {
    let app = spawn_app().await;
    app.add_doc().await;
    let body: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    let token = body["bearer"].as_str().unwrap().to_owned();
    let jwks_url = app.url("/auth/realms/DominoRealm/protocol/openid-connect/certs");
    let realm_url = app.url("/auth/realms/DominoRealm");
    let issuer = app.issuer();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/pyjwt_check.py");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python())
            .args([script, &jwks_url, &realm_url, &token, &issuer, "Domino"])
            .output()
    })
    .await
    .unwrap()
    .expect("python3 runs; use scripts/test.sh, which installs PyJWT");
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
    let (jwks_url, realm_url, issuer) = (
        app.url("/auth/realms/DominoRealm/protocol/openid-connect/certs"),
        app.url("/auth/realms/DominoRealm"),
        app.issuer(),
    );
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python())
            .args([script, &jwks_url, &realm_url, &tampered, &issuer, "Domino"])
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(!output.status.success(), "a tampered token verified");
}
