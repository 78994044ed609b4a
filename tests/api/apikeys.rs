//! API keys: `apikey create|list|revoke` against the real binary, and what
//! a key is worth at the Domino API (`X-Domino-Api-Key`): nothing once it
//! is revoked, expired, bogus, or its user is disabled or removed; and
//! failed keys spend the address's brute-force budget.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;
use crate::process::ServerProcess;
use crate::seeded::{cli, config};

/// The key a successful `apikey create` printed: alone, on its last line.
fn printed_key(stdout: &str) -> String {
    let key = stdout.lines().last().expect("output").to_owned();
    assert!(key.starts_with("dik_") && key.len() == 47, "{stdout}");
    key
}

fn idp(dir: &Path, args: &[&str]) -> Output {
    idp_command(dir).args(args).output().expect("the CLI runs")
}

fn create_key(dir: &Path, args: &[&str]) -> String {
    let out = idp(dir, &[&["apikey", "create"], args].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    printed_key(&String::from_utf8_lossy(&out.stdout))
}

async fn with_key(http: &reqwest::Client, url: String, key: &str) -> reqwest::Response {
    http.get(url)
        .header("X-Domino-Api-Key", key)
        .send()
        .await
        .expect("request sent")
}

#[tokio::test]
async fn the_cli_creates_lists_and_revokes_keys_that_the_server_honours_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let server = ServerProcess::start(dir.path(), &cfg);
    let http = reqwest::Client::new();

    let out = cli(
        dir.path(),
        &cfg,
        &["apikey", "create", "doc", "--name", "ci"],
    );
    let key = printed_key(&out);
    assert_eq!(out.matches(key.as_str()).count(), 1, "{out}");
    let second = printed_key(&cli(dir.path(), &cfg, &["apikey", "create", "doc"]));
    let nurse = printed_key(&cli(dir.path(), &cfg, &["apikey", "create", "nurse"]));
    assert_ne!(key, second);

    // The key works as the header, for its user only.
    let resp = with_key(&http, server.url("/v4/users/self"), &key).await;
    assert_eq!(resp.status(), 200);
    let me: Value = resp.json().await.unwrap();
    assert_eq!(me["userName"], "doc");
    assert_eq!(me["email"], "doctor.notes@projectkeep.io");
    let resp = with_key(&http, server.url("/v4/users/self"), &nurse).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["userName"], "nurse");
    let resp = with_key(&http, server.url("/v4/auth/principal"), &key).await;
    assert_eq!(resp.status(), 200);
    let principal: Value = resp.json().await.unwrap();
    assert_eq!(principal["isAnonymous"], false);
    assert_eq!(principal["canonicalName"], "doc");
    assert_eq!(principal["canonicalId"], me["id"]);

    // Listed by user and in all, never with the key or its digest.
    let digest = domino_idp::domain::opaque::digest(&key);
    let listed: Value =
        serde_json::from_str(&cli(dir.path(), &cfg, &["apikey", "list", "doc", "--json"])).unwrap();
    let listed = listed.as_array().unwrap().clone();
    assert_eq!(listed.len(), 2);
    let ci = listed.iter().find(|k| k["name"] == "ci").unwrap();
    assert_eq!(ci["username"], "doc");
    assert_eq!(ci["expires_at"], Value::Null);
    assert!(ci["last_used_at"].is_i64(), "a use is recorded: {ci}");
    assert!(listed.iter().any(|k| k["name"] == "default"));
    let all = cli(dir.path(), &cfg, &["apikey", "list", "--json"]);
    assert_eq!(
        serde_json::from_str::<Value>(&all)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    for text in [all, cli(dir.path(), &cfg, &["apikey", "list"])] {
        for secret in [&key, &second, &nurse, &digest] {
            assert!(!text.contains(secret.as_str()), "{text}");
        }
        assert!(!text.contains("dik_"), "{text}");
    }
    assert!(!server.log().contains(&key), "the key reached the log");

    // Revoked: refused at once; the other keys still work.
    let id = ci["id"].as_str().unwrap();
    let out = cli(dir.path(), &cfg, &["apikey", "revoke", id]);
    assert!(out.contains(id), "{out}");
    let resp = with_key(&http, server.url("/v4/users/self"), &key).await;
    let body = expect_error(resp, 401).await;
    assert_eq!(body["error"], "invalid_credentials");
    let resp = with_key(&http, server.url("/v4/users/self"), &second).await;
    assert_eq!(resp.status(), 200);
    // Revoking twice, or a key of no one, fails without harm.
    let out = idp_command(dir.path())
        .arg("--config")
        .arg(&cfg)
        .args(["apikey", "revoke", id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no API key"));
    // The audit trail names the events, never a key.
    let log = server.log();
    assert!(log.contains("apikey.refused"), "{log}");
    for secret in [&key, &second, &nurse] {
        assert!(!log.contains(secret.as_str()));
    }
}

#[test]
fn bad_cli_input_is_refused_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (args, code, why) in [
        (
            vec!["apikey", "create", "doc", "--expires-in", "0"],
            2,
            "expires-in",
        ),
        (vec!["apikey", "create", "doc", "--name", ""], 2, "name"),
        (vec!["apikey", "create", "ghost"], 1, "no user named"),
        (vec!["apikey", "list", "ghost"], 1, "no user named"),
        (vec!["apikey", "revoke", "nope"], 1, "no API key"),
    ] {
        let out = idp(dir, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(why), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains("dik_"));
    }
    let out = idp(dir, &["apikey", "list", "--json"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let app = spawn_in(tmp.path(), |_| {}).await;
    app.add_doc().await;
    // Long enough to outlast the next CLI run on a slow machine.
    let short = create_key(tmp.path(), &["doc", "--expires-in", "30"]);
    let long = create_key(tmp.path(), &["doc", "--expires-in", "3600"]);
    for key in [&short, &long] {
        assert_eq!(
            with_key(&app.client, app.url("/v4/users/self"), key)
                .await
                .status(),
            200
        );
    }
    app.clock.advance(Duration::from_secs(31));
    expect_error(
        with_key(&app.client, app.url("/v4/users/self"), &short).await,
        401,
    )
    .await;
    assert_eq!(
        with_key(&app.client, app.url("/v4/users/self"), &long)
            .await
            .status(),
        200
    );
    // The exchange refuses it too.
    let resp = app
        .oidc_post(
            "token",
            &[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ),
                ("subject_token", &short),
                (
                    "subject_token_type",
                    "urn:domino:params:oauth:token-type:api-key",
                ),
                ("client_id", "domino-play"),
            ],
            None,
        )
        .await;
    expect_oauth_error(resp, 400, "invalid_grant").await;
    let listed: Value =
        serde_json::from_slice(&idp(tmp.path(), &["apikey", "list", "doc", "--json"]).stdout)
            .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["expires_at"].is_i64())
    );
}

#[tokio::test]
async fn a_disabled_or_removed_users_keys_stop_working_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let app = spawn_in(tmp.path(), |_| {}).await;
    app.add_doc().await;
    let key = create_key(tmp.path(), &["doc"]);
    let me = || with_key(&app.client, app.url("/v4/users/self"), &key);
    assert_eq!(me().await.status(), 200);
    assert!(
        idp(tmp.path(), &["user", "disable", "doc"])
            .status
            .success()
    );
    expect_error(me().await, 401).await;
    assert!(idp(tmp.path(), &["user", "enable", "doc"]).status.success());
    assert_eq!(me().await.status(), 200);
    assert!(idp(tmp.path(), &["user", "remove", "doc"]).status.success());
    expect_error(me().await, 401).await;
    // The keys went with the user; a new user of the same name has none.
    app.add_doc().await;
    expect_error(me().await, 401).await;
    let out = idp(tmp.path(), &["apikey", "list", "--json"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
}

#[tokio::test]
async fn bogus_keys_and_hostile_headers_are_refused_never_a_5xx() {
    let app = spawn_app().await;
    app.add_doc().await;
    let store = app.state.store.as_ref();
    let created = domino_idp::app::apikeys::create(store, "doc", None, None, 0)
        .await
        .unwrap();
    let good = created.key;
    let url = app.url("/v4/users/self");
    let unknown = format!("dik_{}", "A".repeat(43));
    let huge = "dik_".to_owned() + &"x".repeat(8000);
    for bogus in [
        "",
        "dik_",
        unknown.as_str(),
        &good[..good.len() - 1],
        &good.to_uppercase(),
        huge.as_str(),
        "' OR 1=1 --",
    ] {
        let resp = with_key(&app.client, url.clone(), bogus).await;
        let body = expect_error(resp, 401).await;
        assert_eq!(body["error"], "invalid_credentials", "{bogus:.20}");
    }
    // Bytes that are not text, two keys, bad Authorization schemes.
    let raw = |name: &'static str, value: &'static [u8]| {
        app.client
            .get(url.clone())
            .header(
                name,
                reqwest::header::HeaderValue::from_bytes(value).unwrap(),
            )
            .send()
    };
    for resp in [
        raw("x-domino-api-key", b"dik_\xff\xfe").await.unwrap(),
        raw("authorization", b"Bearer \xff").await.unwrap(),
        raw("authorization", b"Basic ZG9jOnB3").await.unwrap(),
        raw("authorization", b"Bearer").await.unwrap(),
        raw("authorization", b"Bearer not.a.jwt").await.unwrap(),
        app.client
            .get(url.clone())
            .header("X-Domino-Api-Key", &good)
            .header("X-Domino-Api-Key", &good)
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(
            resp.headers()["www-authenticate"],
            "Bearer realm=\"DominoRealm\""
        );
        expect_error(resp, 401).await;
    }
    // Larger than the server's header limit: a 4xx from below the routes.
    let resp = with_key(&app.client, url.clone(), &"k".repeat(20_000)).await;
    assert_eq!(resp.status(), 431);
    // Never 409 (python-domino reads it as "relogin required").
    let resp = with_key(&app.client, url.clone(), &good).await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn failed_keys_spend_the_address_budget_and_a_locked_address_is_refused() {
    let app = spawn_with(|c| c.brute_force.ip_max_failures = 3).await;
    app.add_doc_and_play().await;
    let store = app.state.store.as_ref();
    let good = domino_idp::app::apikeys::create(store, "doc", None, None, 0)
        .await
        .unwrap()
        .key;
    let url = app.url("/v4/users/self");
    for _ in 0..3 {
        let bogus = format!("dik_{}", domino_idp::domain::opaque::generate());
        expect_error(with_key(&app.client, url.clone(), &bogus).await, 401).await;
    }
    // Locked: even the right key is refused, with when to retry.
    let resp = with_key(&app.client, url.clone(), &good).await;
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body = expect_error(resp, 429).await;
    assert_eq!(body["error"], "too_many_requests");
    // The same budget as password logins and the token exchange.
    let resp = app.login("doc", PASSWORD).await;
    assert_eq!(resp.status(), 429);
    let resp = app
        .oidc_post(
            "token",
            &[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ),
                ("subject_token", &good),
                (
                    "subject_token_type",
                    "urn:domino:params:oauth:token-type:api-key",
                ),
            ],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await;
    assert!(resp.headers().contains_key("retry-after"));
    expect_oauth_error(resp, 400, "invalid_grant").await;
    // The lockout ends.
    app.clock.advance(Duration::from_secs(61));
    assert_eq!(
        with_key(&app.client, url.clone(), &good).await.status(),
        200
    );
}
