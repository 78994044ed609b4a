//! The web console over plain HTTP: the admin group, CSRF, the rate limit,
//! the audit line, the headers, `http_relative_path` and `start_page =
//! false` (`session`); what an admin does with it (`admin`). The browser
//! walk is `console_browser`.

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

mod admin;
mod hostile;
mod session;

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
