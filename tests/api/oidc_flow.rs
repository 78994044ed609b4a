//! Driving the authorization endpoint and login form over plain HTTP, as a
//! browser would (cookies by hand, no redirects followed). Shared by the
//! authorization-code and logout tests.

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use url::Url;

use crate::helpers::*;

pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of `name` in an HTML attribute list (our own templates only).
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// `name=value` of a Set-Cookie header with that cookie name.
pub fn set_cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
}

/// The whole Set-Cookie header, attributes and all, that sets `name`.
pub fn set_cookie_header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{name}=")))
}

pub fn location(resp: &reqwest::Response) -> Url {
    Url::parse(resp.headers()[LOCATION].to_str().unwrap()).unwrap()
}

pub fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Where `prompt=none` sends a browser holding `cookie`: a code while its
/// session lives, `login_required` once it has ended.
pub async fn silent_authorize(app: &TestApp, cookie: &str) -> Url {
    let resp = no_redirects()
        .get(authorize_url(app, &[("prompt", "none")]))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    location(&resp)
}

/// The authorize URL for `domino-play` with PKCE, state and nonce.
pub fn authorize_url(app: &TestApp, extra: &[(&str, &str)]) -> Url {
    authorize_url_at(&app.oidc("auth"), extra)
}

/// `authorize_url` for the authorization endpoint at `endpoint`.
pub fn authorize_url_at(endpoint: &str, extra: &[(&str, &str)]) -> Url {
    let mut url = Url::parse(endpoint).unwrap();
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in [
            ("client_id", "domino-play"),
            ("redirect_uri", REDIRECT_URI),
            ("response_type", "code"),
            ("scope", "openid profile email"),
            ("state", "st-123"),
            ("nonce", "n-456"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ] {
            if !extra.iter().any(|(ek, _)| *ek == k) {
                q.append_pair(k, v);
            }
        }
        for (k, v) in extra {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
    }
    url
}

/// What a login produced: the redirect and the browser's session cookie.
pub struct LoggedIn {
    pub redirect: Url,
    pub session_cookie: String,
}

/// Opens `url`, fills the login form with `password`, and returns the response.
pub async fn submit_login(url: &Url, password: &str) -> (reqwest::Response, String) {
    let http = no_redirects();
    let page = http.get(url.clone()).send().await.unwrap();
    assert_eq!(page.status(), 200, "login form is shown");
    let csrf_cookie = set_cookie(&page, "DOMINO_IDP_CSRF").expect("csrf cookie");
    let html = page.text().await.unwrap();
    let action = html
        .split("action=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let mut form: Vec<(String, String)> = Vec::new();
    for name in [
        "client_id",
        "redirect_uri",
        "response_type",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "max_age",
        "response_mode",
        "csrf_token",
    ] {
        if let Some(v) = hidden(&html, name) {
            form.push((name.into(), html_unescape(&v)));
        }
    }
    form.push(("username".into(), "doc".into()));
    form.push(("password".into(), password.into()));
    let resp = http
        .post(action)
        .header(COOKIE, csrf_cookie.clone())
        .form(&form)
        .send()
        .await
        .unwrap();
    (resp, csrf_cookie)
}

fn html_unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// Logs Doctor Notes in through the form and returns the redirect to the client.
pub async fn login_through_form(app: &TestApp, extra: &[(&str, &str)]) -> LoggedIn {
    let (resp, _) = submit_login(&authorize_url(app, extra), PASSWORD).await;
    assert_eq!(resp.status(), 303, "login redirects to the client");
    let session_cookie = set_cookie(&resp, "DOMINO_IDP_SESSION").expect("session cookie");
    LoggedIn {
        redirect: location(&resp),
        session_cookie,
    }
}

/// Exchanges a code at the token endpoint as `domino-play`.
pub async fn exchange(app: &TestApp, code: &str, verifier: &str) -> reqwest::Response {
    code_grant(
        app,
        code,
        &[("redirect_uri", REDIRECT_URI), ("code_verifier", verifier)],
        Some(("domino-play", CLIENT_SECRET)),
    )
    .await
}

/// A code grant: `grant_type` and `code`, then the fields `rest`, with HTTP
/// Basic as `basic` when given.
pub async fn code_grant(
    app: &TestApp,
    code: &str,
    rest: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> reqwest::Response {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code)];
    form.extend_from_slice(rest);
    app.oidc_post("token", &form, basic).await
}
