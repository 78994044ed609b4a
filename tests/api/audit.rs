//! The audit trail as an operator reads it: the real binary's log, with
//! target `audit` lines for logins, tokens and revocations, and never a
//! password, secret or token in any line.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;
use crate::process::{ServerProcess, write_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_tokens_and_revocations_are_audited_without_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(
        tmp.path(),
        &format!(
            "[[users]]\nusername = \"doc\"\npassword = \"{PASSWORD}\"\n\n\
             [[clients]]\nclient_id = \"domino-play\"\nsecret = \"{CLIENT_SECRET}\"\n\
             redirect_uris = [\"{REDIRECT_URI}\"]\ngrant_types = [\"password\", \"refresh_token\"]\n"
        ),
    );
    let server = ServerProcess::start(tmp.path(), &config);
    let http = reqwest::Client::new();
    let keep: Value = http
        .post(server.url("/auth"))
        .json(&serde_json::json!({"username": "doc", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = keep["bearer"].as_str().unwrap().to_owned();
    let wrong = http
        .post(server.url("/auth"))
        .json(&serde_json::json!({"username": "doc", "password": "hunter2-wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let token = server.url("/auth/realms/DominoRealm/protocol/openid-connect/token");
    let grant: Value = http
        .post(&token)
        .basic_auth("domino-play", Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "password"),
            ("username", "doc"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = grant["refresh_token"].as_str().unwrap().to_owned();
    let revoke = http
        .post(server.url("/auth/realms/DominoRealm/protocol/openid-connect/revoke"))
        .basic_auth("domino-play", Some(CLIENT_SECRET))
        .form(&[("token", refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    tokio::time::sleep(Duration::from_millis(200)).await;

    let log = server.log();
    let audit: Vec<&str> = log.lines().filter(|l| l.contains("audit:")).collect();
    for event in [
        "event=\"login.success\"",
        "event=\"login.failure\"",
        "event=\"token.issued\"",
        "event=\"token.revoked\"",
    ] {
        assert!(
            audit.iter().any(|l| l.contains(event)),
            "{event} missing:\n{log}"
        );
    }
    for secret in [PASSWORD, "hunter2-wrong", CLIENT_SECRET, &bearer, &refresh] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
}
