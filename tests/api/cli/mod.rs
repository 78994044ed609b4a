//! The binary as an operator uses it: `serve` with no configuration and the
//! config layers (`server`), the user and key commands with `token verify`
//! (`users`), and the client commands (`clients`, `client_edit`).

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::*;

mod client_edit;
mod clients;
mod server;
mod users;

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
