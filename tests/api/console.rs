//! The web console over plain HTTP: the admin group, CSRF, the rate limit,
//! the audit line, the headers, `http_relative_path` and `start_page =
//! false`. The browser walk is `console_browser`.

use std::time::Duration;

use domino_idp::app::mappers;
use domino_idp::config::Secret;
use domino_idp::domain::mapper::MapperSpec;
use domino_idp::domain::user::UserSpec;
use reqwest::header::{CONTENT_SECURITY_POLICY, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;

use crate::helpers::*;
use crate::oidc_flow::set_cookie_header;
use crate::process::write_config;

pub(crate) const ADMIN: &str = "root";

pub(crate) fn admin_spec() -> UserSpec {
    UserSpec {
        username: ADMIN.into(),
        password: Some(Secret::new(PASSWORD)),
        groups: vec!["admins".into()],
        ..UserSpec::default()
    }
}

/// A client that does not follow redirects and keeps no cookies: the test
/// carries them by hand.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// `name=value` of each Set-Cookie, appended to `jar`.
fn keep_cookies(resp: &reqwest::Response, jar: &mut Vec<String>) {
    for v in resp.headers().get_all(SET_COOKIE) {
        let pair = v.to_str().unwrap().split(';').next().unwrap().to_owned();
        let name = pair.split('=').next().unwrap().to_owned();
        jar.retain(|c| !c.starts_with(&format!("{name}=")));
        if !pair.ends_with('=') {
            jar.push(pair);
        }
    }
}

/// The `value` of the hidden input `name` in an HTML page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end]
        .replace("&#x2f;", "/")
        .replace("&#x3d;", "=")
        .replace("&amp;", "&")
}

/// Where the login page's form posts.
fn action(html: &str) -> String {
    let marker = "<form method=\"post\" action=\"";
    let start = html.find(marker).expect("a form") + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].replace("&#x2f;", "/")
}

/// The CSRF token of the console page at `url`, fetched with `cookies`.
async fn csrf_of(url: String, cookies: &str) -> String {
    let page = http()
        .get(url)
        .header("cookie", cookies)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    hidden(&page, "csrf_token")
}

/// The signed-in admin's cookies and a form's CSRF token (from doc's page).
async fn admin_session(app: &TestApp) -> (String, String) {
    let (_, jar) = sign_in(app, ADMIN).await;
    let cookies = jar.join("; ");
    let csrf = csrf_of(app.url("/admin/users/doc"), &cookies).await;
    (cookies, csrf)
}

/// Signs in to /admin through the realm's login page with plain HTTP; the
/// callback's response and the cookies so far.
async fn sign_in(app: &TestApp, username: &str) -> (reqwest::Response, Vec<String>) {
    sign_in_at(&app.base, username).await
}

async fn sign_in_at(base: &str, username: &str) -> (reqwest::Response, Vec<String>) {
    let url = |path: &str| format!("{base}{path}");
    let http = http();
    let mut jar = Vec::new();
    let start = http.get(url("/admin")).send().await.unwrap();
    assert_eq!(start.status(), 303);
    keep_cookies(&start, &mut jar);
    let authorize = start.headers()[LOCATION].to_str().unwrap().to_owned();
    let login = http.get(&authorize).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let mut realm_jar = Vec::new();
    keep_cookies(&login, &mut realm_jar);
    let html = login.text().await.unwrap();
    let mut form: Vec<(String, String)> = [
        "client_id",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "csrf_token",
    ]
    .iter()
    .map(|n| ((*n).to_owned(), hidden(&html, n)))
    .collect();
    form.push(("username".into(), username.into()));
    form.push(("password".into(), PASSWORD.into()));
    let posted = http
        .post(action(&html))
        .header("cookie", realm_jar.join("; "))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 303, "{}", posted.text().await.unwrap());
    let callback = posted.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&url("/admin/callback?")), "{callback}");
    let done = http
        .get(&callback)
        .header("cookie", jar.join("; "))
        .send()
        .await
        .unwrap();
    keep_cookies(&done, &mut jar);
    (done, jar)
}

#[tokio::test]
async fn only_admin_group_members_get_a_console_session() {
    let app = spawn_app().await;
    app.add_doc().await;
    app.add_user(admin_spec()).await;

    let (refused, _) = sign_in(&app, "doc").await;
    assert_eq!(refused.status(), 403);
    assert!(
        refused
            .headers()
            .get(SET_COOKIE)
            .is_none_or(|c| !c.to_str().unwrap().starts_with("DOMINO_IDP_CONSOLE="))
    );
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("Not an administrator") && page.contains("admins"),
        "{page}"
    );

    let (admitted, jar) = sign_in(&app, ADMIN).await;
    assert_eq!(admitted.status(), 303);
    assert_eq!(admitted.headers()[LOCATION], "/admin/users");
    let console = set_cookie_header(&admitted, "DOMINO_IDP_CONSOLE").expect("a console cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/admin"] {
        assert!(console.contains(attribute), "{console}");
    }
    let users = http()
        .get(app.url("/admin/users"))
        .header("cookie", jar.join("; "))
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 200);
    assert!(
        users
            .text()
            .await
            .unwrap()
            .contains("Signed in as <strong id=\"signed-in-as\">root</strong>")
    );
}

#[tokio::test]
async fn console_forms_need_the_sessions_csrf_token_and_are_rate_limited() {
    let app = spawn_app().await;
    app.add_doc().await;
    app.add_user(admin_spec()).await;
    let (cookies, csrf) = admin_session(&app).await;
    let post = |token: Option<&str>, with_cookie: bool| {
        let mut req = http().post(app.url("/admin/users/doc/enabled"));
        if with_cookie {
            req = req.header("cookie", &cookies);
        }
        let mut form = vec![("enabled", "false")];
        if let Some(t) = token {
            form.push(("csrf_token", t));
        }
        req.form(&form).send()
    };
    assert_eq!(post(None, true).await.unwrap().status(), 403, "no token");
    assert_eq!(
        post(Some("forged"), true).await.unwrap().status(),
        403,
        "a wrong token"
    );
    assert_eq!(
        post(Some(&csrf), false).await.unwrap().status(),
        403,
        "no session"
    );
    let user = app.state.store.get_user("doc").await.unwrap().unwrap();
    assert!(user.enabled, "a refused form changed something");
    let ok = post(Some(&csrf), true).await.unwrap();
    assert_eq!(ok.status(), 303);
    assert!(
        !app.state
            .store
            .get_user("doc")
            .await
            .unwrap()
            .unwrap()
            .enabled
    );

    // Bad input is a 4xx page, never a 500.
    let garbage = http()
        .post(app.url("/admin/users"))
        .header("cookie", &cookies)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"csrf_token=%FF%FE&username=x".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);

    // 60 changes a minute, then 429 with Retry-After.
    let mut limited = None;
    for _ in 0..70 {
        let r = post(Some(&csrf), true).await.unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), 303);
    }
    let limited = limited.expect("the rate limit never applied");
    assert!(limited.headers().contains_key("retry-after"));
    app.clock.advance(Duration::from_secs(61));
    assert_eq!(post(Some(&csrf), true).await.unwrap().status(), 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_changes_are_audited_with_the_admin_as_operator() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(
        tmp.path(),
        &format!(
            "[[users]]\nusername = \"root\"\npassword = \"{PASSWORD}\"\ngroups = [\"admins\"]\n\n\
             [[users]]\nusername = \"doc\"\npassword = \"{PASSWORD}\"\n"
        ),
    );
    let server = crate::process::ServerProcess::start(tmp.path(), &config);
    let base = server.url("");
    let (_, jar) = sign_in_at(&base, ADMIN).await;
    let cookies = jar.join("; ");
    let csrf = csrf_of(format!("{base}/admin/users/doc"), &cookies).await;
    let disabled = http()
        .post(format!("{base}/admin/users/doc/enabled"))
        .header("cookie", &cookies)
        .form(&[("enabled", "false"), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 303);
    let mut line = None;
    for _ in 0..50 {
        line = server
            .log()
            .lines()
            .find(|l| l.contains("admin.change") && l.contains("user.disable"))
            .map(str::to_owned);
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line = line.unwrap_or_else(|| panic!("no audit line:\n{}", server.log()));
    assert!(line.contains("audit"), "{line}");
    assert!(line.contains("operator") && line.contains("root"), "{line}");
    assert!(line.contains("subject") && line.contains("doc"), "{line}");
    let log = server.log();
    assert!(log.contains("console.signin"), "{log}");
    assert!(
        !log.contains(PASSWORD) && !log.contains(&csrf),
        "a secret in the log"
    );
    for cookie in &jar {
        let value = cookie.split_once('=').unwrap().1;
        assert!(!log.contains(value), "a cookie in the log: {cookie}");
    }
}

#[tokio::test]
async fn console_pages_carry_a_strict_csp_and_no_store() {
    let app = spawn_app().await;
    for path in ["/", "/auth/realms/DominoRealm/", "/admin"] {
        let resp = http().get(app.url(path)).send().await.unwrap();
        let csp = resp.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(resp.headers()["cache-control"], "no-store", "{path}");
    }
    let page = app.get("/").await.text().await.unwrap();
    assert!(
        !page.contains("<script>") && !page.contains("style="),
        "inline script or style"
    );
    let js = app.get("/static/console.js").await;
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    // A start-page form without the page's CSRF cookie is refused.
    let resp = http()
        .post(app.url("/start/check"))
        .form(&[("token", "x.y.z"), ("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // An unknown realm under the issuer path is a 404 page.
    assert_eq!(app.get("/auth/realms/Other/").await.status(), 404);
}

#[tokio::test]
async fn the_console_follows_http_relative_path() {
    let app = spawn_with(|c| c.http_relative_path = "/".into()).await;
    app.add_user(admin_spec()).await;
    let page = app.get("/realms/DominoRealm/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let jwks = format!(
        "{}/realms/DominoRealm/protocol/openid-connect/certs",
        app.base
    );
    assert!(html.contains(&jwks), "{html}");
    assert_eq!(app.get("/auth/realms/DominoRealm/").await.status(), 404);
    let (done, _) = sign_in(&app, ADMIN).await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()[LOCATION], "/admin/users");
}

#[tokio::test]
async fn start_page_false_leaves_the_root_a_404() {
    let app = spawn_with(|c| c.start_page = false).await;
    for path in ["/", "/auth/realms/DominoRealm/"] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 404, "{path}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
    }
    let post = http()
        .post(app.url("/start/token"))
        .form(&[("username", "doc")])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 404);
    // The admin console is its own setting.
    let admin = http().get(app.url("/admin")).send().await.unwrap();
    assert_eq!(admin.status(), 303);
}

/// The roles page: add a realm role, grant it to a user, see it in the
/// user's next token's `realm_access`, revoke it; a grant of a role that does
/// not exist is a 404 page with the form, never a 500.
#[tokio::test]
async fn roles_are_added_granted_and_revoked_from_the_console() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    app.add_user(admin_spec()).await;
    let (_, jar) = sign_in(&app, ADMIN).await;
    let cookies = jar.join("; ");
    let page = http()
        .get(app.url("/admin/roles"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("default-roles-"),
        "the built-in roles are listed"
    );
    let csrf = hidden(&html, "csrf_token");
    let post = |path: &'static str, form: Vec<(&'static str, &'static str)>| {
        let mut form = form;
        form.push(("csrf_token", csrf.as_str()));
        http()
            .post(app.url(path))
            .header("cookie", &cookies)
            .form(&form)
            .send()
    };
    let added = post(
        "/admin/roles",
        vec![("name", "auditor"), ("description", "reads logs")],
    )
    .await
    .unwrap();
    assert_eq!(added.status(), 303);
    let missing = post(
        "/admin/roles/grant",
        vec![
            ("role", "no-such-role"),
            ("kind", "user"),
            ("holder", "doc"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("grant-error"));
    let granted = post(
        "/admin/roles/grant",
        vec![("role", "auditor"), ("kind", "user"), ("holder", "doc")],
    )
    .await
    .unwrap();
    assert_eq!(granted.status(), 303);
    let claims = |token: String| {
        let payload = token.split('.').nth(1).unwrap().to_owned();
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap();
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
    };
    // A client with Keycloak's default scopes (`roles` among them).
    app.add_client(domino_idp::domain::client::ClientSpec {
        client_id: "kc-app".into(),
        secret: Some(domino_idp::config::Secret::new(CLIENT_SECRET)),
        grant_types: vec![domino_idp::domain::client::GrantType::Password],
        ..domino_idp::domain::client::ClientSpec::default()
    })
    .await;
    let roles_of_doc = || async {
        let body: serde_json::Value = app
            .oidc_post(
                "token",
                &[
                    ("grant_type", "password"),
                    ("username", "doc"),
                    ("password", PASSWORD),
                ],
                Some(("kc-app", CLIENT_SECRET)),
            )
            .await
            .json()
            .await
            .unwrap();
        claims(body["access_token"].as_str().unwrap().to_owned())["realm_access"]["roles"].clone()
    };
    let roles = roles_of_doc().await;
    assert!(
        roles.as_array().unwrap().iter().any(|r| r == "auditor"),
        "{roles}"
    );
    let revoked = post(
        "/admin/roles/revoke",
        vec![("role", "auditor"), ("kind", "user"), ("holder", "doc")],
    )
    .await
    .unwrap();
    assert_eq!(revoked.status(), 303);
    let roles = roles_of_doc().await;
    assert!(
        !roles.as_array().unwrap().iter().any(|r| r == "auditor"),
        "{roles}"
    );
}

#[tokio::test]
async fn users_clients_and_mappers_are_removed_from_the_console() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    app.add_user(admin_spec()).await;
    let team: MapperSpec = serde_json::from_value(
        serde_json::json!({"name": "team", "type": "hardcoded", "claim": "team", "value": "red"}),
    )
    .unwrap();
    mappers::create(app.state.store.as_ref(), &team)
        .await
        .unwrap();
    let (cookies, csrf) = admin_session(&app).await;
    let remove = |path: &str| {
        http()
            .post(app.url(path))
            .header("cookie", &cookies)
            .form(&[("csrf_token", &csrf)])
            .send()
    };
    for (path, back) in [
        ("/admin/users/doc/remove", "/admin/users?done=removed"),
        (
            "/admin/clients/domino-play/remove",
            "/admin/clients?done=removed",
        ),
        ("/admin/mappers/team/remove", "/admin/mappers?done=removed"),
    ] {
        let removed = remove(path).await.unwrap();
        assert_eq!(removed.status(), 303, "{path}");
        assert_eq!(removed.headers()[LOCATION], back, "{path}");
        // Gone now: a second removal is the not-found page.
        assert_eq!(remove(path).await.unwrap().status(), 404, "{path}");
    }
    let store = &app.state.store;
    assert!(store.get_user("doc").await.unwrap().is_none());
    assert!(store.get_client("domino-play").await.unwrap().is_none());
    let left = store.list_mappers().await.unwrap();
    assert!(left.iter().all(|m| m.name != "team"));
}

/// An admin creates an API key on a user's page: a bad lifetime is an error
/// next to the field and creates nothing; a good one shows the key once, it
/// works at the Domino API at once, and the page does not show it again.
#[tokio::test]
async fn an_api_key_is_created_from_the_console_and_shown_once() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    app.add_user(admin_spec()).await;
    let (cookies, csrf) = admin_session(&app).await;
    let create = |name: &'static str, days: &'static str| {
        http()
            .post(app.url("/admin/users/doc/apikeys"))
            .header("cookie", &cookies)
            .form(&[
                ("name", name),
                ("expires_days", days),
                ("csrf_token", csrf.as_str()),
            ])
            .send()
    };
    let bad = create("laptop", "soon").await.unwrap();
    assert_eq!(bad.status(), 400);
    let html = bad.text().await.unwrap();
    assert!(html.contains("id=\"key-error\""), "{html}");
    assert!(!html.contains("api-key-once") && html.contains("No API keys."));

    let made = create("laptop", "30").await.unwrap();
    assert_eq!(made.status(), 200);
    let html = made.text().await.unwrap();
    let key = html
        .split("id=\"api-key-once\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no key on the page: {html}"))
        .to_owned();
    assert!(html.contains(">laptop<"), "the key is listed: {html}");
    let me = http()
        .get(app.url("/v4/users/self"))
        .header("X-Domino-Api-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["userName"], "doc", "{me}");

    let again = http()
        .get(app.url("/admin/users/doc"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains(&key), "the key is shown once");
}
