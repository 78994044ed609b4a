//! python-keycloak 7.1's `KeycloakOpenID`, unmodified, against the binary in
//! both URL layouts: `server_url="<base>/auth/"` with the default
//! `http_relative_path`, and `server_url="<base>/"` with `/` (Keycloak 17+).

use std::process::Command;

use crate::helpers::{CLIENT_SECRET, PASSWORD};
use crate::process::ServerProcess;
use crate::seeded::config_with;

fn run(relative_path: Option<&str>, server_url_tail: &str, realms: &str) {
    let python = std::env::var("IDP_TEST_PYTHON")
        .expect("IDP_TEST_PYTHON is not set: run the suite through scripts/test.sh");
    let tmp = tempfile::tempdir().unwrap();
    let top = relative_path.map_or_else(String::new, |p| format!("http_relative_path = \"{p}\""));
    let cfg = config_with(tmp.path(), &top, "");
    let server = ServerProcess::start(tmp.path(), &cfg);
    let out = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/api/keycloak_python.py"
        ))
        .env("SERVER_URL", server.url(server_url_tail))
        .env("ISSUER", server.url(&format!("{realms}/DominoRealm")))
        .env("CLIENT_SECRET", CLIENT_SECRET)
        .env("PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("all passed"),
        "python-keycloak failed:\n{stdout}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
}

#[test]
fn python_keycloak_works_with_the_auth_layout() {
    run(None, "/auth/", "/auth/realms");
}

#[test]
fn python_keycloak_works_with_keycloak_17s_layout() {
    run(Some("/"), "/", "/realms");
}
