//! `log_format = "json"` as a log aggregator reads it: the real binary's
//! stderr, every line one JSON object, audit lines included; and an unknown
//! format refused with a message that names the setting.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::*;
use crate::process::write_config;

/// The server process, killed if the test ends before it exits.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn object(line: &str) -> Value {
    match serde_json::from_str::<Value>(line) {
        Ok(value) if value.is_object() => value,
        _ => panic!("not a JSON object: {line}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_format_writes_every_line_and_the_audit_trail_as_json_objects() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(
        tmp.path(),
        &format!("[[users]]\nusername = \"doc\"\npassword = \"{PASSWORD}\"\n"),
    );
    let mut server = Server(
        idp_command(tmp.path())
            .env("RUST_LOG", "info")
            .env("DOMINO_IDP_LOG_FORMAT", "json")
            .arg("--config")
            .arg(&config)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = server.0.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines: Vec<String> = Vec::new();
    let addr = loop {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) else {
            panic!("no \"listening on\" line:\n{}", lines.join("\n"));
        };
        let listening = object(&line)["fields"]["message"]
            .as_str()
            .and_then(|m| m.strip_prefix("listening on "))
            .map(str::to_owned);
        lines.push(line);
        if let Some(addr) = listening {
            break addr;
        }
    };

    let login = reqwest::Client::new()
        .post(format!("http://{addr}/auth"))
        .json(&serde_json::json!({"username": "doc", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);

    // SIGTERM: the server drains, logs its shutdown and exits, which ends
    // stderr; every line it wrote is then in `lines`.
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(server.0.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                panic!("server still running after SIGTERM:\n{}", lines.join("\n"))
            }
        }
    }
    assert!(server.0.wait().unwrap().success());

    let log: Vec<Value> = lines.iter().map(|l| object(l)).collect();
    assert!(
        log.iter()
            .all(|l| l["level"].is_string() && l["target"].is_string()),
        "{lines:#?}"
    );
    let success = log
        .iter()
        .find(|l| l["target"] == "audit" && l["fields"]["event"] == "login.success")
        .unwrap_or_else(|| panic!("no login.success audit line:\n{lines:#?}"));
    assert_eq!(success["level"], "INFO");
    let fields = &success["fields"];
    assert_eq!(fields["message"], "login succeeded");
    assert_eq!(fields["path"], "keep");
    assert_eq!(fields["user_key"], "doc");
    assert_eq!(fields["ip"], "127.0.0.1");
    assert!(
        fields["user_id"].as_str().is_some_and(|id| !id.is_empty()),
        "{success}"
    );
    assert!(
        log.iter().any(|l| l["fields"]["message"] == "stopped"),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.contains(PASSWORD)));
}

#[test]
fn an_unknown_log_format_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let out = idp_command(tmp.path())
        .env("DOMINO_IDP_LOG_FORMAT", "yaml")
        .arg("check-config")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: configuration is invalid"),
        "{stderr}"
    );
    assert!(stderr.to_lowercase().contains("log_format"), "{stderr}");
    assert!(stderr.contains("yaml"), "{stderr}");
}
