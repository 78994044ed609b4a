//! `domino-idp bench sign|argon2`: the baselines bench/ compares the server
//! with. One JSON line each, positive rates, no secrets, usage errors exit 2.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::helpers::*;

fn bench(dir: &Path, args: &[&str]) -> Output {
    let mut cmd: Command = idp_command(dir);
    cmd.arg("bench").args(args);
    cmd.output().expect("the binary runs")
}

/// The single JSON line on stdout, with exactly `fields`.
fn line(out: &Output, fields: &[&str]) -> Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let value: Value = serde_json::from_str(&stdout).unwrap();
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = fields.to_vec();
    want.sort_unstable();
    let mut got = keys.clone();
    got.sort_unstable();
    assert_eq!(got, want, "{stdout}");
    value
}

fn positive(value: &Value, field: &str) {
    let rate = value[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field}: {value}"));
    assert!(rate > 0.0, "{field}: {value}");
}

#[tokio::test]
async fn bench_sign_measures_the_realms_signing_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let app = spawn_in(dir, |_| {}).await;
    let kid = app.state.keys.signer().kid().to_owned();

    let out = bench(dir, &["sign", "--seconds", "1", "--threads", "2"]);
    let value = line(
        &out,
        &[
            "kid",
            "threads",
            "seconds",
            "raw_sign_per_sec",
            "raw_verify_per_sec",
            "jwt_sign_per_sec",
        ],
    );
    assert_eq!(value["kid"], kid.as_str());
    assert_eq!(value["threads"], 2);
    assert_eq!(value["seconds"], 1);
    for rate in ["raw_sign_per_sec", "raw_verify_per_sec", "jwt_sign_per_sec"] {
        positive(&value, rate);
    }
    // Nothing of the private key reaches either stream.
    let pem = std::fs::read_to_string(dir.join(format!("keys/{kid}.pem"))).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!printed.contains(&body[200..260]));
}

#[tokio::test]
async fn bench_argon2_reports_the_configured_parameters() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bench(tmp.path(), &["argon2", "--seconds", "1", "--threads", "1"]);
    let value = line(
        &out,
        &[
            "threads",
            "seconds",
            "m_cost",
            "t_cost",
            "p_cost",
            "verify_per_sec",
            "ms_per_verify",
        ],
    );
    assert_eq!(value["threads"], 1);
    // The argon2 crate's defaults, which `serve` uses (README: Password hashing).
    assert_eq!(value["m_cost"], 19456);
    assert_eq!(value["t_cost"], 2);
    assert_eq!(value["p_cost"], 1);
    positive(&value, "verify_per_sec");
    positive(&value, "ms_per_verify");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(!printed.contains("$argon2"), "{printed}");
}

#[test]
fn bad_flags_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["sign", "--seconds", "0"][..],
        &["sign", "--seconds", "soon"],
        &["sign", "--threads", "0"],
        &["argon2", "--bogus"],
        &["argon2", "extra"],
        &["rsa"],
        &[],
    ] {
        let out = bench(tmp.path(), args);
        assert_eq!(out.status.code(), Some(2), "bench {args:?}: {out:?}");
        assert!(out.stdout.is_empty(), "bench {args:?}");
    }
}

#[test]
fn bench_sign_without_keys_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bench(tmp.path(), &["sign", "--seconds", "1"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no signing key"));
}

#[test]
fn bench_is_hidden_from_help() {
    let tmp = tempfile::tempdir().unwrap();
    let out = idp_command(tmp.path()).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("bench"));
}
