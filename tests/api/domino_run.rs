//! A Domino run, end to end: an API key from the CLI, `domino-idp agent`
//! keeping a token file fresh with it, `domino-idp proxy` in front of the
//! issuer, and the official clients (python-domino, domino_data) using each
//! of the three ways, unmodified (tests/api/domino_clients.py).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::domino_proxy::run_proxy;
use crate::helpers::{PASSWORD, idp_command};
use crate::process::{ServerProcess, write_config};
use crate::seeded::cli;

/// Doctor Notes, with the built-in `domino-play` client left as it is.
fn config(dir: &Path) -> PathBuf {
    write_config(
        dir,
        &format!(
            r#"
key_reload_interval = 1

[[users]]
username = "doc"
password = "{PASSWORD}"
email = "doctor.notes@projectkeep.io"
cn = "Doctor Notes"
org = "ProjectKeep"
"#
        ),
    )
}

/// A child process killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `domino-idp` in `dir` with a Domino run's environment: the issuer at
/// `host` and the API key `key`, no token file or proxy.
fn domino_command(dir: &Path, host: &str, key: &str) -> Command {
    let mut cmd = idp_command(dir);
    cmd.env("DOMINO_API_HOST", host)
        .env("DOMINO_USER_API_KEY", key)
        .env_remove("DOMINO_TOKEN_FILE")
        .env_remove("DOMINO_API_PROXY");
    cmd
}

/// `agent --once` writing `token_file`, with the issuer at `host`.
fn agent_once(dir: &Path, host: &str, key: &str, token_file: &Path) -> Output {
    domino_command(dir, host, key)
        .args(["agent", "--once", "--token-file"])
        .arg(token_file)
        .output()
        .unwrap()
}

/// An issuer on `dir` with Doctor Notes, and a key of his from the CLI.
fn issuer_and_key(dir: &Path) -> (ServerProcess, String) {
    let cfg = config(dir);
    let server = ServerProcess::start(dir, &cfg);
    let key = new_key(dir, &cfg);
    (server, key)
}

/// `apikey create doc`: the key is the last line of stdout.
fn new_key(dir: &Path, cfg: &Path) -> String {
    let out = cli(dir, cfg, &["apikey", "create", "doc", "--name", "run"]);
    out.lines().last().unwrap().trim().to_owned()
}

fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_domino_clients_authenticate_every_way() {
    let Ok(python) = std::env::var("IDP_TEST_DOMINO_PYTHON") else {
        panic!("IDP_TEST_DOMINO_PYTHON is not set: run the suite through scripts/test.sh");
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (server, key) = issuer_and_key(dir);
    let host = server.url("");

    let me: Value = reqwest::Client::new()
        .get(server.url("/v4/users/self"))
        .header("X-Domino-Api-Key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let user_id = me["id"].as_str().unwrap().to_owned();

    let token_file = dir.join("api/token");
    std::fs::create_dir_all(token_file.parent().unwrap()).unwrap();
    let mut agent = domino_command(dir, &host, &key);
    let _agent = Running(
        agent
            .args(["agent", "--refresh-interval", "2", "--token-file"])
            .arg(&token_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_file(&token_file);

    let proxy = domino_command(dir, &host, &key);
    let proxy = run_proxy(proxy);
    let proxy_addr = proxy.base.trim_start_matches("http://").to_owned();

    let out = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/api/domino_clients.py"
        ))
        .env("HOST", &host)
        .env("API_KEY", &key)
        .env("TOKEN_FILE", &token_file)
        .env("PROXY", &proxy_addr)
        .env("USER_ID", &user_id)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the Domino clients failed:\n{stdout}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    assert!(stdout.contains("all passed"), "{stdout}");
}

#[tokio::test]
async fn the_agent_writes_once_and_keeps_the_old_file_when_the_issuer_is_away() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (server, key) = issuer_and_key(dir);
    let token_file = dir.join("token");

    let out = agent_once(dir, &server.url(""), &key, &token_file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert_eq!(token.split('.').count(), 3, "a JWT, as is: {token:?}");
    assert!(!token.ends_with('\n'));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The issuer is unreachable: --once fails and the old token stays.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let away = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = agent_once(dir, &away, &key, &token_file);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be reached"));
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), token);
    // A revoked key is refused with the issuer's reason.
    let out = agent_once(dir, &server.url(""), "not-a-key", &token_file);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused"));
}

/// The agent refreshes on its own schedule and exits 0 on SIGTERM, leaving
/// a whole token file behind.
#[tokio::test]
async fn the_agent_refreshes_and_stops_cleanly_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (server, key) = issuer_and_key(dir);
    let token_file = dir.join("token");
    let mut agent = domino_command(dir, &server.url(""), &key);
    let mut agent = agent
        .args(["agent", "--refresh-interval", "1", "--token-file"])
        .arg(&token_file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first = wait_for_file(&token_file);
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::fs::read_to_string(&token_file).unwrap() == first {
        assert!(
            Instant::now() < deadline,
            "the agent never refreshed the file"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = Command::new("kill")
        .args(["-TERM", &agent.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = agent.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the agent did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    let last = std::fs::read_to_string(&token_file).unwrap();
    assert_eq!(last.split('.').count(), 3, "{last:?}");
}
