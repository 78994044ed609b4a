//! An OAuth 2 / OpenID Connect client this project did not write: Python's
//! Authlib (`OAuth2Session` over `requests`), driven by discovery through the
//! password, refresh, client-credentials and code + PKCE flows. See
//! `interop_authlib.py`; `scripts/test.sh` installs Authlib into a venv and
//! points `IDP_TEST_PYTHON` at it.

use std::process::Command;

use serde_json::Value;

use crate::helpers::*;

fn python() -> String {
    std::env::var("IDP_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

#[tokio::test]
async fn authlib_drives_every_grant_from_discovery() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/interop_authlib.py");
    let args = [
        script.to_owned(),
        app.issuer(),
        "domino-play".to_owned(),
        CLIENT_SECRET.to_owned(),
        "doc".to_owned(),
        PASSWORD.to_owned(),
        REDIRECT_URI.to_owned(),
    ];
    let output = tokio::task::spawn_blocking(move || Command::new(python()).args(args).output())
        .await
        .unwrap()
        .expect("python3 runs; use scripts/test.sh, which installs Authlib");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "Authlib interop failed (run the suite through scripts/test.sh so Authlib is installed):\n\
         {stderr}\n{stdout}"
    );

    // Shown with --nocapture.
    println!("{stdout}");
    let summary: Value = serde_json::from_str(&stdout).expect("summary is JSON");
    assert_eq!(summary["discovery"]["issuer"], app.issuer().as_str());

    let id = &summary["password"]["id_token"];
    assert_eq!(id["iss"], app.issuer().as_str(), "{id}");
    assert_eq!(id["azp"], "domino-play", "{id}");
    assert_eq!(id["email"], "doctor.notes@projectkeep.io", "{id}");
    assert_eq!(summary["userinfo"]["sub"], id["sub"]);
    assert_eq!(summary["userinfo"]["email"], "doctor.notes@projectkeep.io");
    assert_eq!(summary["userinfo"]["preferred_username"], "doc");

    assert_eq!(summary["refresh"]["rotated"], true);
    assert_eq!(summary["refresh"]["old_token_refused"], true);
    assert!(summary["client_credentials"].is_object(), "{summary}");

    let code = &summary["authorization_code"];
    assert_eq!(code["nonce_ok"], true);
    assert_eq!(code["id_token"]["sub"], id["sub"]);
    assert!(code["id_token"]["nonce"].is_string(), "{code}");
    assert!(code["id_token"]["at_hash"].is_string(), "{code}");
    assert_eq!(summary["revoke"]["refresh_token_inactive"], true);
}
