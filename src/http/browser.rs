//! What the browser-facing pages share, the OIDC login pages and the
//! console alike: their security headers and the double-submit CSRF token
//! (a random value in a cookie that the form must echo).

use axum::http::{HeaderMap, HeaderValue, header};
use axum_extra::extract::cookie::{Cookie, CookieJar};

use crate::domain::opaque;

/// The headers of every HTML page: its content security policy, no
/// framing, no sniffing, no referrer.
pub fn page_headers(h: &mut HeaderMap, csp: &'static str) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// The CSRF token of cookie `name`: the browser's, or a new one set now
/// with `cookie(token)`.
pub fn csrf_token(
    jar: CookieJar,
    name: &str,
    cookie: impl FnOnce(String) -> Cookie<'static>,
) -> (CookieJar, String) {
    if let Some(existing) = jar.get(name).map(|c| c.value().to_owned())
        && existing.len() == 43
    {
        return (jar, existing);
    }
    let token = opaque::generate();
    let jar = jar.add(cookie(token.clone()));
    (jar, token)
}

/// Whether a form's `sent` token echoes the browser's CSRF cookie `name`.
pub fn csrf_echoed(jar: &CookieJar, name: &str, sent: Option<&str>) -> bool {
    match (jar.get(name), sent) {
        (Some(c), Some(sent)) => c.value().len() == 43 && opaque::equal(c.value(), sent),
        _ => false,
    }
}
