//! The binary as an operator uses it: `serve` with no configuration, the user
//! and key commands, `token verify`, `check-config` and the config layers.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::*;

/// The binary with a clean environment, run in `dir`.
fn idp(dir: &Path) -> Command {
    let mut cmd = idp_command(dir);
    cmd.env("RUST_LOG", "info");
    cmd
}

fn run_with_stdin(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that refuses its arguments exits without reading stdin.
    match child.stdin.take().unwrap().write_all(input.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.unwrap(),
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn serve_with_no_config_creates_its_files_and_stops_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = idp(tmp.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let client = reqwest::Client::new();
    let ready = client
        .get(format!("http://{addr}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    // On Postgres the database is the test's (see helpers::database_url).
    assert_eq!(tmp.path().join("data/idp.db").is_file(), !on_postgres());
    let pems: Vec<_> = std::fs::read_dir(tmp.path().join("keys"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pem"))
        .collect();
    assert_eq!(pems.len(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&pems[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let kid = pems[0].file_stem().unwrap().to_str().unwrap().to_owned();
    let jwks: Value = client
        .get(format!(
            "http://{addr}/auth/realms/DominoRealm/protocol/openid-connect/certs"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], kid.as_str());

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "server ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
}

#[tokio::test]
async fn user_commands_manage_the_store_the_server_uses() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut add = idp(dir);
    add.args([
        "user",
        "add",
        "doc",
        "--cn",
        "Doctor Notes",
        "--org",
        "ProjectKeep",
        "--email",
        "doctor.notes@projectkeep.io",
        "--scope",
        "MAIL $DATA",
        "--attribute",
        "dept=R&D",
        "--attribute",
        "dept=QA",
        "--group",
        "Admins",
        "--password-stdin",
    ]);
    let out = run_with_stdin(add, &format!("{PASSWORD}\n"));
    assert!(out.status.success(), "{}", stderr(&out));

    let out = idp(dir).args(["user", "show", "DOC"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let shown: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(shown["cn"], "Doctor Notes");
    assert_eq!(shown["scopes"], serde_json::json!(["MAIL", "$DATA"]));
    assert_eq!(
        shown["attributes"]["dept"],
        serde_json::json!(["R&D", "QA"])
    );
    assert_eq!(shown["groups"], serde_json::json!(["Admins"]));
    assert!(!stdout(&out).contains("argon2"), "no hash in output");

    let out = idp(dir).args(["user", "list"]).output().unwrap();
    assert!(stdout(&out).contains("CN=Doctor Notes/O=ProjectKeep"));

    // The server on the same files logs the CLI's user in.
    let app = spawn_in(dir, |_| {}).await;
    assert_eq!(app.login("doc", PASSWORD).await.status(), 200);

    let out = run_with_stdin(
        {
            let mut c = idp(dir);
            c.args(["user", "set-password", "doc", "--password-stdin"]);
            c
        },
        "n3w-password\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(app.login("doc", PASSWORD).await.status(), 401);
    assert_eq!(app.login("doc", "n3w-password").await.status(), 200);

    let out = idp(dir).args(["user", "disable", "doc"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(app.login("doc", "n3w-password").await.status(), 401);
    let out = idp(dir).args(["user", "enable", "doc"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(app.login("doc", "n3w-password").await.status(), 200);

    let out = idp(dir).args(["user", "remove", "doc"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(app.login("doc", "n3w-password").await.status(), 401);
    let out = idp(dir).args(["user", "remove", "doc"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test]
async fn bad_user_input_is_refused_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for args in [
        vec!["user", "add", "bad\u{7}name", "--password-stdin"],
        vec![
            "user",
            "add",
            "ok",
            "--email",
            "not-an-email",
            "--password-stdin",
        ],
        vec!["user", "add", "ok", "--cn", "a/b", "--password-stdin"],
        vec![
            "user",
            "add",
            "ok",
            "--attribute",
            "novalue",
            "--password-stdin",
        ],
    ] {
        let mut cmd = idp(dir);
        cmd.args(&args);
        let out = run_with_stdin(cmd, "pw\n");
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    }
    // An empty password is refused too.
    let mut cmd = idp(dir);
    cmd.args(["user", "add", "ok", "--password-stdin"]);
    assert_eq!(run_with_stdin(cmd, "\n").status.code(), Some(1));
    // Passwords are never taken from argv.
    let out = idp(dir)
        .args(["user", "add", "ok", "--password", "secret"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Without a terminal and without --password-stdin there is no prompt.
    let out = idp(dir)
        .args(["user", "add", "ok"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--password-stdin"));

    let out = idp(dir).args(["user", "list", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&out)).unwrap(),
        serde_json::json!([])
    );
    // A duplicate is a clear error, and the first user is untouched.
    for expected in [Some(0), Some(1)] {
        let mut cmd = idp(dir);
        cmd.args(["user", "add", "Twin", "--password-stdin"]);
        assert_eq!(run_with_stdin(cmd, "pw\n").status.code(), expected);
    }
}

#[tokio::test]
async fn keys_export_and_token_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // The CLI's default issuer is http://127.0.0.1:8080/...; make the server agree.
    let app = spawn_in(dir, |c| c.public_url = Some("http://127.0.0.1:8080".into())).await;
    app.add_doc().await;
    let body: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    let token = body["bearer"].as_str().unwrap();

    let out = idp(dir)
        .args(["keys", "export", "--format", "jwks"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let exported: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(exported, app.jwks().await);

    let out = idp(dir)
        .args(["keys", "export", "--format", "pem"])
        .output()
        .unwrap();
    let pem = stdout(&out);
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["Domino"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).expect("PEM verifies the token");

    let out = idp(dir).args(["keys", "list"]).output().unwrap();
    assert!(stdout(&out).contains(app.state.keys.signer().kid()));
    assert!(stdout(&out).contains("active"));

    let out = idp(dir).args(["token", "verify", token]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let claims: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(claims, body["claims"]);
    let mut from_stdin = idp(dir);
    from_stdin.args(["token", "verify", "-"]);
    assert!(run_with_stdin(from_stdin, token).status.success());

    let mut tampered: Vec<char> = token.chars().collect();
    let at = tampered.len() - 20;
    tampered[at] = if tampered[at] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    for (args, why) in [
        (
            vec!["token", "verify", tampered.as_str()],
            "InvalidSignature",
        ),
        (vec!["token", "verify", "not.a.jwt"], "malformed"),
        (
            vec!["token", "verify", token, "--expect-audience", "Other"],
            "InvalidAudience",
        ),
        (
            vec!["token", "verify", token, "--issuer", "http://evil/"],
            "InvalidIssuer",
        ),
    ] {
        let out = idp(dir).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(why), "{why}: {}", stderr(&out));
    }
    // alg=none is refused.
    let parts: Vec<&str> = token.split('.').collect();
    let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]);
    let out = idp(dir).args(["token", "verify", &none]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn config_errors_name_the_setting() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("bad.toml"), "lisen = \"127.0.0.1:1\"\n").unwrap();
    let out = idp(dir)
        .args(["--config", "bad.toml", "check-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("lisen"), "{}", stderr(&out));
    assert!(stderr(&out).contains("README"), "{}", stderr(&out));

    let out = idp(dir)
        .env("DOMINO_IDP_LEEWAY", "soon")
        .args(["check-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).to_lowercase().contains("leeway"),
        "{}",
        stderr(&out)
    );

    let out = idp(dir)
        .args(["--public-url", "ftp://x", "serve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("public_url"), "{}", stderr(&out));

    let out = idp(dir)
        .args(["--config", "missing.toml", "serve"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.toml"), "{}", stderr(&out));

    std::fs::write(
        dir.join("users.toml"),
        "[[users]]\nusername = \"x\"\npassword = \"pw\"\nemail = \"nope\"\n",
    )
    .unwrap();
    let out = idp(dir)
        .args(["--config", "users.toml", "check-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("users[0]"), "{}", stderr(&out));
    assert!(!dir.join("data").exists(), "a failed start writes nothing");
}

#[test]
fn config_layers_defaults_file_env_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("c.toml"),
        "realm = \"FileRealm\"\naudience = \"FileAud\"\nleeway = 7\n\n[[users]]\nusername = \"seed\"\npassword = \"s3cret-seed\"\n",
    )
    .unwrap();
    let out = idp(dir)
        .env("DOMINO_IDP_CONFIG", "c.toml")
        .env("DOMINO_IDP_AUDIENCE", "EnvAud")
        .env("DOMINO_IDP_REALM", "EnvRealm")
        .args(["--realm", "FlagRealm", "check-config"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let effective: toml::Value = toml::from_str(&text).unwrap();
    assert_eq!(effective["realm"].as_str(), Some("FlagRealm"));
    assert_eq!(effective["audience"].as_str(), Some("EnvAud"));
    assert_eq!(effective["leeway"].as_integer(), Some(7));
    assert_eq!(effective["access_token_ttl"].as_integer(), Some(300));
    assert!(
        !text.contains("s3cret-seed"),
        "secrets are redacted: {text}"
    );
}

#[tokio::test]
async fn migrate_creates_the_database() {
    let tmp = tempfile::tempdir().unwrap();
    let out = idp(tmp.path()).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(tmp.path().join("data/idp.db").is_file(), !on_postgres());
    let again = idp(tmp.path()).arg("migrate").output().unwrap();
    assert!(again.status.success());
    let store = domino_idp::store::open(&database_url(tmp.path()))
        .await
        .unwrap();
    assert_eq!(
        store.list_users().await.unwrap().len(),
        0,
        "the tables exist"
    );
}

/// Runs `client add` with `args`, feeding `stdin` when given.
fn client_add(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = idp(dir);
    cmd.args(["client", "add"]).args(args);
    match stdin {
        Some(input) => run_with_stdin(cmd, input),
        None => cmd.stdin(Stdio::null()).output().unwrap(),
    }
}

/// The secret a `client add` printed, from its `client_secret: ` line.
fn printed_secret(out: &Output) -> Option<String> {
    stdout(out)
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: "))
        .map(str::to_owned)
}

fn list_json(dir: &Path) -> Value {
    let out = idp(dir)
        .args(["client", "list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

/// `client add` with `args` and no stdin, which must succeed.
fn client_added(dir: &Path, args: &[&str]) -> Output {
    let out = client_add(dir, args, None);
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

/// Runs `client edit ID` with `args`.
fn client_edit(dir: &Path, id: &str, args: &[&str]) -> Output {
    idp(dir)
        .args(["client", "edit", id])
        .args(args)
        .output()
        .unwrap()
}

/// `client show ID --json`, which must succeed.
fn show_json(dir: &Path, id: &str) -> Value {
    let out = idp(dir)
        .args(["client", "show", id, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

/// That `out` succeeded and wrote a `client.edit` audit line.
fn assert_edit_audited(out: &Output) {
    assert!(out.status.success(), "{}", stderr(out));
    assert!(
        stderr(out).contains("client.edit"),
        "audited: {}",
        stderr(out)
    );
}

#[tokio::test]
async fn client_add_generates_a_secret_shown_once_that_authenticates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = client_added(
        dir,
        &["webapp", "--redirect-uri", "http://localhost:3000/cb"],
    );
    let secret = printed_secret(&out).expect("the generated secret is printed");
    assert_eq!(secret.len(), 43, "{secret}");
    assert!(stdout(&out).contains("only once"), "{}", stdout(&out));
    assert_eq!(stdout(&out).matches(secret.as_str()).count(), 1);

    // The store the CLI wrote holds a hash that the printed secret matches.
    let store = domino_idp::store::open(&database_url(dir)).await.unwrap();
    let client = store.get_client("webapp").await.unwrap().unwrap();
    assert!(client.secret_matches(&secret));
    assert!(!client.secret_matches("not-the-secret-at-all"));
    let hash = client.secret_hash.clone().unwrap();
    let digest = hash.split_once('$').unwrap().1.to_owned();

    // Neither the secret nor its hash is ever listed.
    for args in [vec!["client", "list"], vec!["client", "list", "--json"]] {
        let out = idp(dir).args(&args).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("webapp"), "{text}");
        assert!(text.contains("confidential"), "{text}");
        assert!(!text.contains(&secret), "{args:?} shows the secret");
        assert!(!text.contains(&digest), "{args:?} shows the hash");
        assert!(!text.contains('$'), "{args:?}: {text}");
    }
    // Adding it again does not print (or regenerate) anything.
    let again = client_add(
        dir,
        &["webapp", "--redirect-uri", "http://localhost:3000/cb"],
        None,
    );
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert!(printed_secret(&again).is_none());
    let client = store.get_client("webapp").await.unwrap().unwrap();
    assert!(
        client.secret_matches(&secret),
        "the first client is untouched"
    );
}

#[tokio::test]
async fn client_add_reads_the_secret_from_stdin() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = client_add(
        dir,
        &[
            "svc",
            "--grant",
            "client_credentials",
            "--default-scope",
            "MAIL",
            "--secret-stdin",
        ],
        Some("a-very-long-service-secret\nsecond line ignored\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(printed_secret(&out).is_none(), "{}", stdout(&out));
    assert!(!stdout(&out).contains("a-very-long-service-secret"));

    let store = domino_idp::store::open(&database_url(dir)).await.unwrap();
    let client = store.get_client("svc").await.unwrap().unwrap();
    assert!(client.secret_matches("a-very-long-service-secret"));
    assert!(!client.secret_matches("a-very-long-service-secret\n"));

    let listed = list_json(dir);
    assert_eq!(listed[0]["client_id"], "svc");
    assert_eq!(listed[0]["type"], "confidential");
    assert_eq!(
        listed[0]["grant_types"],
        serde_json::json!(["client_credentials"])
    );
    assert_eq!(listed[0]["default_scopes"], serde_json::json!(["MAIL"]));
    assert!(!listed.to_string().contains("secret"), "{listed}");

    // Secrets are never accepted in argv.
    let out = client_add(dir, &["other", "--secret", "a-very-long-secret-1"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn client_add_public_list_json_and_remove() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out = client_added(
        dir,
        &[
            "spa",
            "--public",
            "--name",
            "My SPA",
            "--redirect-uri",
            "http://localhost:5173/cb",
            "--redirect-uri",
            "myapp://callback",
            "--post-logout-redirect-uri",
            "http://localhost:5173/",
            "--grant",
            "authorization_code",
            "--grant",
            "refresh_token",
        ],
    );
    assert!(
        printed_secret(&out).is_none(),
        "a public client has no secret"
    );
    client_added(dir, &["legacy", "--redirect-uri", "https://app.example/cb"]);

    let listed = list_json(dir);
    let all = listed.as_array().unwrap();
    assert_eq!(all.len(), 2);
    let spa = all.iter().find(|c| c["client_id"] == "spa").unwrap();
    assert_eq!(spa["type"], "public");
    assert_eq!(spa["name"], "My SPA");
    assert_eq!(
        spa["redirect_uris"],
        serde_json::json!(["http://localhost:5173/cb", "myapp://callback"])
    );
    assert_eq!(
        spa["post_logout_redirect_uris"],
        serde_json::json!(["http://localhost:5173/"])
    );
    assert_eq!(
        spa["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    let legacy = all.iter().find(|c| c["client_id"] == "legacy").unwrap();
    assert_eq!(legacy["type"], "confidential");
    assert_eq!(
        legacy["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token", "password"]),
        "no --grant means the default grants"
    );
    for c in all {
        assert!(c.get("secret_hash").is_none(), "{c}");
    }

    let out = idp(dir).args(["client", "list"]).output().unwrap();
    let table = stdout(&out);
    let spa_row = table.lines().find(|l| l.starts_with("spa ")).unwrap();
    assert!(spa_row.contains("public"), "{table}");
    assert!(spa_row.contains("myapp://callback"), "{table}");

    let out = idp(dir).args(["client", "remove", "spa"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = idp(dir).args(["client", "remove", "spa"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no client"), "{}", stderr(&out));
    let listed = list_json(dir);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["client_id"], "legacy");
}

#[test]
fn bad_client_input_is_a_usage_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cb = "http://localhost/cb";
    for (args, stdin, why) in [
        (vec!["bad id", "--redirect-uri", cb], None, "client_id"),
        (vec!["a:b", "--redirect-uri", cb], None, "client_id"),
        (
            vec!["ok", "--redirect-uri", cb, "--secret-stdin"],
            Some("short\n"),
            "secret",
        ),
        (
            vec!["ok", "--redirect-uri", cb, "--secret-stdin"],
            Some(""),
            "secret",
        ),
        (vec!["ok"], None, "redirect_uris"),
        (
            vec!["ok", "--redirect-uri", "http://x/cb#frag"],
            None,
            "fragment",
        ),
        (
            vec!["ok", "--public", "--grant", "client_credentials"],
            None,
            "client_credentials",
        ),
        (vec!["ok", "--grant", "implicit"], None, "implicit"),
        (
            vec!["ok", "--public", "--redirect-uri", cb, "--secret-stdin"],
            Some("a-very-long-secret-1\n"),
            "--secret-stdin",
        ),
    ] {
        let out = client_add(dir, &args, stdin);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
        assert!(stderr(&out).contains(why), "{why}: {}", stderr(&out));
    }
    assert!(!dir.join("data").exists(), "refused input opens no store");
    assert_eq!(list_json(dir), serde_json::json!([]));
}

#[test]
fn client_add_takes_web_origins() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    client_added(
        dir,
        &[
            "spa",
            "--public",
            "--redirect-uri",
            "http://localhost:3000/cb",
            "--web-origin",
            "+",
            "--web-origin",
            "https://Other.Example/",
        ],
    );
    client_added(
        dir,
        &[
            "plain",
            "--public",
            "--redirect-uri",
            "http://localhost:4000/cb",
        ],
    );
    let list = list_json(dir);
    let web = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|c| c["client_id"] == id)
            .unwrap()["web_origins"]
            .clone()
    };
    assert_eq!(
        web("spa"),
        serde_json::json!(["+", "https://other.example"])
    );
    assert_eq!(web("plain"), serde_json::json!(["+"]), "the default");
    for bad in ["null", "file:///x", "https://x.example/path"] {
        let out = client_add(
            dir,
            &[
                "bad",
                "--public",
                "--redirect-uri",
                "http://x/cb",
                "--web-origin",
                bad,
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("web_origins"), "{}", stderr(&out));
    }
}

/// `client edit --web-origin` replaces a client's web origins: `client show
/// --json` shows them and the server's CORS allows exactly them;
/// `--no-web-origins` empties the list, `--redirect-uri` replaces the
/// redirect URIs, and a bad origin is a usage error that writes nothing.
#[tokio::test]
async fn client_edit_replaces_web_origins_and_redirect_uris() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    client_added(
        dir,
        &[
            "spa",
            "--public",
            "--redirect-uri",
            "http://localhost:3000/cb",
        ],
    );
    let edit = |args: &[&str]| client_edit(dir, "spa", args);
    let show = || show_json(dir, "spa");
    let out = edit(&[
        "--web-origin",
        "https://SPA.example/",
        "--web-origin",
        "https://other.example:8443",
    ]);
    assert_edit_audited(&out);
    let spa = show();
    assert_eq!(
        spa["web_origins"],
        serde_json::json!(["https://spa.example", "https://other.example:8443"])
    );
    assert_eq!(
        spa["redirect_uris"],
        serde_json::json!(["http://localhost:3000/cb"]),
        "untouched"
    );
    assert_eq!(
        spa["default_scopes"],
        serde_json::json!(["profile", "email", "roles", "web-origins"])
    );

    let out = edit(&["--web-origin", "https://x.example/path"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("web_origins"), "{}", stderr(&out));
    assert_eq!(show()["web_origins"], spa["web_origins"], "nothing written");

    // The server on the same files allows the new origins, not the old `+`.
    let app = spawn_in(dir, |_| {}).await;
    let ok = app.token_preflight("https://spa.example").await;
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://spa.example"
    );
    let old = app.token_preflight("http://localhost:3000").await;
    assert!(old.headers().get("access-control-allow-origin").is_none());

    let out = edit(&[
        "--no-web-origins",
        "--redirect-uri",
        "http://localhost:5000/cb",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let spa = show();
    assert_eq!(spa["web_origins"], serde_json::json!([]));
    assert_eq!(
        spa["redirect_uris"],
        serde_json::json!(["http://localhost:5000/cb"])
    );
    let out = edit(&["--no-web-origins", "--web-origin", "+"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// `client add` sets Keycloak's default and optional client scopes (or
/// Keycloak's defaults), `client list` shows them; `role` adds, grants,
/// lists, revokes and removes roles, each change an audit line.
#[test]
fn client_scopes_and_roles_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cb = "http://localhost:3000/cb";
    client_added(dir, &["kc", "--redirect-uri", cb]);
    client_added(
        dir,
        &[
            "app",
            "--redirect-uri",
            cb,
            "--default-scopes",
            "profile,roles",
            "--optional-scope",
            "phone",
        ],
    );
    client_added(dir, &["bare", "--redirect-uri", cb, "--no-default-scopes"]);
    let listed = list_json(dir);
    let find = |id: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["client_id"] == id)
            .unwrap()
            .clone()
    };
    let kc = find("kc");
    assert_eq!(
        kc["default_scopes"],
        serde_json::json!(["profile", "email", "roles", "web-origins"])
    );
    assert_eq!(
        kc["optional_scopes"],
        serde_json::json!(["address", "phone", "microprofile-jwt"])
    );
    assert_eq!(
        find("app")["default_scopes"],
        serde_json::json!(["profile", "roles"])
    );
    assert_eq!(find("app")["optional_scopes"], serde_json::json!(["phone"]));
    assert_eq!(find("bare")["default_scopes"], serde_json::json!([]));
    // `client edit` changes the lists, `client show` shows one client.
    let out = client_edit(
        dir,
        "bare",
        &[
            "--optional-scopes",
            "phone,address",
            "--default-scope",
            "email",
        ],
    );
    assert_edit_audited(&out);
    let bare = show_json(dir, "bare");
    assert_eq!(bare["default_scopes"], serde_json::json!(["email"]));
    assert_eq!(
        bare["optional_scopes"],
        serde_json::json!(["phone", "address"])
    );
    let out = client_edit(dir, "bare", &["--no-optional-scopes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = idp(dir).args(["client", "show", "bare"]).output().unwrap();
    assert!(
        stdout(&out).contains("default_scopes  email"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("optional_scopes \n"),
        "{}",
        stdout(&out)
    );
    for (args, code) in [
        (&["client", "edit", "nope", "--no-default-scopes"][..], 1),
        (&["client", "edit", "bare"], 2),
        (&["client", "edit", "bare", "--default-scope", "a b"], 2),
        (&["client", "show", "nope"], 1),
    ] {
        let out = idp(dir).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
    }
    let out = client_add(
        dir,
        &["bad", "--redirect-uri", cb, "--default-scope", "a\"b"],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let mut cmd = idp(dir);
    cmd.args(["user", "add", "alice", "--password-stdin"]);
    let out = run_with_stdin(cmd, "correct-horse-battery\n");
    assert!(out.status.success(), "{}", stderr(&out));

    let role = |args: &[&str]| idp(dir).arg("role").args(args).output().unwrap();
    for args in [
        &["add", "admin", "--description", "Admins"][..],
        &["add", "reader", "--client", "app"],
        &[
            "add",
            "editor",
            "--composite",
            "admin",
            "--composite",
            "app:reader",
        ],
        &["grant", "editor", "--group", "/staff/leads"],
        &["grant", "app:reader", "--user", "alice"],
        &["grant", "admin", "--client", "app"],
    ] {
        let out = role(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("admin.change"),
            "audited: {}",
            stderr(&out)
        );
    }
    // Refusals: an unknown role, an unknown user, a bad name, no holder.
    let out = role(&["grant", "ghost", "--user", "alice"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no role ghost"), "{}", stderr(&out));
    let out = role(&["grant", "admin", "--user", "nobody"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = role(&["add", "x", "--client", "bad client"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = role(&["grant", "admin"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = role(&["add", "admin"]);
    assert_eq!(out.status.code(), Some(1), "a duplicate: {}", stderr(&out));

    let out = role(&["list", "--json", "--grants"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listing: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let names: Vec<String> = listing["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| match r["client"].as_str() {
            Some(c) => format!("{c}:{}", r["name"].as_str().unwrap()),
            None => r["name"].as_str().unwrap().to_owned(),
        })
        .collect();
    for expected in [
        "admin",
        "editor",
        "app:reader",
        "default-roles-dominorealm",
        "offline_access",
    ] {
        assert!(
            names.contains(&expected.to_owned()),
            "{expected}: {names:?}"
        );
    }
    let grants = listing["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 3, "{grants:?}");
    assert!(grants.iter().any(|g| g["holder"]["kind"] == "group"
        && g["holder"]["id"] == "/staff/leads"
        && g["role"]["name"] == "editor"));

    // `user show` has the roles alice's tokens carry.
    let out = idp(dir).args(["user", "show", "alice"]).output().unwrap();
    let shown: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        shown["roles"]["clients"]["app"],
        serde_json::json!(["reader"])
    );
    assert_eq!(
        shown["roles"]["realm"],
        serde_json::json!([
            "default-roles-dominorealm",
            "offline_access",
            "uma_authorization"
        ])
    );
    let out = role(&["revoke", "app:reader", "--user", "alice"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = role(&["revoke", "app:reader", "--user", "alice"]);
    assert_eq!(out.status.code(), Some(1), "not held any more");
    let out = role(&["remove", "editor"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = role(&["list", "--grants"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("/staff/leads"), "{}", stdout(&out));
    assert!(stdout(&out).contains("client app"), "{}", stdout(&out));
    // A client's roles and its service account's grants go with it.
    let out = idp(dir).args(["client", "remove", "app"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = role(&["list", "--grants"]);
    assert!(!stdout(&out).contains("app:reader"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("client app"), "{}", stdout(&out));
}
