//! Parallel password guesses get no more checks than `max_failures`, and a
//! user's email shares the budget of its locked name.

use super::*;

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
            .basic_auth("domino-play", Some(CLIENT_SECRET))
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
