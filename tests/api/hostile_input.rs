//! Hostile input at every route the OpenAPI document lists, and at the
//! console's and Keycloak's other paths: malformed bodies, headers, queries,
//! realm names, methods and framing, without credentials and with valid
//! ones, over raw TCP so that bytes no HTTP client would send arrive as
//! sent. Each request is answered, none with a 5xx, and the server stays
//! ready. Brute-force protection is off, so that a locked address does not
//! stop the requests before the code they aim at.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::helpers::*;

pub(crate) type Header = (Vec<u8>, Vec<u8>);

pub(crate) fn header(name: &str, value: impl AsRef<[u8]>) -> Header {
    (name.as_bytes().to_vec(), value.as_ref().to_vec())
}

/// One request, byte for byte, on a connection of its own.
pub(crate) fn request(method: &[u8], target: &[u8], headers: &[Header], body: &[u8]) -> Vec<u8> {
    let mut out = [method, b" ", target, b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"].concat();
    out.extend_from_slice(b"Connection: close\r\n");
    for (name, value) in headers {
        out.extend_from_slice(&[name.as_slice(), b": ", value, b"\r\n"].concat());
    }
    if !body.is_empty() || method == b"POST" {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// The status the server answered `bytes` with; `None` when it answered
/// nothing within 10 s or not with HTTP.
pub(crate) async fn status_of(addr: SocketAddr, bytes: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    // A server that answers before reading the whole body may close first.
    let _ = stream.write_all(bytes).await;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while head.len() < 12 {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf));
        match read.await.ok()?.ok()? {
            0 => break,
            n => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = std::str::from_utf8(head.get(..12)?).ok()?;
    line.strip_prefix("HTTP/1.1 ")?.parse().ok()
}

/// Fails with every request of `sent` that was a 5xx or went unanswered.
pub(crate) fn assert_all_answered(failed: &[String], sent: usize) {
    assert!(
        failed.is_empty(),
        "{} of {sent}:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// Every method and path of the OpenAPI document, the realm named.
async fn documented_routes(app: &TestApp) -> Vec<(Vec<u8>, Vec<u8>)> {
    let doc = app.get_json("/openapi.json").await;
    let paths = doc["paths"].as_object().expect("paths");
    let mut routes = Vec::new();
    for (path, operations) in paths {
        let path = path.replace("{realm}", "DominoRealm");
        for method in operations.as_object().expect("operations").keys() {
            if method != "parameters" {
                routes.push((
                    method.to_uppercase().into_bytes(),
                    path.clone().into_bytes(),
                ));
            }
        }
    }
    assert!(
        routes.len() > 30,
        "the document lists the routes: {routes:?}"
    );
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/admin"),
        ("GET", "/admin/users/doc"),
        ("POST", "/admin/users"),
        ("GET", "/auth/realms/DominoRealm/account"),
    ] {
        routes.push((method.into(), path.into()));
    }
    routes
}

fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    const FORM: &str = "application/x-www-form-urlencoded";
    const JSON: &str = "application/json";
    let nested = [vec![b'['; 40_000], vec![b']'; 40_000]].concat();
    vec![
        (
            FORM,
            b"%zz&&==&a=%ff%fe&grant_type=password&grant_type=password&username=%00&password=%C0%80"
                .to_vec(),
        ),
        (
            FORM,
            [b"grant_type=refresh_token&refresh_token=".as_slice(), &[b'A'; 60_000]].concat(),
        ),
        (
            FORM,
            b"grant_type=authorization_code&code=%00&redirect_uri=javascript:alert(1)&code_verifier=~"
                .to_vec(),
        ),
        (
            FORM,
            b"grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token=%ff&subject_token_type=urn:domino:params:oauth:token-type:api-key&client_id=domino-play&audience=x&audience=y"
                .to_vec(),
        ),
        (
            FORM,
            format!("grant_type=client_credentials&scope={}", "openid ".repeat(5000)).into_bytes(),
        ),
        (FORM, b"token=a.b.c&token_type_hint=%ff".to_vec()),
        (JSON, br#"{"username": {"$ne": 1}, "password": [1, 2]}"#.to_vec()),
        (JSON, nested),
        (JSON, b"{\"username\":\"doc\",\"password\":\"\xff\xfe\"}".to_vec()),
        (JSON, br#"{"username":"\ud800","password":"x"}"#.to_vec()),
        ("application/json; charset=latin1", br#"{"username":"doc"}"#.to_vec()),
        ("text/plain", b"hello".to_vec()),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--".to_vec(),
        ),
        ("application/x-www-form-urlencoded; charset=utf-16", b"\xff\xfea\x00=\x00".to_vec()),
    ]
}

/// Hostile headers, and the valid credentials `token` and `key`.
fn headers(token: &str, key: &str) -> Vec<Header> {
    let basic = |raw: &[u8]| format!("Basic {}", STANDARD.encode(raw));
    vec![
        header("Authorization", "Basic !!!"),
        header("Authorization", basic(b"\xff\xfe:\xc0\x80")),
        header("Authorization", basic(b"nocolon")),
        header(
            "Authorization",
            basic(&[b"domino-play:".as_slice(), &[b'x'; 6000]].concat()),
        ),
        header("Authorization", format!("Bearer {}", "A".repeat(7000))),
        header("Authorization", "Bearer a.b.c"),
        header(
            "Authorization",
            "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        ),
        header("Authorization", "Bearer"),
        header("Authorization", b"bearer \xff\xfe"),
        header("Authorization", format!("Bearer {token}")),
        header("X-Domino-Api-Key", [0xffu8; 40]),
        header("X-Domino-Api-Key", "k".repeat(7000)),
        header("X-Domino-Api-Key", key),
        header("X-Forwarded-For", b"::::, 999.1.1.1, garbage, , \xff"),
        header(
            "Cookie",
            [
                b"KEYCLOAK_SESSION=%ff; AUTH_SESSION_ID=;;;; KEYCLOAK_IDENTITY=\xff; a=".as_slice(),
                &[b'z'; 3000],
            ]
            .concat(),
        ),
        header("Origin", "http://a b"),
        header("Origin", "null"),
        header("If-None-Match", b"W/\"\xff\", *, \"unterminated"),
        header("Accept", b"\xff/\xfe;q=abc"),
        header(
            "Content-Type",
            b"application/x-www-form-urlencoded; charset=\xff",
        ),
    ]
}

fn queries() -> Vec<Vec<u8>> {
    vec![
        b"?%ff%fe".to_vec(),
        b"?a=%".to_vec(),
        b"?redirect_uri=javascript:alert(1)&client_id=domino-play&client_id=x&response_type=code&scope=openid".to_vec(),
        format!("?q={}", "x".repeat(6000)).into_bytes(),
        b"?email=%00&exact=%ff&first=-1&count=99999999999999999999".to_vec(),
        b"?id_token_hint=a.b.c&post_logout_redirect_uri=%ff".to_vec(),
        format!(
            "?client_id=domino-play&redirect_uri={REDIRECT_URI}&response_type=code&scope=openid&code_challenge={}&code_challenge_method=S256&prompt=none&max_age=-5&nonce=%00",
            "A".repeat(2000)
        )
        .into_bytes(),
    ]
}

/// Requests HTTP framing should refuse before any handler sees them.
fn framing() -> Vec<Vec<u8>> {
    [
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".as_slice(),
        b"POST /auth HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZ\r\n",
        b"POST /auth HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
        b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /auth/realms/DominoRealm/protocol/openid-connect/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000000\r\n\r\nabc",
    ]
    .iter()
    .map(|r| r.to_vec())
    .collect()
}

/// Every request the sweep sends, with a name for the report.
fn requests(routes: &[(Vec<u8>, Vec<u8>)], token: &str, key: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let name = |m: &[u8], p: &[u8], what: &str| {
        format!(
            "{} {} {what}",
            String::from_utf8_lossy(m),
            String::from_utf8_lossy(p)
        )
    };
    let basic = header(
        "Authorization",
        format!(
            "Basic {}",
            STANDARD.encode(format!("domino-play:{CLIENT_SECRET}"))
        ),
    );
    for (method, path) in routes {
        out.push((name(method, path, "bare"), request(method, path, &[], b"")));
        for query in queries() {
            let target = [path.as_slice(), &query].concat();
            let what = String::from_utf8_lossy(&query[..query.len().min(40)]).into_owned();
            out.push((
                name(method, path, &what),
                request(method, &target, &[], b""),
            ));
        }
        for h in headers(token, key) {
            let what = String::from_utf8_lossy(&h.1[..h.1.len().min(30)]).into_owned();
            out.push((name(method, path, &what), request(method, path, &[h], b"")));
        }
        if method == b"POST" {
            for (content_type, body) in bodies() {
                let typed = header("Content-Type", content_type);
                let what = String::from_utf8_lossy(&body[..body.len().min(30)]).into_owned();
                let bare = request(method, path, std::slice::from_ref(&typed), &body);
                out.push((name(method, path, &what), bare));
                let signed = request(method, path, &[typed, basic.clone()], &body);
                out.push((name(method, path, &format!("signed {what}")), signed));
            }
        }
        let preflight = [
            header("Origin", "http://127.0.0.1:9"),
            header("Access-Control-Request-Method", "FOO BAR"),
            header("Access-Control-Request-Headers", b"\x01\x02, x"),
        ];
        out.push((
            name(b"OPTIONS", path, "preflight"),
            request(b"OPTIONS", path, &preflight, b""),
        ));
        for wrong in ["PUT", "DELETE", "PATCH", "TRACE", "CONNECT", "FOO"] {
            out.push((
                name(wrong.as_bytes(), path, ""),
                request(wrong.as_bytes(), path, &[], b""),
            ));
        }
    }
    let long = "A".repeat(5000);
    for realm in [
        "%2e%2e",
        "DominoRealm%00",
        &long,
        "%F0%9F%98%80",
        "..%2f..%2fetc",
    ] {
        for suffix in [
            "",
            "/protocol/openid-connect/certs",
            "/protocol/openid-connect/token",
            "/.well-known/openid-configuration",
            "/protocol/openid-connect/auth?client_id=domino-play",
        ] {
            let target = format!("/auth/realms/{realm}{suffix}");
            out.push((
                format!("realm {}", &target[..target.len().min(60)]),
                request(b"GET", target.as_bytes(), &[], b""),
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_hostile_input_without_a_5xx() {
    let app = spawn_with(|c| {
        c.brute_force.enabled = false;
        c.brute_force.trusted_proxies = vec!["127.0.0.1/32".parse().expect("a network")];
    })
    .await;
    app.add_doc_and_play().await;
    let token = app.password_grant("openid").await["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let key = domino_idp::app::apikeys::create(app.state.store.as_ref(), "doc", None, None, 0)
        .await
        .expect("a key")
        .key;
    let routes = documented_routes(&app).await;

    let requests = requests(&routes, &token, &key);
    let sent = requests.len();
    let lanes = Arc::new(Semaphore::new(8));
    let mut tasks = JoinSet::new();
    for (what, bytes) in requests {
        let (addr, lanes) = (app.addr, lanes.clone());
        tasks.spawn(async move {
            let _lane = lanes.acquire_owned().await.expect("open");
            (what, status_of(addr, &bytes).await)
        });
    }
    let mut failed = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (what, status) = done.expect("task");
        if status.is_none_or(|s| s >= 500) {
            failed.push(format!("{status:?} {what}"));
        }
    }
    assert!(sent > 1500, "the sweep sends {sent} requests");
    assert_all_answered(&failed, sent);

    // HTTP framing a parser refuses: answered 4xx, or closed, never a 5xx.
    for bytes in framing() {
        let status = status_of(app.addr, &bytes).await;
        assert!(
            status.is_none_or(|s| s < 500),
            "{status:?}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    assert_eq!(app.get("/health/ready").await.status(), 200);
}
