//! `key_store = "database"`: the signing keys as rows, the private key
//! sealed with `key_encryption_key`, shared by every process on the
//! database. Runs on whichever backend the suite runs on.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use domino_idp::config::{Config, KeyStoreKind, Secret};
use domino_idp::keys::sealed::Sealer;
use domino_idp::keys::{KeyError, KeyHome};
use domino_idp::startup::Application;
use domino_idp::store::Store;
use serde_json::Value;

use crate::helpers::*;
use crate::keys::kids;

fn kek(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

fn in_database(c: &mut Config) {
    c.key_store = Some(KeyStoreKind::Database);
    c.key_encryption_key = Some(Secret::new(kek(7)));
}

#[tokio::test]
async fn keys_in_the_database_are_sealed_shared_and_served() {
    let app = spawn_with(in_database).await;
    app.add_doc().await;
    assert!(
        !app.state.config.keys_dir.exists(),
        "nothing is written to keys_dir"
    );
    let rows = app.state.store.list_signing_keys().await.unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.generation, 1);
    assert_eq!(kids(&app.jwks().await), vec![row.kid.clone()]);

    // Sealed: opens with the configured key and nothing else, and the
    // private key is not in the row in the clear.
    let pkcs8 = Sealer::from_base64(&kek(7))
        .unwrap()
        .open(&row.kid, &row.sealed_private_key)
        .unwrap();
    assert!(
        !row.sealed_private_key
            .windows(64)
            .any(|w| pkcs8.windows(64).any(|p| p == w)),
        "no run of the private key appears in the stored bytes"
    );
    assert!(
        Sealer::from_base64(&kek(8))
            .unwrap()
            .open(&row.kid, &row.sealed_private_key)
            .is_err()
    );

    // Tokens verify against the published key.
    let body: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    verify_with_jwks(
        body["bearer"].as_str().unwrap(),
        &app.jwks().await,
        &app.issuer(),
    );
}

#[tokio::test]
async fn a_restart_with_another_encryption_key_fails_clearly_and_keeps_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let mut app = spawn_in(tmp.path(), in_database).await;
    let kid = app.state.keys.signer().kid().to_owned();
    app.stop().await;

    let mut config = config_in(tmp.path());
    in_database(&mut config);
    config.key_encryption_key = Some(Secret::new(kek(9)));
    let err = Application::build(config)
        .await
        .err()
        .expect("the wrong key is refused");
    let text = format!("{err:#}");
    assert!(
        text.contains(&kid) && text.contains("key_encryption_key"),
        "{text}"
    );

    // The right key still works: nothing was overwritten.
    let app = spawn_in(tmp.path(), in_database).await;
    assert_eq!(app.state.keys.signer().kid(), kid);
}

#[tokio::test]
async fn processes_starting_or_rotating_at_once_add_one_key_each_time() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = config_in(tmp.path());
    in_database(&mut config);
    let store: Arc<dyn Store> = domino_idp::store::open(&config.database_url).await.unwrap();
    store.migrate().await.unwrap();
    let homes: Vec<KeyHome> = (0..4)
        .map(|_| KeyHome::new(&config, Some(store.clone())).unwrap())
        .collect();

    // Four instances start on an empty database at once: one first key.
    let signers: Vec<String> = at_once(&homes, |h| async move {
        h.refresh().await.map(|r| r.signer().kid().to_owned())
    })
    .await
    .into_iter()
    .map(Result::unwrap)
    .collect();
    assert_eq!(store.list_signing_keys().await.unwrap().len(), 1);
    assert!(signers.iter().all(|k| k == &signers[0]), "{signers:?}");

    // Four rotations at once: one new key, the others see it pending.
    let results = at_once(&homes, |h| async move { h.rotate(3600, false).await }).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(_) | Err(KeyError::Pending { .. }))),
        "{results:?}"
    );
    let rows = store.list_signing_keys().await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.generation).collect::<Vec<_>>(),
        [1, 2]
    );
    // The old key's retirement is pinned to the new key's activation.
    assert!(rows[0].dates.superseded_at.is_some() && rows[0].dates.retire_after.is_some());
}

/// Runs `f` for every home in its own task, all at once.
async fn at_once<T, F, Fut>(homes: &[KeyHome], f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(KeyHome) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for home in homes {
        set.spawn(f(home.clone()));
    }
    set.join_all().await
}

/// The binary on the test's database with the keys in it.
fn idp(dir: &Path, database_url: &str, args: &[&str]) -> Output {
    idp_command(dir)
        .env("DOMINO_IDP_DATABASE_URL", database_url)
        .env("DOMINO_IDP_KEY_STORE", "database")
        .env("DOMINO_IDP_KEY_ENCRYPTION_KEY", kek(7))
        .env("DOMINO_IDP_KEY_RELOAD_INTERVAL", "1")
        .args(args)
        .output()
        .expect("the binary runs")
}

#[tokio::test]
async fn a_cli_rotation_and_retirement_reach_the_running_server() {
    let app = spawn_with(|c| {
        in_database(c);
        c.key_reload_interval = 1;
    })
    .await;
    let dir = app.state.config.keys_dir.parent().unwrap().to_owned();
    let url = app.state.config.database_url.clone();
    let first = app.state.keys.signer().kid().to_owned();

    let out = idp(&dir, &url, &["keys", "rotate", "--lead", "3600"]);
    assert!(out.status.success(), "{out:?}");
    let second = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(2)
        .unwrap()
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(5);
    while kids(&app.jwks().await) != [first.clone(), second.clone()] {
        assert!(Instant::now() < deadline, "the new key was not published");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = idp(&dir, &url, &["keys", "list"]);
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        listing.contains(&format!("{second} next")) || listing.contains(&second),
        "{listing}"
    );
    assert!(listing.contains("database"), "{listing}");

    // Cancel it: retired, no longer published, listed as retired.
    let out = idp(&dir, &url, &["keys", "retire", &second]);
    assert!(out.status.success(), "{out:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while kids(&app.jwks().await) != [first.clone()] {
        assert!(
            Instant::now() < deadline,
            "the retired key is still published"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = idp(&dir, &url, &["keys", "list"]);
    let listing = String::from_utf8_lossy(&out.stdout).into_owned();
    let row = listing.lines().find(|l| l.starts_with(&second)).unwrap();
    assert_eq!(row.split_whitespace().nth(1), Some("retired"), "{listing}");

    // Export reads the same keys.
    let out = idp(&dir, &url, &["keys", "export"]);
    let jwks: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(kids(&jwks), vec![first]);
}

#[test]
fn the_database_key_store_needs_a_valid_encryption_key() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |kek: Option<&str>| {
        let mut cmd = idp_command(tmp.path());
        cmd.env("DOMINO_IDP_KEY_STORE", "database");
        if let Some(k) = kek {
            cmd.env("DOMINO_IDP_KEY_ENCRYPTION_KEY", k);
        }
        cmd.arg("check-config").output().unwrap()
    };
    let out = run(None);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("key_encryption_key is required"), "{err}");
    let out = run(Some("c2hvcnQ="));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("exactly 32"));
    let good = kek(3);
    let out = run(Some(&good));
    assert!(out.status.success(), "{out:?}");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(!shown.contains(&good), "the key is never printed: {shown}");
}

#[test]
fn a_database_password_is_never_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let out = idp_command(tmp.path())
        .env(
            "DOMINO_IDP_DATABASE_URL",
            "postgres://idp:s3cret-db-pw@127.0.0.1:9/idp",
        )
        .env("DOMINO_IDP_KEY_ENCRYPTION_KEY", kek(1))
        .arg("check-config")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(!shown.contains("s3cret-db-pw"), "{shown}");
    assert!(
        shown.contains("postgres://idp:%5Bredacted%5D@127.0.0.1:9/idp"),
        "{shown}"
    );
    // Nor when the database cannot be reached.
    let out = idp_command(tmp.path())
        .env(
            "DOMINO_IDP_DATABASE_URL",
            "postgres://idp:s3cret-db-pw@127.0.0.1:9/idp?acquire_timeout=1",
        )
        .env("DOMINO_IDP_KEY_ENCRYPTION_KEY", kek(1))
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("s3cret-db-pw"), "{all}");
}
