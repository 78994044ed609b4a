//! A Node.js app from tests/node (express-jwt, keycloak-connect), unmodified
//! libraries behind a small script, run as a resource server in front of the
//! issuer. Needs node and tests/node/node_modules (scripts/test.sh).

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// The running app; killed when dropped.
pub struct NodeApp {
    child: Child,
    base: String,
}

impl Drop for NodeApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl NodeApp {
    /// Runs `tests/node/<script>` (which needs `node_modules/<package>`)
    /// with `env`, and waits for its `listening <port>` line.
    pub fn start(script: &str, package: &str, env: &[(&str, String)]) -> NodeApp {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node");
        assert!(
            dir.join("node_modules").join(package).is_dir(),
            "tests/node/node_modules is missing: run the suite through scripts/test.sh"
        );
        let mut child = Command::new("node")
            .arg(dir.join(script))
            .current_dir(&dir)
            .envs(env.iter().map(|(k, v)| (k, v)))
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

    /// `GET <path>` with the bearer token: the status and the JSON body
    /// (`null` when there is none).
    pub async fn call_at(&self, path: &str, token: &str) -> (u16, Value) {
        let resp = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// `GET /protected` with the bearer token.
    pub async fn call(&self, token: &str) -> (u16, Value) {
        self.call_at("/protected", token).await
    }
}
