//! Hostile forms from a signed-in admin: every console route that takes a
//! form, with a valid session and CSRF token, sent fields no browser would
//! (invalid UTF-8 and percent-encoding, NUL and line breaks, oversized and
//! negative values, markup, repeated and missing fields), and its pages
//! with odd names in the path. Each is answered, none with a 5xx; the
//! rate limit's minute is moved on with the app's clock so that every form
//! reaches its handler.

use std::time::Duration;

use super::*;
use crate::hostile_input::{assert_all_answered, header, request, status_of};

/// The routes that take a form, with real names in their paths.
const FORMS: &[&str] = &[
    "/admin/users",
    "/admin/users/doc/enabled",
    "/admin/users/doc/password",
    "/admin/users/doc/edit",
    "/admin/users/doc/apikeys",
    "/admin/users/nobody/edit",
    "/admin/apikeys/no-such-key/revoke",
    "/admin/clients",
    "/admin/clients/domino-play/edit",
    "/admin/clients/domino-play/secret",
    "/admin/clients/no-such-client/edit",
    "/admin/mappers",
    "/admin/mappers/no-such-mapper/remove",
    "/admin/roles",
    "/admin/roles/grant",
    "/admin/roles/revoke",
    "/admin/roles/remove",
    "/admin/sessions/no-such-session/end",
    "/admin/keys/retire",
];

/// Pages with names no store holds.
const PAGES: &[&str] = &[
    "/admin/users/%ff%fe",
    "/admin/users/a%00b",
    "/admin/clients/%2e%2e%2f",
    "/admin/keys/%ff/pem",
    "/admin/keys/..%2f..%2fetc%2fpasswd/pem",
    "/admin/users?first=-1&max=99999999999999999999&search=%ff",
    "/admin/sessions?user=%00",
];

/// The fields the console's forms name, each given `value`.
fn fields(value: &[u8]) -> Vec<u8> {
    let names = [
        "username",
        "password",
        "email",
        "cn",
        "org",
        "scope",
        "scopes",
        "enabled",
        "attributes",
        "groups",
        "client_id",
        "secret",
        "public",
        "redirect_uris",
        "web_origins",
        "grant_types",
        "default_scopes",
        "allowed_scopes",
        "name",
        "type",
        "claim",
        "value",
        "attribute",
        "role",
        "client",
        "user",
        "holder",
        "group",
        "lifetime_days",
        "kid",
        "description",
        "first_name",
        "last_name",
    ];
    let mut body = Vec::new();
    for name in names {
        body.extend_from_slice(name.as_bytes());
        body.push(b'=');
        body.extend_from_slice(value);
        body.push(b'&');
    }
    body
}

fn values() -> Vec<Vec<u8>> {
    vec![
        b"%ff%fe".to_vec(),
        b"%".to_vec(),
        b"a%00b".to_vec(),
        b"a%0D%0Ab%0Ac".to_vec(),
        b"%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_vec(),
        b"-1".to_vec(),
        b"99999999999999999999999".to_vec(),
        b"".to_vec(),
        b"\xff\xfe".to_vec(),
        vec![b'x'; 20_000],
        b"a%3Db%0Ac%3D%3D%0A%3Dd".to_vec(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_forms_answer_hostile_input_without_a_5xx() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    app.add_user(admin_spec()).await;
    let (cookies, csrf) = admin_session(&app).await;
    let signed = [
        header("Cookie", &cookies),
        header("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let mut failed = Vec::new();
    let mut sent = 0;
    for path in FORMS {
        let mut bodies: Vec<Vec<u8>> = values()
            .iter()
            .map(|v| [format!("csrf_token={csrf}&").as_bytes(), &fields(v)].concat())
            .collect();
        // Repeated fields, and only the token.
        bodies.push(format!("csrf_token={csrf}&name=a&name=b&username=a&username=b").into_bytes());
        bodies.push(format!("csrf_token={csrf}").into_bytes());
        for body in bodies {
            sent += 1;
            if sent % 50 == 0 {
                // The console allows 60 changes a minute per admin.
                app.clock.advance(Duration::from_secs(61));
            }
            let bytes = request(b"POST", path.as_bytes(), &signed, &body);
            let status = status_of(app.addr, &bytes).await;
            if status.is_none_or(|s| s >= 500 || s == 429) {
                let shown = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
                failed.push(format!("{status:?} POST {path} {shown}"));
            }
        }
    }
    for path in PAGES {
        let status = status_of(
            app.addr,
            &request(b"GET", path.as_bytes(), &signed[..1], b""),
        )
        .await;
        if status.is_none_or(|s| s >= 500) {
            failed.push(format!("{status:?} GET {path}"));
        }
    }
    assert!(sent > 200, "{sent} forms sent");
    assert_all_answered(&failed, sent);
    // The admin is still signed in, and the store still answers.
    let page = http()
        .get(app.url("/admin/users"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(app.get("/health/ready").await.status(), 200);
}
