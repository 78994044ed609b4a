//! What every console page shares: rendering with the security headers,
//! the console's cookies, CSRF checks and the form extractor.

use askama::Template;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::app::Issuer;
use crate::app::oidc::Params;
use crate::http::body::{self, Unread, is_form};
use crate::http::browser;

/// No script but our own file, no inline anything, no framing, forms only
/// to ourselves.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The start page's CSRF cookie (double submit; the page has no session).
pub const START_CSRF_COOKIE: &str = "DOMINO_IDP_START_CSRF";
/// The admin console's session cookie.
pub const CONSOLE_COOKIE: &str = "DOMINO_IDP_CONSOLE";
/// A sign-in under way: its state and PKCE verifier (SameSite=Lax).
pub const SIGNIN_COOKIE: &str = "DOMINO_IDP_CONSOLE_SIGNIN";

/// The headers of every console response.
pub fn secure(mut response: Response) -> Response {
    let h = response.headers_mut();
    browser::page_headers(h, CSP);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// Renders a page with the console's headers.
pub fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => secure((status, Html(body)).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "console template failed to render");
            secure((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response())
        }
    }
}

/// A 303 to `to`, with the console's headers.
pub fn see_other(to: &str) -> Response {
    secure(Redirect::to(to).into_response())
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage<'a> {
    realm: &'a str,
    title: &'a str,
    message: &'a str,
    /// A link onwards, if any: (href, text).
    link: Option<(&'a str, &'a str)>,
}

/// A page that says one thing (an error, a refusal), with a link onwards.
pub fn message(
    state: &Issuer,
    status: StatusCode,
    title: &str,
    text: &str,
    link: Option<(&str, &str)>,
) -> Response {
    html(
        status,
        &MessagePage {
            realm: &state.realm.name,
            title,
            message: text,
            link,
        },
    )
}

/// The store could not be reached: a 503 page (the cause is logged).
pub fn unavailable(state: &Issuer, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console: the store failed");
    message(
        state,
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again",
        "The server could not reach its database. Try again in a moment.",
        None,
    )
}

/// The server's base URL (the issuer without `<prefix>/realms/<realm>`).
pub fn base_url(state: &Issuer) -> String {
    let tail = format!(
        "{}/realms/{}",
        state.config.realms_prefix(),
        state.realm.name
    );
    state
        .realm
        .issuer
        .strip_suffix(&tail)
        .unwrap_or(&state.realm.issuer)
        .to_owned()
}

/// A console cookie: HttpOnly, SameSite=Strict, Secure under https.
pub fn cookie(
    state: &Issuer,
    name: &'static str,
    value: String,
    path: &'static str,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .secure(state.realm.issuer.starts_with("https://"))
        .same_site(SameSite::Strict)
        .build()
}

pub fn removal(state: &Issuer, name: &'static str, path: &'static str) -> Cookie<'static> {
    let mut c = cookie(state, name, String::new(), path);
    c.make_removal();
    c
}

/// The start page's CSRF token: the browser's, or a new one set now.
pub fn start_csrf(state: &Issuer, jar: CookieJar) -> (CookieJar, String) {
    browser::csrf_token(jar, START_CSRF_COOKIE, |token| {
        cookie(state, START_CSRF_COOKIE, token, "/")
    })
}

/// Whether a start-page form echoes the browser's CSRF cookie.
pub fn start_csrf_ok(jar: &CookieJar, form: &Params) -> bool {
    browser::csrf_echoed(jar, START_CSRF_COOKIE, form.get("csrf_token"))
}

/// A submitted console form: `application/x-www-form-urlencoded`, each
/// field at most once, UTF-8, no control characters (`Params`' rules).
pub struct Form(pub Params);

impl Form {
    /// A field's value, trimmed; empty when the field is absent.
    pub fn field(&self, name: &str) -> String {
        self.0.get(name).unwrap_or("").trim().to_owned()
    }

    /// Where to go back to: the user's page when the form names a user,
    /// else `otherwise`.
    pub fn back(&self, otherwise: &str) -> String {
        match self.0.get("user") {
            Some(u) => format!("/admin/users/{}", super::chrome::encode(u)),
            None => otherwise.to_owned(),
        }
    }
}

/// Why a form was not read: a 400 or 415 page.
pub struct BadForm(StatusCode, String);

impl IntoResponse for BadForm {
    fn into_response(self) -> Response {
        secure((self.0, self.1).into_response())
    }
}

impl FromRequest<Issuer> for Form {
    type Rejection = BadForm;

    async fn from_request(req: Request, state: &Issuer) -> Result<Self, Self::Rejection> {
        if !is_form(req.headers()) {
            return Err(BadForm(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the form as application/x-www-form-urlencoded".into(),
            ));
        }
        let bytes = body::read(req, state)
            .await
            .map_err(|unread| match unread {
                Unread::TooLarge(limit) => BadForm(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the form is larger than {limit} bytes"),
                ),
                Unread::Failed => {
                    BadForm(StatusCode::BAD_REQUEST, "the form could not be read".into())
                }
            })?;
        Params::parse(&bytes)
            .map(Form)
            .map_err(|why| BadForm(StatusCode::BAD_REQUEST, why))
    }
}

/// `unix` seconds as an RFC 3339 date, or `-`.
pub fn date(unix: Option<i64>) -> String {
    use time::format_description::well_known::Rfc3339;
    unix.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "-".to_owned())
}

/// Pretty JSON for a `<pre>`.
pub fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
