//! `serve` with no configuration, `migrate`, and the configuration's errors and layers.

use super::*;

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
