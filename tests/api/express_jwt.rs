//! express-jwt + jwks-rsa (tests/node, unmodified) as a resource server in
//! front of the issuer: it accepts our access tokens from the JWKS and
//! refuses a refresh token (HS512 under a key the JWKS never publishes), an
//! ID token (another audience) and garbage. Needs node and
//! tests/node/node_modules (scripts/test.sh).

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::attacks::{Http, config};
use crate::process::ServerProcess;

struct NodeApp {
    child: Child,
    base: String,
}

impl Drop for NodeApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn node_app(server: &ServerProcess) -> NodeApp {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        dir.join("node_modules/express-jwt").is_dir(),
        "tests/node/node_modules is missing: run the suite through scripts/test.sh"
    );
    let issuer = server.url("/auth/realms/DominoRealm");
    let mut child = Command::new("node")
        .arg(dir.join("express_jwt_app.js"))
        .current_dir(&dir)
        .env(
            "JWKS_URI",
            format!("{issuer}/protocol/openid-connect/certs"),
        )
        .env("ISSUER", &issuer)
        .env("AUDIENCE", "Domino")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("the app exited").unwrap();
        if let Some(port) = line.strip_prefix("listening ") {
            break port.trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    NodeApp {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

async fn call(app: &NodeApp, token: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(format!("{}/protected", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn express_jwt_accepts_access_tokens_and_refuses_refresh_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cfg = config(dir, "");
    let server = ServerProcess::start(dir, &cfg);
    let app = node_app(&server);
    let api = Http::of(&server);
    let body = api.grant("doc", "openid").await;

    let (status, seen) = call(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["typ"], "Bearer");
    assert_eq!(seen["azp"], "domino-play");
    let keep = api.keep("doc").await;
    assert_eq!(call(&app, &keep).await.0, 200);

    for (what, token) in [
        ("refresh token", body["refresh_token"].as_str().unwrap()),
        ("ID token", body["id_token"].as_str().unwrap()),
        ("garbage", "e30.e30.c2ln"),
    ] {
        let (status, seen) = call(&app, token).await;
        assert_eq!(status, 401, "{what}: {seen}");
        assert_eq!(seen["error"], "invalid_token", "{what}: {seen}");
    }
}
