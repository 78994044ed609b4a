//! An OAuth 2 / OpenID Connect client this project did not write: Python's
//! Authlib (`OAuth2Session` over `requests`), driven by discovery through the
//! password, refresh, client-credentials and code + PKCE flows. See
//! `interop_authlib.py`; `scripts/test.sh` installs Authlib into a venv and
//! points `IDP_TEST_PYTHON` at it.

use serde_json::Value;

use crate::helpers::*;
use crate::python::{output_of, python_script};

#[tokio::test]
async fn authlib_drives_every_grant_from_discovery() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;

    let mut cmd = python_script("interop_authlib.py");
    cmd.args([
        app.issuer().as_str(),
        "domino-play",
        CLIENT_SECRET,
        "doc",
        PASSWORD,
        REDIRECT_URI,
    ]);
    let output = output_of(cmd, "Authlib").await;
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
