//! Postgres over TLS, as managed Postgres services require: a server of the
//! test's own (scripts/pg.sh with PG_SSL_CERT/PG_SSL_KEY) with a certificate
//! from a CA the test makes, for `localhost` only. `verify-full` with that
//! CA connects; a wrong CA, or the right CA under another host name, is
//! refused with a clear error; the password in the URL is never printed.
//! Runs when the suite runs on Postgres (`IDP_TEST_POSTGRES_URL`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::certs::{ca, localhost};
use crate::helpers::{idp_command, on_postgres};

fn pg_sh(args: &[&str], cert: &Path, key: &Path) -> String {
    crate::pg_outage::pg_sh(args, &[("PG_SSL_CERT", cert), ("PG_SSL_KEY", key)])
}

/// `domino-idp migrate` against `url`: (success, stderr).
fn migrate(dir: &Path, url: &str) -> (bool, String) {
    let out = idp_command(dir)
        .args(["--database-url", url, "migrate"])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn verify_full_connects_and_a_wrong_ca_or_host_is_refused() {
    if !on_postgres() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (ca_pem, issuer) = ca("domino-idp test CA");
    let (stranger_pem, _) = ca("someone else's CA");
    let (crt, key) = localhost(dir, "server", &issuer);
    std::fs::write(dir.join("ca.pem"), &ca_pem).unwrap();
    std::fs::write(dir.join("stranger.pem"), &stranger_pem).unwrap();
    let data = tempfile::Builder::new()
        .prefix("domino-idp-pg-tls")
        .tempdir_in("/tmp")
        .unwrap();
    let plain = pg_sh(&["start", data.path().to_str().unwrap()], &crt, &key);
    let port = url::Url::parse(&plain).unwrap().port().unwrap();
    let url = |host: &str, mode: &str, root: &str| {
        format!(
            "postgres://postgres:hunter2-secret@{host}:{port}/postgres?sslmode={mode}&sslrootcert={}",
            dir.join(root).display()
        )
    };

    let (ok, err) = migrate(dir, &url("localhost", "verify-full", "ca.pem"));
    assert!(ok, "verify-full with the right CA: {err}");
    let (ok, err) = migrate(dir, &url("localhost", "require", "ca.pem"));
    assert!(ok, "require: {err}");
    let (ok, err) = migrate(dir, &url("localhost", "verify-ca", "ca.pem"));
    assert!(ok, "verify-ca with the right CA: {err}");
    // verify-ca checks the name too (stricter than libpq): sqlx 0.8 misses
    // rustls's newer name-mismatch error (sqlx issue 3793), see docs/postgres.md.
    let (ok, _) = migrate(dir, &url("127.0.0.1", "verify-ca", "ca.pem"));
    assert!(!ok);
    // The right CA, but the certificate does not name 127.0.0.1.
    let (ok, err) = migrate(dir, &url("127.0.0.1", "verify-full", "ca.pem"));
    assert!(!ok, "verify-full accepted a certificate for another name");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert!(
        !err.contains("hunter2-secret"),
        "the password was printed: {err}"
    );
    let (ok, err) = migrate(dir, &url("localhost", "verify-full", "stranger.pem"));
    assert!(!ok, "a certificate from an unknown CA was accepted");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert!(
        !err.contains("hunter2-secret"),
        "the password was printed: {err}"
    );

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/pg.sh");
    let _ = Command::new("bash")
        .arg(script)
        .args(["stop", data.path().to_str().unwrap()])
        .output();
}
