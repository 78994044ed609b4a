//! keycloak-connect (Keycloak's Node adapter), unmodified, as a bearer-only
//! resource server in front of the issuer (tests/node/keycloak_connect_app.js):
//! it accepts this issuer's access tokens (it requires `typ: "Bearer"`, the
//! realm URL as `iss`, a key from the JWKS), the Keep token included; it
//! refuses ID tokens, foreign audiences when it verifies the audience, and
//! garbage. Needs node and tests/node/node_modules (scripts/test.sh).

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

fn node_app(server: &ServerProcess, resource: &str, verify_audience: bool) -> NodeApp {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    assert!(
        dir.join("node_modules/keycloak-connect").is_dir(),
        "tests/node/node_modules is missing: run the suite through scripts/test.sh"
    );
    let mut child = Command::new("node")
        .arg(dir.join("keycloak_connect_app.js"))
        .current_dir(&dir)
        .env("AUTH_SERVER_URL", server.url("/auth"))
        .env("REALM", "DominoRealm")
        .env("RESOURCE", resource)
        .env(
            "VERIFY_AUDIENCE",
            if verify_audience { "true" } else { "false" },
        )
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
async fn keycloak_connect_accepts_our_access_tokens_and_only_those() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cfg = config(
        dir,
        r#"
[[mappers]]
name = "api-audience"
type = "audience"
audience = "orders-api"
clients = ["domino-play"]
"#,
    );
    let server = ServerProcess::start(dir, &cfg);
    let api = Http::of(&server);
    let app = node_app(&server, "orders-api", false);

    let tokens = api.grant("doc", "openid profile email").await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, body) = call(&app, access).await;
    assert_eq!(status, 200, "an access token: {body}");
    assert_eq!(body["user"], "doc");
    assert_eq!(body["typ"], "Bearer");
    // The Keep token is an access token too.
    let (status, body) = call(&app, &api.keep("doc").await).await;
    assert_eq!(status, 200, "a Keep token: {body}");
    // An ID token is not, and garbage is nothing.
    let (status, _) = call(&app, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(status, 403);
    let (status, _) = call(&app, "e30.e30.c2ln").await;
    assert_eq!(status, 403);

    // With audience verification, only tokens meant for the resource pass:
    // domino-play's carry `orders-api` (the audience mapper), Keep's do not.
    let strict = node_app(&server, "orders-api", true);
    let (status, body) = call(&strict, access).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(&strict, &api.keep("doc").await).await;
    assert_eq!(status, 403);
}
