//! The attacks of the external review (issue 12), each against the real
//! binary (`domino-idp serve` as a child process on a port-0 listener, on the
//! backend the suite runs on), each failing on the code it was found in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Barrier;

use crate::helpers::{PASSWORD, idp_command};
use crate::process::ServerProcess;

pub const SECRET: &str = "attack-client-secret-0123";

/// A config seeding Doctor Notes and Nurse Ratched, a confidential client
/// with every grant, and whatever `extra` adds; default brute-force settings.
pub fn config(dir: &Path, extra: &str) -> PathBuf {
    let path = dir.join("idp.toml");
    std::fs::write(
        &path,
        format!(
            r#"
key_reload_interval = 1

[[users]]
username = "doc"
password = "{PASSWORD}"
email = "doctor.notes@projectkeep.io"
cn = "Doctor Notes"
org = "ProjectKeep"
scopes = "MAIL $DATA"

[[users]]
username = "nurse"
password = "{PASSWORD}"
email = "nurse@projectkeep.io"
cn = "Nurse Ratched"

[[clients]]
client_id = "app"
secret = "{SECRET}"
redirect_uris = ["http://127.0.0.1:9/cb"]
grant_types = ["authorization_code", "password", "refresh_token", "client_credentials"]
{extra}
"#
        ),
    )
    .unwrap();
    path
}

pub fn realm(server: &ServerProcess, endpoint: &str) -> String {
    server.url(&format!(
        "/auth/realms/DominoRealm/protocol/openid-connect/{endpoint}"
    ))
}

/// Runs the CLI in `dir` with `config`; returns stdout, asserting success.
pub fn cli(dir: &Path, config: &Path, args: &[&str]) -> String {
    let out = idp_command(dir)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One guess: Keep `/auth` or the password grant.
#[derive(Clone, Copy)]
enum Path2 {
    Keep,
    Grant,
}

async fn guess(http: &reqwest::Client, server: &str, path: Path2, password: &str) -> (u16, bool) {
    let resp = match path {
        Path2::Keep => http
            .post(format!("{server}/auth"))
            .json(&serde_json::json!({"username": "doc", "password": password}))
            .send()
            .await
            .unwrap(),
        Path2::Grant => http
            .post(format!(
                "{server}/auth/realms/DominoRealm/protocol/openid-connect/token"
            ))
            .basic_auth("app", Some(SECRET))
            .form(&[
                ("grant_type", "password"),
                ("username", "doc"),
                ("password", password),
            ])
            .send()
            .await
            .unwrap(),
    };
    let retry_after = resp.headers().contains_key("retry-after");
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    // The grant answers a lockout with invalid_grant and Retry-After.
    let status = match (path, status) {
        (Path2::Grant, 400) if retry_after => 429,
        (Path2::Grant, 400) if body["error"] == "invalid_grant" => 401,
        (_, s) => s,
    };
    (status, retry_after)
}

/// 60 wrong passwords at the same moment, over 60 connections split between
/// two instances on one database: with the default `max_failures = 10`, at
/// most 10 of them are checked and every other one is refused with
/// Retry-After; the right password sent next is refused too. (Were the right
/// one among the 60 and checked, its success would reset the counter, as a
/// success always does, so the count would prove nothing.)
async fn parallel_guessing(path: Path2) {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "");
    let a = ServerProcess::start(dir.path(), &config);
    let b = ServerProcess::start(dir.path(), &config);
    let servers = [a.url(""), b.url("")];
    let barrier = Arc::new(Barrier::new(60));
    let tasks: Vec<_> = (0..60)
        .map(|i| {
            let server = servers[i % 2].clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                // A connection each, opened before the barrier.
                let http = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()
                    .unwrap();
                http.get(format!("{server}/health/live"))
                    .send()
                    .await
                    .unwrap();
                barrier.wait().await;
                (i, guess(&http, &server, path, "wrong guess").await)
            })
        })
        .collect();
    let mut checked = 0;
    for task in tasks {
        let (i, (status, retry_after)) = task.await.unwrap();
        match status {
            401 => checked += 1,
            429 => assert!(retry_after, "429 without Retry-After (guess {i})"),
            other => panic!("guess {i}: unexpected {other}"),
        }
    }
    assert!(
        checked <= 10,
        "{checked} guesses were checked at once; the budget is 10"
    );
    assert!(checked >= 1, "no guess was checked at all");
    let http = reqwest::Client::new();
    for server in &servers {
        let (status, retry_after) = guess(&http, server, path, PASSWORD).await;
        assert_eq!(status, 429, "the right password after the storm");
        assert!(retry_after);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_at_keep_login_get_no_more_checks_than_max_failures() {
    parallel_guessing(Path2::Keep).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_at_the_password_grant_get_no_more_checks_than_max_failures() {
    parallel_guessing(Path2::Grant).await;
}

/// A name locked by failures does not get a fresh budget under the user's
/// email: once a login name resolves to a user, the user's counter counts.
#[tokio::test]
async fn the_email_shares_the_locked_usernames_budget() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        dir.path(),
        "[brute_force]\nmax_failures = 3\nquick_login_check_ms = 0\nwait_increment = 60",
    );
    let server = ServerProcess::start(dir.path(), &config);
    let http = reqwest::Client::new();
    let login = |name: &'static str, password: &'static str| {
        http.post(server.url("/auth"))
            .json(&serde_json::json!({"username": name, "password": password}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(login("doc", "wrong").await.unwrap().status(), 401);
    }
    let resp = login("doctor.notes@projectkeep.io", PASSWORD)
        .await
        .unwrap();
    assert_eq!(resp.status(), 429, "the email opened a fresh window");
    assert!(resp.headers().contains_key("retry-after"));
    // And the other way round, for another user.
    for _ in 0..3 {
        assert_eq!(
            login("nurse@projectkeep.io", "wrong")
                .await
                .unwrap()
                .status(),
            401
        );
    }
    assert_eq!(login("NURSE", PASSWORD).await.unwrap().status(), 429);
    // Unknown names still count on their own, and alike.
    for _ in 0..3 {
        assert_eq!(login("nobody", "wrong").await.unwrap().status(), 401);
    }
    assert_eq!(login("nobody", PASSWORD).await.unwrap().status(), 429);
}
