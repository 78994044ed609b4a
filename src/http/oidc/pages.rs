//! The HTML side of the provider: server-rendered templates (askama escapes
//! everything it interpolates), the browser cookies, and CSRF protection by
//! double submit (a random token in a SameSite=Strict HttpOnly cookie that the
//! form must echo).

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::app::Issuer;
use crate::app::oidc::Params;
use crate::domain::opaque;
use crate::http::browser;

pub const SESSION_COOKIE: &str = "DOMINO_IDP_SESSION";
pub const CSRF_COOKIE: &str = "DOMINO_IDP_CSRF";
/// Keycloak's session-status cookie, which the session iframe's script
/// reads (so not HttpOnly): base64url(SHA-256(session id)), as Keycloak
/// 26.1+ sets it. It names the session without being a credential.
pub const SESSION_STATUS_COOKIE: &str = "KEYCLOAK_SESSION";

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub realm: &'a str,
    pub client_name: &'a str,
    pub action: &'a str,
    pub hidden: Vec<(&'static str, String)>,
    pub csrf: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub realm: &'a str,
    pub message: &'a str,
}

#[derive(Template)]
#[template(path = "logout.html")]
pub struct LogoutPage<'a> {
    pub realm: &'a str,
    pub done: bool,
    pub action: &'a str,
    pub hidden: Vec<(&'static str, String)>,
    pub csrf: &'a str,
}

/// Renders a page with the headers every HTML page carries.
pub fn html(status: StatusCode, page: &impl Template) -> Response {
    let body = match page.render() {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let mut response = (status, Html(body)).into_response();
    browser::page_headers(
        response.headers_mut(),
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    );
    response
}

pub fn error_page(state: &Issuer, status: StatusCode, message: &str) -> Response {
    html(
        status,
        &ErrorPage {
            realm: &state.realm.name,
            message,
        },
    )
}

/// The path the browser cookies are scoped to.
pub fn cookie_path(state: &Issuer) -> String {
    format!(
        "{}/realms/{}/",
        state.config.realms_prefix(),
        state.realm.name
    )
}

fn secure(state: &Issuer) -> bool {
    state.realm.issuer.starts_with("https://")
}

/// A cookie with the attributes every cookie of ours has.
pub fn cookie(state: &Issuer, name: &'static str, value: String, strict: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .path(cookie_path(state))
        .http_only(true)
        .secure(secure(state))
        .same_site(if strict {
            SameSite::Strict
        } else {
            SameSite::Lax
        })
        .build()
}

/// The session-status cookie for a browser session. Read by the session
/// iframe inside other sites' pages, it is SameSite=None where that is
/// allowed (https); over plain http browsers refuse None without Secure, so
/// it is Lax there and the iframe sees it on same-site pages only.
pub fn session_status(state: &Issuer, session_id: &str) -> Cookie<'static> {
    let secure = secure(state);
    Cookie::build((SESSION_STATUS_COOKIE, opaque::digest(session_id)))
        .path(cookie_path(state))
        .http_only(false)
        .secure(secure)
        .same_site(if secure {
            SameSite::None
        } else {
            SameSite::Lax
        })
        .build()
}

pub fn session_status_removal(state: &Issuer) -> Cookie<'static> {
    let mut c = session_status(state, "");
    c.make_removal();
    c
}

pub fn removal(state: &Issuer, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(state, name, String::new(), false);
    c.make_removal();
    c
}

/// The CSRF token for a form: the browser's existing one, or a new one set now.
pub fn csrf_token(state: &Issuer, jar: CookieJar) -> (CookieJar, String) {
    browser::csrf_token(jar, CSRF_COOKIE, |token| {
        cookie(state, CSRF_COOKIE, token, true)
    })
}

/// Whether a submitted form echoes the browser's CSRF cookie.
pub fn csrf_ok(jar: &CookieJar, params: &Params) -> bool {
    browser::csrf_echoed(jar, CSRF_COOKIE, params.get("csrf_token"))
}
