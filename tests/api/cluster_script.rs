//! scripts/cluster.sh, docker-compose.yml's topology as local processes:
//! Postgres, two issuers (this build's binary) and nginx. Runs in the
//! Postgres pass of scripts/test.sh (IDP_TEST_POSTGRES_URL set), where the
//! server packages are known to be there; the script installs nginx.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::helpers::BIN;
use crate::piped::output_with_stdin;

fn script(args: &[&str]) -> Output {
    Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/cluster.sh"))
        .args(args)
        .env("IDP_BIN", BIN)
        .output()
        .expect("scripts/cluster.sh runs")
}

/// The binary with the cluster's settings (DIR/env), as the README shows.
fn cli(dir: &Path, args: &str, stdin: &str) -> Output {
    output_with_stdin(
        Command::new("bash")
            .arg("-c")
            .arg(format!(". {}/env && exec {BIN} {args}", dir.display())),
        stdin.as_bytes(),
    )
}

struct Cluster<'a>(&'a Path);

impl Drop for Cluster<'_> {
    fn drop(&mut self) {
        let _ = script(&["stop", &self.0.display().to_string()]);
    }
}

#[tokio::test]
async fn two_issuers_behind_nginx_act_as_one() {
    if std::env::var_os("IDP_TEST_POSTGRES_URL").is_none() {
        eprintln!("skipped: runs in the Postgres pass of scripts/test.sh");
        return;
    }
    // Under /tmp: the postgres user must be able to enter it.
    let tmp = tempfile::Builder::new()
        .prefix("idp-cluster")
        .tempdir_in("/tmp")
        .unwrap();
    let dir = tmp.path();
    let out = script(&["start", &dir.display().to_string(), "2"]);
    let _cluster = Cluster(dir);
    assert!(out.status.success(), "{out:?}");
    let base = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let added = cli(
        dir,
        "user add alice --cn 'Alice Cluster' --email alice@example.com --password-stdin",
        "a-long-cluster-password\n",
    );
    assert!(added.status.success(), "{added:?}");
    let client = cli(
        dir,
        "client add cli --grant password --grant refresh_token",
        "",
    );
    assert!(client.status.success(), "{client:?}");
    let secret = String::from_utf8_lossy(&client.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: ").map(str::to_owned))
        .expect("the secret is printed once");

    // Through the balancer: a Keep login, then a chain of refreshes that
    // nginx spreads over both issuers.
    let http = reqwest::Client::new();
    let issuer = format!("{base}/auth/realms/DominoRealm");
    let login: Value = http
        .post(format!("{base}/auth"))
        .json(&serde_json::json!({"username": "alice", "password": "a-long-cluster-password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(login["claims"]["iss"], issuer.as_str(), "{login}");
    let token_url = format!("{issuer}/protocol/openid-connect/token");
    let mut grant: Value = http
        .post(&token_url)
        .basic_auth("cli", Some(&secret))
        .form(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "a-long-cluster-password"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for _ in 0..6 {
        let refresh = grant["refresh_token"].as_str().expect("a refresh token");
        grant = http
            .post(&token_url)
            .basic_auth("cli", Some(&secret))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    }
    assert!(grant["access_token"].is_string(), "{grant}");

    // Both issuers answered (nginx logs the upstream of each request) and
    // both publish the same keys.
    let log = std::fs::read_to_string(dir.join("nginx/access.log")).unwrap_or_default();
    let mut jwks = Vec::new();
    for i in 1..=2 {
        let port = std::fs::read_to_string(dir.join(format!("idp{i}.port"))).unwrap();
        assert!(
            log.contains(&format!("upstream=127.0.0.1:{}", port.trim())),
            "issuer {i} got no request: {log}"
        );
        let body = http
            .get(format!(
                "http://127.0.0.1:{}/auth/realms/DominoRealm/protocol/openid-connect/certs",
                port.trim()
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        jwks.push(body);
    }
    assert_eq!(jwks[0], jwks[1]);
    let jwks: Value = serde_json::from_str(&jwks[0]).unwrap();
    crate::helpers::verify_with_jwks(grant["access_token"].as_str().unwrap(), &jwks, &issuer);
}
