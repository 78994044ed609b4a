//! Brute-force protection on the three password paths: Keep `/auth`, the
//! password grant and the login form. Thresholds are tiny and waits are a
//! second or two, so the whole file runs in a few seconds.

use std::time::Duration;

use domino_idp::config::Config;
use domino_idp::store::FailureKind;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;

use crate::helpers::*;
use crate::oidc_flow::*;

/// Three failures lock a name for `wait` seconds (doubling after that);
/// the quick-login check is off so failures in a row only count.
fn strict(wait: u64) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.brute_force.max_failures = 3;
        c.brute_force.wait_increment = wait;
        c.brute_force.max_wait = wait * 4;
        c.brute_force.quick_login_check_ms = 0;
    }
}

fn retry_after(headers: &HeaderMap) -> u64 {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in whole seconds")
}

async fn fail_times(app: &TestApp, name: &str, n: usize) {
    for _ in 0..n {
        expect_error(app.login(name, "wrong password").await, 401).await;
    }
}

#[tokio::test]
async fn keep_login_locks_after_max_failures_even_for_the_right_password() {
    let app = spawn_with(strict(1)).await;
    app.add_doc().await;
    fail_times(&app, "doc", 3).await;
    let resp = app.login("doc", PASSWORD).await;
    assert_eq!(retry_after(resp.headers()), 1);
    let body = expect_error(resp, 429).await;
    assert_eq!(body["error"], "too_many_requests");
    // Another spelling of the same name is the same counter (NFKC + case).
    expect_error(app.login("ＤＯＣ", PASSWORD).await, 429).await;

    // The lockout ends; the next failure doubles it.
    app.clock.advance(Duration::from_millis(1100));
    expect_error(app.login("doc", "wrong password").await, 401).await;
    let resp = app.login("doc", PASSWORD).await;
    assert_eq!(retry_after(resp.headers()), 2);
    expect_error(resp, 429).await;
}

#[tokio::test]
async fn the_lockout_expires_and_success_resets_the_count() {
    let app = spawn_with(strict(1)).await;
    app.add_doc().await;
    fail_times(&app, "doc", 3).await;
    expect_error(app.login("doc", PASSWORD).await, 429).await;
    app.clock.advance(Duration::from_millis(1100));
    assert_eq!(app.login("doc", PASSWORD).await.status(), 200);
    // Counting starts again: two failures do not lock, a third does.
    fail_times(&app, "doc", 2).await;
    assert_eq!(app.login("doc", PASSWORD).await.status(), 200);
    fail_times(&app, "doc", 3).await;
    expect_error(app.login("doc", PASSWORD).await, 429).await;
}

/// Status, headers (but `date`) and body, to compare two answers whole.
async fn answer(resp: reqwest::Response) -> (u16, Vec<(String, String)>, String) {
    let status = resp.status().as_u16();
    let mut headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .filter(|(name, _)| *name != "date")
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("?").to_owned()))
        .collect();
    headers.sort();
    (status, headers, resp.text().await.unwrap())
}

#[tokio::test]
async fn an_unknown_name_locks_exactly_like_a_real_one() {
    let app = spawn_with(strict(30)).await;
    app.add_doc().await;
    let mut failures = Vec::new();
    let mut locked = Vec::new();
    for name in ["doc", "nobody"] {
        for _ in 0..3 {
            failures.push(answer(app.login(name, "wrong password").await).await);
        }
        locked.push(answer(app.login(name, PASSWORD).await).await);
        locked.push(answer(app.login(name, "wrong password").await).await);
    }
    assert!(failures.windows(2).all(|w| w[0] == w[1]), "{failures:?}");
    assert!(locked.windows(2).all(|w| w[0] == w[1]), "{locked:?}");
    assert_eq!(locked[0].0, 429);
    assert!(
        locked[0]
            .1
            .iter()
            .any(|(n, v)| n == "retry-after" && v == "30")
    );
}

async fn grant(app: &TestApp, password: &str) -> reqwest::Response {
    let form = [
        ("grant_type", "password"),
        ("username", "doc"),
        ("password", password),
    ];
    app.oidc_post("token", &form, Some(("domino-play", CLIENT_SECRET)))
        .await
}

#[tokio::test]
async fn password_grant_answers_invalid_grant_with_retry_after() {
    let app = spawn_with(strict(30)).await;
    app.add_doc_and_play().await;
    for _ in 0..3 {
        let resp = grant(&app, "wrong password").await;
        assert!(resp.headers().get(RETRY_AFTER).is_none());
        let body = expect_oauth_error(resp, 400, "invalid_grant").await;
        assert_eq!(body["error_description"], "Invalid user credentials");
    }
    let resp = grant(&app, PASSWORD).await;
    assert_eq!(retry_after(resp.headers()), 30);
    let body = expect_oauth_error(resp, 400, "invalid_grant").await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("Too many failed login attempts"),
        "{body}"
    );
    // One counter per name, whichever endpoint checked the password.
    expect_error(app.login("doc", PASSWORD).await, 429).await;
}

#[tokio::test]
async fn login_form_is_shown_again_with_a_neutral_message() {
    let app = spawn_with(strict(30)).await;
    app.add_doc_and_play().await;
    let url = authorize_url(&app, &[]);
    for _ in 0..3 {
        let (resp, _) = submit_login(&url, "wrong password").await;
        assert_eq!(resp.status(), 401);
    }
    let (resp, _) = submit_login(&url, PASSWORD).await;
    assert_eq!(resp.status(), 429);
    assert_eq!(retry_after(resp.headers()), 30);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Too many failed attempts; try again later."));
    assert!(
        html.contains("name=\"username\" value=\"doc\""),
        "the form again"
    );
    assert!(!html.contains(PASSWORD));
}

#[tokio::test]
async fn one_address_is_locked_across_names() {
    let app = spawn_with(|c| {
        strict(30)(c);
        c.brute_force.max_failures = 10;
        c.brute_force.ip_max_failures = 3;
    })
    .await;
    app.add_doc().await;
    for name in ["alice", "bob", "carol"] {
        expect_error(app.login(name, "guess").await, 401).await;
    }
    let resp = app.login("doc", PASSWORD).await;
    assert_eq!(retry_after(resp.headers()), 30);
    expect_error(resp, 429).await;
    let lockouts = app.state.store.list_lockouts(0).await.unwrap();
    assert_eq!(lockouts.len(), 1, "{lockouts:?}");
    assert_eq!(lockouts[0].key, "127.0.0.1");
}

#[tokio::test]
async fn two_quick_failures_lock_with_the_defaults() {
    let app = spawn_app().await;
    app.add_doc().await;
    fail_times(&app, "doc", 2).await;
    let resp = app.login("doc", PASSWORD).await;
    let wait = retry_after(resp.headers());
    assert!((59..=60).contains(&wait), "min_quick_login_wait: {wait}");
    expect_error(resp, 429).await;
}

#[tokio::test]
async fn disabled_protection_counts_nothing() {
    let app = spawn_with(|c| {
        strict(30)(c);
        c.brute_force.enabled = false;
    })
    .await;
    app.add_doc().await;
    fail_times(&app, "doc", 5).await;
    assert_eq!(app.login("doc", PASSWORD).await.status(), 200);
    assert!(app.state.store.list_lockouts(0).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_cli_unlocks_a_name_and_an_address_on_a_running_server() {
    let app = spawn_with(|c| {
        strict(300)(c);
        c.brute_force.ip_max_failures = 6;
    })
    .await;
    app.add_doc().await;
    fail_times(&app, "doc", 3).await;
    fail_times(&app, "nobody", 3).await;
    expect_error(app.login("doc", PASSWORD).await, 429).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| {
        let out = idp_command(dir.path())
            .args(["--database-url", &app.state.config.database_url])
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let listed: Value = serde_json::from_str(&cli(&["user", "lockouts", "--json"])).unwrap();
    let keys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"doc") && keys.contains(&"nobody") && keys.contains(&"127.0.0.1"));
    assert!(cli(&["user", "lockouts"]).contains("127.0.0.1"));

    assert!(cli(&["user", "unlock", "DOC"]).contains("cleared"));
    // The address is still locked, so doc is still refused.
    expect_error(app.login("doc", PASSWORD).await, 429).await;
    assert!(cli(&["user", "unlock", "--ip", "127.0.0.1"]).contains("cleared"));
    assert_eq!(app.login("doc", PASSWORD).await.status(), 200);
    // Unlocking one name leaves the others locked.
    expect_error(app.login("nobody", PASSWORD).await, 429).await;
    assert!(cli(&["user", "unlock", "nobody"]).contains("cleared"));
    assert!(cli(&["user", "unlock", "nobody"]).contains("no failures recorded"));
}

/// A guess in flight when a lockout begins (failures counted by parallel
/// requests, or by another instance) is not answered, even when right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_success_is_withheld_when_a_lockout_began_during_the_check() {
    let app = std::sync::Arc::new(
        spawn_with(|c| {
            strict(30)(c);
            c.brute_force.ip_max_failures = 0;
        })
        .await,
    );
    app.add_doc().await;
    // Occupy the argon2 workers with slow checks (a costly stored hash), so
    // that doc's check waits its turn for a while after it is reserved.
    let costly = "$argon2id$v=19$m=65536,t=4,p=1$c29tZXNhbHRzb21lc2FsdA$\
                  AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let busy: Vec<_> = (0..2 * app.state.passwords.concurrency())
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let guess = domino_idp::domain::user::Password::parse("guess").unwrap();
                app.state.passwords.verify(&guess, Some(costly)).await
            })
        })
        .collect();
    // And other names' guesses.
    let backlog: Vec<_> = (0..10)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move { app.login(&format!("zed{i}"), "guess").await.status() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let right = {
        let app = app.clone();
        tokio::spawn(async move { answer(app.login("doc", PASSWORD).await).await })
    };
    // Wait until doc's check holds its place on the counter (a probe that
    // wants the only place finds it taken), i.e. the check is under way.
    let policy = app.state.config.brute_force.user_policy();
    let one = domino_idp::store::LockPolicy {
        max_failures: 1,
        ..policy
    };
    loop {
        let now = app.state.clock.now_ms();
        match app
            .state
            .store
            .reserve_login_attempt(FailureKind::User, "doc", now, &one, 60_000, -7)
            .await
            .unwrap()
        {
            domino_idp::store::Reservation::Busy => break,
            _ => {
                app.state
                    .store
                    .release_login_attempt(FailureKind::User, "doc", false)
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    }
    assert!(
        !right.is_finished(),
        "the backlog was too short to test this"
    );
    for _ in 0..3 {
        let now = app.state.clock.now_ms();
        app.state
            .store
            .record_login_failure(FailureKind::User, "doc", now, &policy)
            .await
            .unwrap();
    }
    let (status, headers, _) = right.await.unwrap();
    assert_eq!(status, 429);
    assert!(headers.iter().any(|(n, _)| n == "retry-after"));
    for check in busy {
        assert!(!check.await.unwrap().unwrap().valid);
    }
    for guess in backlog {
        assert_eq!(guess.await.unwrap(), 401);
    }
}
