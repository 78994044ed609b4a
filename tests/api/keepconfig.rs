//! `keys export --format keepconfig`: the file Keep reads from
//! `keepconfig.d` to trust this issuer, online (the JWKS URL) and offline
//! (the signing key's PEM), checked with `token verify --providers` exactly
//! as printed, across a key rotation.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::idp_command;
use crate::process::ServerProcess;
use crate::seeded::{Http, cli, config};

/// Exports the provider file for `server` into `dir` (created).
fn export(home: &Path, cfg: &Path, server: &ServerProcess, dir: &Path, offline: bool) -> Value {
    std::fs::create_dir_all(dir).unwrap();
    let mut args = vec![
        "--public-url".to_owned(),
        server.url(""),
        "keys".into(),
        "export".into(),
        "--format".into(),
        "keepconfig".into(),
    ];
    if offline {
        args.extend([
            "--offline".into(),
            "--key-dir".into(),
            dir.display().to_string(),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let printed = cli(home, cfg, &args);
    std::fs::write(dir.join("domino-idp.json"), &printed).unwrap();
    serde_json::from_str(&printed).unwrap()
}

/// `token verify --providers DIR TOKEN` succeeds.
fn verifies(home: &Path, cfg: &Path, dir: &Path, token: &str) -> bool {
    idp_command(home)
        .arg("--config")
        .arg(cfg)
        .args(["token", "verify", token, "--providers"])
        .arg(dir)
        .output()
        .unwrap()
        .status
        .success()
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn keep_trusts_the_issuer_from_the_exported_file_across_a_rotation() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let cfg = config(home, "");
    let server = ServerProcess::start(home, &cfg);
    let api = Http::of(&server);
    let (online, offline) = (home.join("online.d"), home.join("offline.d"));

    let doc = export(home, &cfg, &server, &online, false);
    let entry = &doc["jwt"]["domino-idp-DominoRealm"];
    assert_eq!(entry["active"], true);
    assert_eq!(entry["algorithm"], "RS256");
    assert_eq!(entry["aud"], "Domino");
    let iss = entry["iss"].as_str().unwrap().to_owned();
    assert_eq!(
        entry["providerUrl"].as_str().unwrap(),
        format!("{iss}/protocol/openid-connect/certs")
    );
    let doc = export(home, &cfg, &server, &offline, true);
    let entry = &doc["jwt"]["domino-idp-DominoRealm"];
    let key_file = entry["keyFile"].as_str().unwrap();
    assert!(
        offline.join(key_file).is_file(),
        "the PEM is written beside the file"
    );
    assert!(entry.get("providerUrl").is_none());

    let before = api.keep("doc").await;
    assert_eq!(entry["kid"].as_str().unwrap(), kid(&before));
    assert!(verifies(home, &cfg, &online, &before));
    assert!(verifies(home, &cfg, &offline, &before));

    // Rotate; the running server signs with the new key within its reload interval.
    cli(home, &cfg, &["keys", "rotate", "--lead", "0"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    let after = loop {
        let token = api.keep("doc").await;
        if kid(&token) != kid(&before) {
            break token;
        }
        assert!(
            Instant::now() < deadline,
            "the server never signed with the new key"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Online, Keep fetches the new key itself; offline, the old file names the
    // old key only, until it is exported again.
    assert!(verifies(home, &cfg, &online, &after));
    assert!(!verifies(home, &cfg, &offline, &after));
    export(home, &cfg, &server, &offline, true);
    assert!(verifies(home, &cfg, &offline, &after));
}
