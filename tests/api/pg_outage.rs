//! Losing Postgres and getting it back, with a server of the test's own
//! (scripts/pg.sh on a temp directory) so that stopping it disturbs no other
//! test. Runs when the suite runs on Postgres (`IDP_TEST_POSTGRES_URL`).
//! While the database is down: readiness is red, liveness green, every
//! request that needs the store answers 503 with a JSON error within the
//! pool's acquire timeout, and the in-memory documents (JWKS, discovery)
//! are still served. Started again, service resumes without a restart, and
//! a restart between requests costs no request its answer.

use std::ffi::OsStr;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use domino_idp::domain::user::UserSpec;
use serde_json::Value;

use crate::helpers::*;

/// The store's default acquire timeout (src/store/postgres), plus slack for
/// a loaded machine.
const WITHIN: Duration = Duration::from_secs(3 + 4);

/// A Postgres server in a temp directory, stopped when dropped.
struct OwnServer {
    dir: tempfile::TempDir,
    url: String,
}

/// Runs `scripts/pg.sh ARGS` with the variables `env`; it must succeed. Its
/// stdout, trimmed (`start` prints the server's URL).
pub(crate) fn pg_sh<A: AsRef<OsStr> + Debug>(args: &[A], env: &[(&str, &Path)]) -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/pg.sh");
    let out = Command::new("bash")
        .arg(script)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("scripts/pg.sh runs");
    assert!(
        out.status.success(),
        "scripts/pg.sh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl OwnServer {
    fn start() -> OwnServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = pg_sh(&[Path::new("start"), dir.path()], &[]);
        OwnServer { dir, url }
    }

    fn stop(&self) {
        pg_sh(&[Path::new("stop"), self.dir.path()], &[]);
    }

    /// Starts it again on the same data and port.
    fn restart(&self) {
        let url = pg_sh(&[Path::new("start"), self.dir.path()], &[]);
        assert_eq!(url, self.url, "the server came back elsewhere");
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/pg.sh");
        let _ = Command::new("bash")
            .arg(script)
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}

/// An issuer on `pg` with the `domino-play` client and `users`.
async fn issuer_on(pg: &OwnServer, users: Vec<UserSpec>) -> TestApp {
    let url = pg.url.clone();
    spawn_with(|c| {
        c.database_url = url;
        c.users = users;
        c.clients = vec![play_client()];
    })
    .await
}

/// A client_credentials grant of `domino-play`.
fn client_token(app: &TestApp) -> reqwest::RequestBuilder {
    app.client
        .post(app.oidc("token"))
        .basic_auth("domino-play", Some(CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
}

/// Sends `req`, asserting it is answered within `WITHIN`.
async fn timed(what: &str, req: reqwest::RequestBuilder) -> reqwest::Response {
    let started = Instant::now();
    let resp = tokio::time::timeout(WITHIN, req.send())
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {WITHIN:?}"))
        .expect("request sent");
    eprintln!("{what}: {} in {:?}", resp.status(), started.elapsed());
    resp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issuer_goes_red_while_postgres_is_down_and_recovers_without_a_restart() {
    if !on_postgres() {
        eprintln!(
            "pg_outage: skipped, the suite runs on SQLite (set IDP_TEST_POSTGRES_URL, as scripts/test.sh does)"
        );
        return;
    }
    let pg = OwnServer::start();
    let app = issuer_on(&pg, vec![doc_spec()]).await;
    let client = &app.client;
    let login = || {
        client
            .post(app.url("/auth"))
            .json(&serde_json::json!({"username": "doc", "password": PASSWORD}))
    };
    let token = || client_token(&app);
    let get = |path: &str| client.get(app.url(path));
    assert_eq!(timed("ready", get("/health/ready")).await.status(), 200);
    assert_eq!(timed("login", login()).await.status(), 200);
    assert_eq!(timed("token", token()).await.status(), 200);

    pg.stop();

    let ready = timed("ready, database down", get("/health/ready")).await;
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "DOWN", "{body}");
    assert_eq!(body["checks"][0]["name"], "store", "{body}");
    assert_eq!(body["checks"][0]["status"], "DOWN", "{body}");
    assert_eq!(
        timed("live, database down", get("/health/live"))
            .await
            .status(),
        200
    );

    let resp = timed("login, database down", login()).await;
    assert_eq!(resp.headers()["retry-after"], "5");
    let err = expect_error(resp, 503).await;
    let message = err["message"].as_str().unwrap().to_lowercase();
    assert!(
        !message.contains("connection") && !message.contains("pool"),
        "the cause stays in the log: {err}"
    );
    let resp = timed("token, database down", token()).await;
    assert_eq!(resp.headers()["retry-after"], "5");
    expect_oauth_error(resp, 503, "temporarily_unavailable").await;

    // What lives in memory is still served.
    let jwks = timed(
        "jwks, database down",
        get("/auth/realms/DominoRealm/protocol/openid-connect/certs"),
    )
    .await;
    assert_eq!(jwks.status(), 200);
    let jwks: Value = jwks.json().await.unwrap();
    assert_eq!(
        jwks["keys"][0]["kid"].as_str(),
        Some(app.state.keys.signer().kid())
    );
    let discovery = timed(
        "discovery, database down",
        get("/auth/realms/DominoRealm/.well-known/openid-configuration"),
    )
    .await;
    assert_eq!(discovery.status(), 200);
    let discovery: Value = discovery.json().await.unwrap();
    assert_eq!(discovery["issuer"], app.issuer());

    pg.restart();

    // The pool drops the dead connections and opens new ones by itself.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = timed("ready, database back", get("/health/ready"))
            .await
            .status();
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still not ready after Postgres came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let resp = timed("login, database back", login()).await;
    assert_eq!(resp.status(), 200);
    let bearer: Value = resp.json().await.unwrap();
    verify_with_jwks(
        bearer["bearer"].as_str().unwrap(),
        &app.jwks().await,
        &app.issuer(),
    );
    assert_eq!(timed("token, database back", token()).await.status(), 200);
}

/// Postgres restarted while the issuer's pooled connections sat idle: every
/// one of them is broken, and none may cost a request its answer (a
/// connection idle for a second or more is pinged before it is lent; one
/// used more recently is lent as it is only to a statement that runs again
/// when it meets a broken connection, `Conns::fetch_rerunnable`; pinging
/// only the connections idle for a second, with no second run, failed here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_between_requests_costs_no_request() {
    if !on_postgres() {
        eprintln!("pg_outage: skipped, the suite runs on SQLite");
        return;
    }
    let pg = OwnServer::start();
    let app = issuer_on(&pg, Vec::new()).await;
    let token = || client_token(&app).send();
    // Enough at once to open several of the pool's connections.
    let burst = futures_util::future::join_all((0..30).map(|_| token())).await;
    assert!(
        burst
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.status() == 200))
    );

    pg.stop();
    pg.restart();

    for n in 0..20 {
        let resp = token().await.expect("request sent");
        assert_eq!(resp.status(), 200, "request {n} after the restart");
    }
}
