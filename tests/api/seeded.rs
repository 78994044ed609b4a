//! A server process seeded with Doctor Notes, Nurse Ratched and
//! `domino-play`, and plain-HTTP calls against it: the fixture of `attacks`
//! and of the tests that drive third-party clients against the binary.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::helpers::{CLIENT_SECRET, PASSWORD, REDIRECT_URI, idp_command};
use crate::process::{ServerProcess, write_config};

/// A config seeding Doctor Notes and Nurse Ratched, `domino-play` as the
/// helpers' `play_client()` (every grant), and whatever `extra` adds;
/// default brute-force settings.
pub fn config(dir: &Path, extra: &str) -> PathBuf {
    config_with(dir, "", extra)
}

/// `config` with `top` settings first (e.g. a shared `public_url`).
pub fn config_with(dir: &Path, top: &str, extra: &str) -> PathBuf {
    write_config(
        dir,
        &format!(
            r#"
{top}
key_reload_interval = 1

[[users]]
username = "doc"
password = "{PASSWORD}"
email = "doctor.notes@projectkeep.io"
cn = "Doctor Notes"
org = "ProjectKeep"
scopes = "MAIL $DATA"

[[users]]
username = "nurse"
password = "{PASSWORD}"
email = "nurse@projectkeep.io"
cn = "Nurse Ratched"

[[clients]]
client_id = "domino-play"
secret = "{CLIENT_SECRET}"
redirect_uris = ["{REDIRECT_URI}"]
post_logout_redirect_uris = ["http://127.0.0.1:9/signed-out"]
grant_types = ["authorization_code", "password", "refresh_token", "client_credentials"]
{extra}
"#
        ),
    )
}

/// Runs the CLI in `dir` with `config`; returns stdout, asserting success.
pub fn cli(dir: &Path, config: &Path, args: &[&str]) -> String {
    let out = idp_command(dir)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A grant or Keep login over plain HTTP against a server process.
pub struct Http {
    pub http: reqwest::Client,
    pub base: String,
}

impl Http {
    pub fn of(server: &ServerProcess) -> Http {
        Http {
            http: crate::oidc_flow::no_redirects(),
            base: server.url(""),
        }
    }

    pub fn oidc(&self, endpoint: &str) -> String {
        format!(
            "{}/auth/realms/DominoRealm/protocol/openid-connect/{endpoint}",
            self.base
        )
    }

    /// A password grant at `domino-play`; the JSON response.
    pub async fn grant(&self, username: &str, scope: &str) -> Value {
        let resp = self
            .http
            .post(self.oidc("token"))
            .basic_auth("domino-play", Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", PASSWORD),
                ("scope", scope),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "password grant for {username}");
        resp.json().await.unwrap()
    }

    /// A Keep `/auth` bearer.
    pub async fn keep(&self, username: &str) -> String {
        let resp = self
            .http
            .post(format!("{}/auth", self.base))
            .json(&serde_json::json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "keep login for {username}");
        let body: Value = resp.json().await.unwrap();
        body["bearer"].as_str().unwrap().to_owned()
    }

    pub async fn introspect(&self, token: &str) -> Value {
        self.http
            .post(self.oidc("token/introspect"))
            .basic_auth("domino-play", Some(CLIENT_SECRET))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Userinfo's status and body.
    pub async fn userinfo(&self, token: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(self.oidc("userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (
            resp.status().as_u16(),
            resp.json().await.unwrap_or(Value::Null),
        )
    }

    /// Whether the browser with `cookie` is still signed in (prompt=none).
    pub async fn signed_in(&self, cookie: &str) -> bool {
        let url = crate::oidc_flow::authorize_url_at(&self.oidc("auth"), &[("prompt", "none")]);
        let resp = self
            .http
            .get(url)
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .unwrap();
        let to = crate::oidc_flow::location(&resp);
        crate::oidc_flow::query(&to, "code").is_some()
    }
}
