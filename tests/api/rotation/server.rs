//! The server's own part in rotation: a key file from before rotation
//! existed, and rotation when the period has passed.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64::Engine as _;
use domino_idp::app::Issuer;
use domino_idp::config::Config;
use domino_idp::startup::Application;
use serde_json::Value;

use crate::helpers::*;
use crate::keys::kids;

use super::*;

#[tokio::test]
async fn a_key_from_before_rotation_is_active_since_its_file_time() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    // A bare PEM, as older versions (or an operator) left it.
    use aws_lc_rs::encoding::AsDer as _;
    let key = aws_lc_rs::signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der = key.as_der().unwrap();
    std::fs::write(
        keys.join("legacy.pem"),
        pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec())),
    )
    .unwrap();
    assert_eq!(list(tmp.path()).len(), 1);
    assert_eq!(list(tmp.path())[0].1, "active");

    let app = spawn_in(tmp.path(), |_| {}).await;
    let kid = app.state.keys.signer().kid().to_owned();
    // The server recorded its dates and certificate beside it.
    let dates: Value =
        serde_json::from_slice(&std::fs::read(keys.join("legacy.json")).unwrap()).unwrap();
    assert_eq!(dates["kid"], kid.as_str());
    assert_eq!(dates["created"], dates["activates_at"]);
    let crt = std::fs::read_to_string(keys.join("legacy.crt")).unwrap();
    let jwks = app.jwks().await;
    let x5c = jwks["keys"][0]["x5c"][0].as_str().unwrap();
    let der = base64::engine::general_purpose::STANDARD
        .decode(x5c)
        .unwrap();
    assert_eq!(pem::parse(&crt).unwrap().contents(), der.as_slice());
}

/// Starts the app without `Config::validate`, whose minimum rotation period
/// (an hour) is too long for a test.
async fn spawn_unchecked(config: Config) -> (Issuer, SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let app = Application::build(config).await.expect("app builds");
    let addr = app.local_addr();
    let state = app.state().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    (state, addr, stop)
}

#[tokio::test]
async fn the_server_rotates_by_itself_when_the_period_has_passed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = config_in(tmp.path());
    short(&mut config);
    config.key_rotation_period = 2;
    config.key_rotation_lead = Some(1);
    let (state, addr, _stop) = spawn_unchecked(config).await;
    let first = state.keys.signer().kid().to_owned();
    let url = format!("http://{addr}/auth/realms/DominoRealm/protocol/openid-connect/certs");
    let client = reqwest::Client::new();
    let mut seen_next = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "no automatic rotation happened");
        let jwks: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        let signer = state.keys.signer().kid().to_owned();
        if signer != first {
            // The successor was published before it signed, beside the old key.
            assert_eq!(seen_next.as_deref(), Some(signer.as_str()));
            assert!(kids(&jwks).contains(&first));
            break;
        }
        if let Some(next) = kids(&jwks).into_iter().find(|k| *k != first) {
            seen_next = Some(next);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The leaked-key runbook against a token the server has verified, and so
/// remembers (`keys::verified`): once its key is retired the server refuses
/// it, at the next reload of the keys, without a restart.
#[tokio::test]
async fn a_retired_keys_token_is_refused_though_the_server_verified_it_before() {
    let app = spawn_with(|c| c.key_reload_interval = 1).await;
    app.add_doc_and_play().await;
    let dir = app.state.config.keys_dir.parent().unwrap().to_owned();
    let old = app.state.keys.signer().kid().to_owned();
    let body = app.password_grant("openid").await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        assert_eq!(app.userinfo(&token).await.status(), 200);
    }
    let new = rotate(&dir, &["--lead", "0"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.state.keys.signer().kid() != new {
        assert!(Instant::now() < deadline, "the new key never signed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.userinfo(&token).await.status(), 200, "still published");
    let out = idp(&dir, &["keys", "retire", &old]);
    assert!(out.status.success(), "{out:?}");
    while kids(&app.jwks().await).contains(&old) {
        assert!(
            Instant::now() < deadline,
            "the retired key stayed published"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.userinfo(&token).await.status(), 401);
}
