//! Crash safety: SIGKILL the real binary in the middle of a burst of writes
//! (password grants, each a session and a refresh token; `user add` from the
//! CLI) and key rotations (`keys rotate` from the CLI), restart it on the same
//! directory, and check that every acknowledged write survived: the database
//! passes `integrity_check` (on Postgres: no half-applied migration, and
//! every index agrees with its table under amcheck; a killed client cannot
//! damage the server's files, so that is what is left to check), every
//! refresh token answered with 200 redeems,
//! every user whose `user add` exited 0 exists, and every token answered with
//! 200 verifies against the restarted server's JWKS.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, database_url, idp_command, on_postgres};
use crate::process::{ServerProcess, write_config};

const CLIENT_SECRET: &str = "crash-client-secret-0123";
const ISSUER: &str = "http://idp.test/auth/realms/DominoRealm";

fn config(dir: &Path) -> PathBuf {
    write_config(
        dir,
        &format!(
            r#"
public_url = "http://idp.test"
key_reload_interval = 1

[[users]]
username = "doc"
password = "{PASSWORD}"

[[clients]]
client_id = "crash"
secret = "{CLIENT_SECRET}"
grant_types = ["password", "refresh_token"]
"#
        ),
    )
}

fn token_url(server: &ServerProcess) -> String {
    server.url("/auth/realms/DominoRealm/protocol/openid-connect/token")
}

/// Password grants until the server stops answering; returns the
/// acknowledged (refresh token, access token) pairs.
async fn grant_until_down(url: String, done: Arc<AtomicUsize>) -> Vec<(String, String)> {
    let client = reqwest::Client::new();
    let mut acked = Vec::new();
    loop {
        let sent = client
            .post(&url)
            .basic_auth("crash", Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "password"),
                ("username", "doc"),
                ("password", PASSWORD),
            ])
            .send()
            .await;
        let Ok(resp) = sent else { return acked };
        assert_eq!(resp.status(), 200, "password grant before the crash");
        let Ok(body) = resp.json::<Value>().await else {
            return acked;
        };
        acked.push((
            body["refresh_token"].as_str().unwrap().to_owned(),
            body["access_token"].as_str().unwrap().to_owned(),
        ));
        done.fetch_add(1, Ordering::Relaxed);
    }
}

/// Keep logins until the server stops answering; returns the acknowledged tokens.
async fn login_until_down(url: String) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut acked = Vec::new();
    loop {
        let sent = client
            .post(&url)
            .json(&json!({ "username": "doc", "password": PASSWORD }))
            .send()
            .await;
        let Ok(resp) = sent else { return acked };
        let Ok(body) = resp.json::<Value>().await else {
            return acked;
        };
        acked.push(body["bearer"].as_str().unwrap().to_owned());
    }
}

/// `user add crash-<n>` one after another until `stop`; the names whose
/// command exited 0.
fn add_users(
    dir: PathBuf,
    config: PathBuf,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicUsize>,
) -> Vec<String> {
    let mut acked = Vec::new();
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let name = format!("crash-{n}");
        let mut child = idp_command(&dir)
            .arg("--config")
            .arg(&config)
            .args(["user", "add", &name, "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"pw-crash-user\n").unwrap();
        drop(stdin);
        if child.wait().unwrap().success() {
            acked.push(name);
            done.fetch_add(1, Ordering::Relaxed);
        }
    }
    acked
}

/// `keys rotate --lead 0 --force` every so often until `stop`; how many succeeded.
fn rotate_keys(
    dir: PathBuf,
    config: PathBuf,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicUsize>,
) -> usize {
    let mut succeeded = 0;
    while !stop.load(Ordering::Relaxed) {
        let ok = idp_command(&dir)
            .arg("--config")
            .arg(&config)
            .args(["keys", "rotate", "--lead", "0", "--force"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        succeeded += usize::from(ok);
        done.fetch_add(usize::from(ok), Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(150));
    }
    succeeded
}

/// The signature, issuer and lifetime of `token`, checked with only the JWKS.
fn verifies(token: &str, jwks: &Value) -> Result<(), String> {
    let kid = jsonwebtoken::decode_header(token)
        .map_err(|e| e.to_string())?
        .kid
        .ok_or("no kid")?;
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid.as_str()))
        .ok_or_else(|| format!("kid {kid} is not published"))?;
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap_or(""),
        jwk["e"].as_str().unwrap_or(""),
    )
    .map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(drop)
        .map_err(|e| format!("kid {kid}: {e}"))
}

async fn integrity_check(dir: &Path) -> String {
    if on_postgres() {
        return pg_integrity_check(&database_url(dir)).await;
    }
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.join("data/idp.db"));
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let result: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    result
}

/// Postgres's counterpart of `PRAGMA integrity_check`: "ok", or what is wrong.
async fn pg_integrity_check(url: &str) -> String {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let dirty: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE NOT success")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    if dirty > 0 {
        return format!("{dirty} migration(s) half-applied");
    }
    sqlx::query("CREATE EXTENSION IF NOT EXISTS amcheck")
        .execute(&mut conn)
        .await
        .unwrap();
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT c.oid::regclass::text FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_am a ON a.oid = c.relam
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE a.amname = 'btree' AND n.nspname = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(indexes.len() > 5, "{indexes:?}");
    for index in indexes {
        if let Err(e) = sqlx::query("SELECT bt_index_check($1::regclass, true)")
            .bind(&index)
            .execute(&mut conn)
            .await
        {
            return format!("{index}: {e}");
        }
    }
    conn.close().await.ok();
    "ok".into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_burst_loses_no_acknowledged_write() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    let config = config(&dir);
    let mut server = ServerProcess::start(&dir, &config);

    let stop = Arc::new(AtomicBool::new(false));
    let [granted, added, rotated] = [(); 3].map(|()| Arc::new(AtomicUsize::new(0)));
    let grants: Vec<_> = (0..3)
        .map(|_| tokio::spawn(grant_until_down(token_url(&server), granted.clone())))
        .collect();
    let logins = tokio::spawn(login_until_down(server.url("/auth")));
    let users = {
        let (dir, config, stop, done) = (dir.clone(), config.clone(), stop.clone(), added.clone());
        std::thread::spawn(move || add_users(dir, config, stop, done))
    };
    let rotations = {
        let (dir, config, stop, done) =
            (dir.clone(), config.clone(), stop.clone(), rotated.clone());
        std::thread::spawn(move || rotate_keys(dir, config, stop, done))
    };

    // A burst of at least 1.5 s, and long enough on a loaded machine for
    // each kind of write to have been acknowledged (at most 30 s).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let started = std::time::Instant::now();
    while (granted.load(Ordering::Relaxed) < 5
        || added.load(Ordering::Relaxed) < 1
        || rotated.load(Ordering::Relaxed) < 1)
        && started.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.signal("KILL");
    let status = server.wait_exit(Duration::from_secs(5));
    assert!(!status.success(), "SIGKILL ends the process: {status:?}");
    stop.store(true, Ordering::Relaxed);

    let mut refresh = Vec::new();
    let mut signed = Vec::new();
    for grants in grants {
        for (rt, at) in grants.await.unwrap() {
            refresh.push(rt);
            signed.push(at);
        }
    }
    signed.extend(logins.await.unwrap());
    let users = users.join().unwrap();
    let rotations = rotations.join().unwrap();
    assert!(
        refresh.len() >= 5,
        "too few grants in the burst: {}",
        refresh.len()
    );
    assert!(!users.is_empty(), "no user add finished in the burst");
    assert!(rotations >= 1, "no key rotation finished in the burst");

    // The store as the crash left it opens cleanly.
    assert_eq!(integrity_check(&dir).await, "ok");

    // Restart on the same directory (migrations and seeding run again).
    let server = ServerProcess::start(&dir, &config);
    let client = reqwest::Client::new();
    for rt in &refresh {
        let resp = client
            .post(token_url(&server))
            .basic_auth("crash", Some(CLIENT_SECRET))
            .form(&[("grant_type", "refresh_token"), ("refresh_token", rt)])
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            status, 200,
            "an acknowledged refresh token was lost: {body}"
        );
    }
    let store = domino_idp::store::open(&database_url(&dir)).await.unwrap();
    for name in &users {
        assert!(
            store.get_user(name).await.unwrap().is_some(),
            "user {name} was acknowledged but is missing"
        );
    }
    let jwks: Value = client
        .get(server.url("/auth/realms/DominoRealm/protocol/openid-connect/certs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: std::collections::BTreeSet<String> = signed
        .iter()
        .filter_map(|t| jsonwebtoken::decode_header(t).ok()?.kid)
        .collect();
    for token in &signed {
        if let Err(why) = verifies(token, &jwks) {
            panic!("an acknowledged token no longer verifies: {why}");
        }
    }
    eprintln!(
        "crash burst: {} refresh tokens, {} tokens signed by {} kids, {} users, {} rotations",
        refresh.len(),
        signed.len(),
        kids.len(),
        users.len(),
        rotations
    );
    server.signal("TERM");
}
