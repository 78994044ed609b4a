//! `domino-idp proxy` (the Domino API proxy) as a process, between a client
//! and an upstream that echoes what it received, with the token from a
//! token file (the key exchange is tested with the issuer in `domino_run`);
//! `streaming`: large bodies both ways; `tls`: an `https://` upstream;
//! `limits`: the `[server]` limits on its callers' headers; `refusals`:
//! its token fetches when the upstream refuses or the issuer is away;
//! `dropped`: an upstream connection closed as a request arrives on it.

mod dropped;
mod limits;
mod refusals;
mod streaming;
mod tls;

use std::path::Path;
use std::process::{Child, Command};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use serde_json::{Value, json};

use crate::helpers::idp_command;
use crate::process::spawn_until_listening;

/// An upstream that answers every request with what it received, 401 for
/// the token `expired`, and a redirect for `/v4/moved`.
pub(super) async fn echo_upstream() -> String {
    async fn echo(
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> axum::response::Response {
        use axum::response::IntoResponse as _;
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let seen: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or("?"))))
            .collect();
        let out = json!({
            "method": method.as_str(),
            "path": uri.path(),
            "query": uri.query(),
            "headers": seen,
            "body": String::from_utf8_lossy(&body),
        });
        if uri.path() == "/v4/moved" {
            return (
                axum::http::StatusCode::FOUND,
                [("location", "/v4/elsewhere")],
            )
                .into_response();
        }
        let status = if auth == "Bearer expired" { 401 } else { 207 };
        (
            axum::http::StatusCode::from_u16(status).unwrap(),
            [("x-upstream", "yes")],
            axum::Json(out),
        )
            .into_response()
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, Router::new().fallback(echo))
            .await
            .unwrap();
    });
    format!("http://{addr}")
}

pub struct ProxyProcess {
    pub(super) child: Child,
    pub base: String,
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cmd` (a `domino-idp` command with its environment) running `proxy` on
/// a port-0 listener.
pub fn run_proxy(mut cmd: Command) -> ProxyProcess {
    cmd.env("RUST_LOG", "info")
        .args(["proxy", "--proxy-listen", "127.0.0.1:0"]);
    let (child, addr, _) = spawn_until_listening(cmd, "proxy listening on ");
    ProxyProcess {
        child,
        base: format!("http://{addr}"),
    }
}

/// `domino-idp` in `dir`, set up to proxy to `api_host` with the token in
/// `token_file`.
pub(super) fn proxy_command(dir: &Path, api_host: &str, token_file: &Path) -> Command {
    let mut cmd = idp_command(dir);
    cmd.env("DOMINO_API_HOST", api_host)
        .env("DOMINO_TOKEN_FILE", token_file)
        .env_remove("DOMINO_USER_API_KEY");
    cmd
}

pub(super) fn start_proxy(dir: &Path, api_host: &str, token_file: &Path) -> ProxyProcess {
    run_proxy(proxy_command(dir, api_host, token_file))
}

#[tokio::test]
async fn the_proxy_forwards_everything_with_the_token_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = echo_upstream().await;
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "header.payload.sig\n").unwrap();
    let proxy = start_proxy(dir.path(), &upstream, &token_file);
    let http = reqwest::Client::new();

    // The bare token, as text, without the newline.
    let resp = http
        .get(format!("{}/access-token", proxy.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/plain");
    assert_eq!(resp.text().await.unwrap(), "header.payload.sig");

    // Method, path, query and body unchanged; the caller's credentials and
    // hop-by-hop headers replaced or removed; the upstream's answer unchanged.
    let resp = http
        .put(format!("{}/v4/things/42?a=1&b=%20x", proxy.base))
        .header("authorization", "Basic c3RvbGVu")
        .header("X-Domino-Api-Key", "caller-key")
        .header("connection", "x-private")
        .header("x-private", "hop")
        .header("x-end-to-end", "kept")
        .body("a body of bytes")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 207);
    assert_eq!(resp.headers()["x-upstream"], "yes");
    let seen: Value = resp.json().await.unwrap();
    assert_eq!(seen["method"], "PUT");
    assert_eq!(seen["path"], "/v4/things/42");
    assert_eq!(seen["query"], "a=1&b=%20x");
    assert_eq!(seen["body"], "a body of bytes");
    assert_eq!(
        seen["headers"]["authorization"],
        "Bearer header.payload.sig"
    );
    assert_eq!(seen["headers"]["x-end-to-end"], "kept");
    assert!(seen["headers"].get("x-domino-api-key").is_none(), "{seen}");
    assert!(seen["headers"].get("x-private").is_none(), "{seen}");

    // A token the upstream refuses: re-read once for a repeatable request,
    // then the upstream's 401 comes back as it is.
    std::fs::write(&token_file, "expired").unwrap();
    let resp = http
        .get(format!("{}/v4/users/self", proxy.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    std::fs::write(&token_file, "header.payload.sig").unwrap();
    let resp = http
        .get(format!("{}/v4/users/self", proxy.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 207);
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "t.o.k").unwrap();
    let proxy = start_proxy(dir.path(), &upstream, &token_file);
    let resp = reqwest::get(format!("{}/v4/users/self", proxy.base))
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "bad_gateway");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "{body}"
    );
    // No token at all: a 502 too, not a 500.
    std::fs::remove_file(&token_file).unwrap();
    let resp = reqwest::get(format!("{}/access-token", proxy.base))
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
}

/// A redirect from the upstream reaches the caller as it was sent: the
/// proxy does not follow it on the caller's behalf.
#[tokio::test]
async fn the_proxy_passes_a_redirect_on_to_its_caller() {
    let dir = tempfile::tempdir().unwrap();
    let upstream = echo_upstream().await;
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "header.payload.sig\n").unwrap();
    let proxy = start_proxy(dir.path(), &upstream, &token_file);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .get(format!("{}/v4/moved", proxy.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "/v4/elsewhere");
}
