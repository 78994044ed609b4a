//! Hostile input against every OIDC endpoint: whatever arrives, the answer is
//! a clear 4xx (or the RFC's 200 for revocation), never a 5xx, and nothing is
//! issued.

use crate::helpers::*;

const ENDPOINTS: [&str; 7] = [
    "token",
    "token/introspect",
    "revoke",
    "userinfo",
    "auth",
    "logout",
    "../../login-actions/authenticate",
];

fn url(app: &TestApp, endpoint: &str) -> String {
    match endpoint.strip_prefix("../../") {
        Some(rest) => format!("{}/{rest}", app.issuer()),
        None => app.oidc(endpoint),
    }
}

#[tokio::test]
async fn no_body_however_malformed_gets_a_server_error() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let form = "application/x-www-form-urlencoded";
    let huge = format!("token={}", "A".repeat(70_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        (form, Vec::new()),
        (form, b"token=a&token=b".to_vec()),
        (form, b"%%%%&&&==".to_vec()),
        (form, b"token=%ff%fe%00".to_vec()),
        (form, b"token=\x00\x01\x02".to_vec()),
        (form, huge.into_bytes()),
        (form, format!("{}=1", "k".repeat(9000)).into_bytes()),
        (
            form,
            (0..100)
                .map(|i| format!("p{i}=1&"))
                .collect::<String>()
                .into_bytes(),
        ),
        ("application/json", br#"{"token": "x"}"#.to_vec()),
        ("text/plain", b"token=x".to_vec()),
        (
            form,
            b"token=<script>alert(1)</script>&client_id=' OR 1=1 --".to_vec(),
        ),
    ];
    for endpoint in ENDPOINTS {
        for (ct, body) in &bodies {
            let resp = app
                .client
                .post(url(&app, endpoint))
                .header("content-type", *ct)
                .basic_auth("domino-play", Some(CLIENT_SECRET))
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            assert!(
                (200..500).contains(&status),
                "{endpoint} with {ct} {:?}: {status}",
                String::from_utf8_lossy(&body[..body.len().min(40)])
            );
            let text = resp.text().await.unwrap();
            assert!(
                !text.contains("panicked") && !text.contains("sqlx"),
                "{text}"
            );
        }
    }
}

#[tokio::test]
async fn hostile_queries_on_get_endpoints() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let queries = [
        "client_id=domino-play&client_id=domino-play",
        "client_id=%ff",
        "client_id=%00",
        "redirect_uri=javascript:alert(1)&client_id=domino-play",
        "client_id=domino-play&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback%0d%0aSet-Cookie:x=1&response_type=code",
        "id_token_hint=a.b.c",
        "post_logout_redirect_uri=https://evil.example",
    ];
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for endpoint in ["auth", "logout", "userinfo"] {
        for q in queries {
            let resp = http
                .get(format!("{}?{q}", app.oidc(endpoint)))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            assert!((200..500).contains(&status), "{endpoint}?{q}: {status}");
            if let Some(loc) = resp.headers().get("location") {
                let loc = loc.to_str().unwrap();
                assert!(loc.starts_with(REDIRECT_URI), "{endpoint}?{q} -> {loc}");
            }
            assert!(resp.headers().get("x-1").is_none());
        }
    }
    let long = "a".repeat(20_000);
    let resp = http
        .get(format!(
            "{}?state={long}&client_id=domino-play",
            app.oidc("auth")
        ))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());
}
