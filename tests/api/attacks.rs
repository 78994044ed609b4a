//! The attacks of the external review (issue 12), each against the real
//! binary (`domino-idp serve` as a child process on a port-0 listener, on the
//! backend the suite runs on), each failing on the code it was found in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Barrier;

use crate::helpers::{CLIENT_SECRET, PASSWORD, REDIRECT_URI, idp_command};
use crate::piped::output_with_stdin;
use crate::process::{ServerProcess, write_config};

/// A config seeding Doctor Notes and Nurse Ratched, `domino-play` as the
/// helpers' `play_client()` (every grant), and whatever `extra` adds;
/// default brute-force settings.
pub fn config(dir: &Path, extra: &str) -> PathBuf {
    config_with(dir, "", extra)
}

/// `config` with `top` settings first (e.g. a shared `public_url`).
pub fn config_with(dir: &Path, top: &str, extra: &str) -> PathBuf {
    write_config(
        dir,
        &format!(
            r#"
{top}
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
client_id = "domino-play"
secret = "{CLIENT_SECRET}"
redirect_uris = ["{REDIRECT_URI}"]
post_logout_redirect_uris = ["http://127.0.0.1:9/signed-out"]
grant_types = ["authorization_code", "password", "refresh_token", "client_credentials"]
{extra}
"#
        ),
    )
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

/// A grant or Keep login over plain HTTP against a server process.
pub struct Http {
    pub http: reqwest::Client,
    pub base: String,
}

impl Http {
    pub fn of(server: &ServerProcess) -> Http {
        Http {
            http: crate::oidc_flow::no_redirects(),
            base: server.url(""),
        }
    }

    pub fn oidc(&self, endpoint: &str) -> String {
        format!(
            "{}/auth/realms/DominoRealm/protocol/openid-connect/{endpoint}",
            self.base
        )
    }

    /// A password grant at `domino-play`; the JSON response.
    pub async fn grant(&self, username: &str, scope: &str) -> Value {
        let resp = self
            .http
            .post(self.oidc("token"))
            .basic_auth("domino-play", Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", PASSWORD),
                ("scope", scope),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "password grant for {username}");
        resp.json().await.unwrap()
    }

    /// A Keep `/auth` bearer.
    pub async fn keep(&self, username: &str) -> String {
        let resp = self
            .http
            .post(format!("{}/auth", self.base))
            .json(&serde_json::json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "keep login for {username}");
        let body: Value = resp.json().await.unwrap();
        body["bearer"].as_str().unwrap().to_owned()
    }

    pub async fn introspect(&self, token: &str) -> Value {
        self.http
            .post(self.oidc("token/introspect"))
            .basic_auth("domino-play", Some(CLIENT_SECRET))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Userinfo's status and body.
    pub async fn userinfo(&self, token: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(self.oidc("userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or(Value::Null),
        )
    }

    /// Whether the browser with `cookie` is still signed in (prompt=none).
    pub async fn signed_in(&self, cookie: &str) -> bool {
        let url = crate::oidc_flow::authorize_url_at(&self.oidc("auth"), &[("prompt", "none")]);
        let resp = self
            .http
            .get(url)
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .unwrap();
        let to = crate::oidc_flow::location(&resp);
        crate::oidc_flow::query(&to, "code").is_some()
    }
}

/// RP-Initiated Logout §2: a hint that is not an ID token of the browser's
/// own session only asks; it never ends the session by itself.
#[tokio::test]
async fn a_foreign_token_as_id_token_hint_only_asks() {
    use crate::oidc_flow::{VERIFIER, authorize_url_at, query, set_cookie, submit_login};
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &config(dir.path(), ""));
    let api = Http::of(&server);
    // The victim signs in in their browser.
    let (resp, _) = submit_login(&authorize_url_at(&api.oidc("auth"), &[]), PASSWORD).await;
    assert_eq!(resp.status(), 303);
    let victim_cookie = set_cookie(&resp, "DOMINO_IDP_SESSION").unwrap();
    let code = query(&crate::oidc_flow::location(&resp), "code").unwrap();
    let own: Value = api
        .http
        .post(api.oidc("token"))
        .basic_auth("domino-play", Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The attacker's own tokens, every kind this issuer signs.
    let attacker = api.grant("nurse", "openid profile").await;
    let hints = [
        (
            "the attacker's ID token",
            attacker["id_token"].as_str().unwrap().to_owned(),
        ),
        (
            "the attacker's access token",
            attacker["access_token"].as_str().unwrap().to_owned(),
        ),
        ("the attacker's Keep token", api.keep("nurse").await),
        (
            "the victim's access token",
            own["access_token"].as_str().unwrap().to_owned(),
        ),
    ];
    for (what, hint) in &hints {
        let resp = api
            .http
            .get(api.oidc("logout"))
            .query(&[
                ("id_token_hint", hint.as_str()),
                ("client_id", "domino-play"),
                ("post_logout_redirect_uri", "http://127.0.0.1:9/signed-out"),
            ])
            .header(reqwest::header::COOKIE, &victim_cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{what}: the confirmation page");
        let html = resp.text().await.unwrap();
        assert!(html.contains("csrf_token"), "{what}: asks first");
        assert!(
            api.signed_in(&victim_cookie).await,
            "{what} signed the victim out"
        );
    }
    // The attacker's session is not ended either by their own hint.
    let (status, _) = api
        .userinfo(attacker["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    // The victim's own ID token of this session ends it without asking.
    let resp = api
        .http
        .get(api.oidc("logout"))
        .query(&[("id_token_hint", own["id_token"].as_str().unwrap())])
        .header(reqwest::header::COOKIE, &victim_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(!resp.text().await.unwrap().contains("csrf_token"));
    assert!(!api.signed_in(&victim_cookie).await);
    let (status, _) = api.userinfo(own["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401, "the ended session's access token");
}

/// No mapper may target a claim that says whose token it is, for which
/// client or session; the CLI and the config file refuse alike.
#[tokio::test]
async fn mappers_cannot_move_a_token_to_another_user_client_or_session() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    for claim in [
        "preferred_username",
        "typ",
        "azp",
        "sid",
        "session_state",
        "auth_time",
        "nonce",
        "at_hash",
    ] {
        let out = idp_command(dir.path())
            .arg("--config")
            .arg(&cfg)
            .args(["mapper", "add", "evil", "--type", "user-property"])
            .args(["--property", "email", "--claim", claim])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{claim} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("protected"), "{claim}: {err}");
        // Seeded from the file: the server refuses to start.
        let bad = config(
            dir.path(),
            &format!(
                "[[mappers]]\nname = \"evil\"\ntype = \"hardcoded\"\nclaim = \"{claim}\"\nvalue = \"nurse\""
            ),
        );
        let out = idp_command(dir.path())
            .arg("--config")
            .arg(&bad)
            .arg("check-config")
            .output()
            .unwrap();
        assert!(!out.status.success(), "{claim} was accepted from the file");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("protected") && err.contains(claim),
            "{claim}: {err}"
        );
    }
    // An attribute mapper on a claim of its own still works, and userinfo
    // still answers for the token's own user.
    let cfg = config(
        dir.path(),
        "[[mappers]]\nname = \"login\"\ntype = \"user-property\"\nproperty = \"email\"\nclaim = \"login\"",
    );
    let server = ServerProcess::start(dir.path(), &cfg);
    let api = Http::of(&server);
    let token = api.grant("doc", "openid profile email").await;
    let (status, info) = api.userinfo(token["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(info["preferred_username"], "doc");
    assert_eq!(info["login"], "doctor.notes@projectkeep.io");
}

/// OIDC Core §2: `sub` is never reassigned. A removed user's tokens are
/// inactive everywhere, and a new user of the same name is someone else.
#[tokio::test]
async fn a_token_dies_with_its_user() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "");
    let server = ServerProcess::start(dir.path(), &cfg);
    let api = Http::of(&server);
    let add = |email: &str| {
        let out = output_with_stdin(
            idp_command(dir.path()).arg("--config").arg(&cfg).args([
                "user",
                "add",
                "temp",
                "--email",
                email,
                "--password-stdin",
            ]),
            PASSWORD.as_bytes(),
        );
        assert!(out.status.success());
    };
    add("first@example.com");
    let keep = api.keep("temp").await;
    let oauth = api.grant("temp", "openid email").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for token in [&keep, &oauth] {
        assert_eq!(api.introspect(token).await["active"], true);
        assert_eq!(api.userinfo(token).await.0, 200);
    }
    cli(dir.path(), &cfg, &["user", "remove", "temp"]);
    add("second@example.com");
    for token in [&keep, &oauth] {
        assert_eq!(api.introspect(token).await["active"], false);
        let (status, body) = api.userinfo(token).await;
        assert_eq!(status, 401, "{body}");
    }
    // The new temp is a principal of its own.
    let fresh = api.grant("temp", "openid email").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, info) = api.userinfo(&fresh).await;
    assert_eq!(status, 200);
    assert_eq!(info["email"], "second@example.com");
    // Disabling ends them too, at once.
    cli(dir.path(), &cfg, &["user", "disable", "temp"]);
    assert_eq!(api.introspect(&fresh).await["active"], false);
    assert_eq!(api.userinfo(&fresh).await.0, 401);
}

/// RFC 6750 §2.3: a bearer token in the URL is refused; the header and a
/// POSTed form body still carry it.
#[tokio::test]
async fn a_token_in_the_url_is_refused_at_userinfo() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), &config(dir.path(), ""));
    let api = Http::of(&server);
    let token = api.grant("doc", "openid profile").await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for req in [
        api.http
            .get(api.oidc("userinfo"))
            .query(&[("access_token", token.as_str())]),
        api.http
            .post(api.oidc("userinfo"))
            .query(&[("access_token", token.as_str())]),
    ] {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 400);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{body}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("header")
        );
    }
    assert_eq!(api.userinfo(&token).await.0, 200);
    let resp = api
        .http
        .post(api.oidc("userinfo"))
        .form(&[("access_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// Any token, a Keep token included, can be revoked by the operator by the
/// token or by its jti: userinfo and introspection refuse it on every
/// instance until it expires.
#[tokio::test]
async fn the_operator_revokes_a_keep_token() {
    let dir = tempfile::tempdir().unwrap();
    // Two instances behind one name, as behind a balancer.
    let cfg = config_with(dir.path(), "public_url = \"http://idp.test\"", "");
    let a = ServerProcess::start(dir.path(), &cfg);
    let b = ServerProcess::start(dir.path(), &cfg);
    let (api_a, api_b) = (Http::of(&a), Http::of(&b));
    let by_token = api_a.keep("doc").await;
    let by_jti = api_a.keep("doc").await;
    let kept = api_a.keep("doc").await;
    // Clients cannot revoke a Keep token (it was issued to no client).
    let resp = api_a
        .http
        .post(api_a.oidc("revoke"))
        .basic_auth("domino-play", Some(CLIENT_SECRET))
        .form(&[("token", by_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // The token on stdin, never in argv.
    let out = output_with_stdin(
        idp_command(dir.path())
            .arg("--config")
            .arg(&cfg)
            .args(["token", "revoke", "-"]),
        format!("{by_token}\n").as_bytes(),
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("revoked"));
    let jti = api_a.introspect(&by_jti).await["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    cli(dir.path(), &cfg, &["token", "revoke", &jti]);
    for api in [&api_a, &api_b] {
        for token in [&by_token, &by_jti] {
            assert_eq!(api.introspect(token).await["active"], false);
            assert_eq!(api.userinfo(token).await.0, 401);
        }
        assert_eq!(api.introspect(&kept).await["active"], true);
    }
    // A token of another issuer is refused, not silently "revoked".
    let out = idp_command(dir.path())
        .arg("--config")
        .arg(&cfg)
        .args(["token", "revoke", "e30.e30.c2ln"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// A client's `allowed_scopes` bounds what it can get for a user: a client
/// that lists no Keep scope never gets a token carrying one.
#[tokio::test]
async fn a_client_gets_only_its_allowed_scopes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        r#"
[[clients]]
client_id = "reports"
secret = "reports-secret-0123456789"
grant_types = ["password"]
allowed_scopes = ["openid", "profile", "$DATA"]
"#,
    );
    let server = ServerProcess::start(dir.path(), &cfg);
    let api = Http::of(&server);
    let resp = api
        .http
        .post(api.oidc("token"))
        .basic_auth("reports", Some("reports-secret-0123456789"))
        .form(&[
            ("grant_type", "password"),
            ("username", "doc"),
            ("password", PASSWORD),
            ("scope", "openid profile email MAIL $DATA"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "openid profile $DATA");
    let claims = api.introspect(body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["scope"], "openid profile $DATA");
    // Without a list, as before: the user's Keep scopes and the OIDC ones.
    let all = api.grant("doc", "openid email MAIL $DATA").await;
    assert_eq!(all["scope"], "openid email MAIL $DATA");
    // The CLI sets and shows the list.
    cli(
        dir.path(),
        &cfg,
        &[
            "client",
            "add",
            "mail-only",
            "--grant",
            "password",
            "--allowed-scope",
            "MAIL",
        ],
    );
    let listed = cli(dir.path(), &cfg, &["client", "list", "--json"]);
    assert!(listed.contains("\"allowed_scopes\""), "{listed}");
}
