//! The pages keycloak-js loads in hidden iframes, served as Keycloak serves
//! them: the third-party cookie check (`3p-cookies/step1.html`, which sets
//! test cookies, and `step2.html`, which reports whether they stuck) and
//! the session iframe (`login-status-iframe.html`, which answers the app's
//! `"<client_id> <session id>"` with `unchanged`, `changed` or `error` from
//! the session-status cookie, after asking `login-status-iframe.html/init`
//! whether the app's origin is a web origin of that client). The pages are
//! built into the binary; their scripts are separate files, so the CSP
//! allows scripts from this origin only and nothing inline. Other sites
//! embed them, so they may be framed.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::form::QueryOrForm;
use crate::app::Issuer;
use crate::app::oidc::OAuthError;
use crate::http::error::AppError;
use crate::http::schemas::RealmNotFound;

macro_rules! asset {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/session/",
            $file
        ))
    };
}

const STEP1: &str = oidc_path!("/3p-cookies/step1.html");
const STEP1_JS: &str = oidc_path!("/3p-cookies/step1.js");
const STEP2: &str = oidc_path!("/3p-cookies/step2.html");
const STEP2_JS: &str = oidc_path!("/3p-cookies/step2.js");
const STATUS_IFRAME: &str = oidc_path!("/login-status-iframe.html");
const STATUS_IFRAME_JS: &str = oidc_path!("/login-status-iframe.js");
pub(in crate::http) const STATUS_IFRAME_INIT: &str = oidc_path!("/login-status-iframe.html/init");

/// Scripts from this origin, no inline script, `fetch` to this origin (the
/// init call); no `frame-ancestors`: any app may embed these pages.
const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'";

pub fn router() -> Router<Issuer> {
    Router::new()
        .route(STEP1, get(step1))
        .route(STEP1_JS, get(step1_js))
        .route(STEP2, get(step2))
        .route(STEP2_JS, get(step2_js))
        .route(STATUS_IFRAME, get(status_iframe))
        .route(STATUS_IFRAME_JS, get(status_iframe_js))
        .route(STATUS_IFRAME_INIT, get(init).layer(crate::http::no_store()))
}

/// Declares a handler serving one built-in page or script, with its
/// OpenAPI operation.
macro_rules! served {
    ($name:ident, $path:expr, $file:literal, $render:ident, $content_type:literal, $summary:literal) => {
        #[utoipa::path(
            get,
            path = $path,
            summary = $summary,
            responses(
                (status = 200, description = $summary, content_type = $content_type, body = String,
                    headers(("Content-Security-Policy" = String,
                        description = "Scripts from this origin only, nothing inline; any page may frame it"))),
                (status = 404, response = RealmNotFound),
            ),
        )]
        pub async fn $name() -> Response {
            $render(asset!($file))
        }
    };
}

served!(
    step1,
    STEP1,
    "step1.html",
    page,
    "text/html",
    "keycloak-js's third-party cookie check, step 1: sets test cookies, loads step 2"
);
served!(
    step1_js,
    STEP1_JS,
    "step1.js",
    script,
    "text/javascript",
    "The script of the third-party cookie check, step 1"
);
served!(
    step2,
    STEP2,
    "step2.html",
    page,
    "text/html",
    "keycloak-js's third-party cookie check, step 2: posts supported or unsupported to the embedding page"
);
served!(
    step2_js,
    STEP2_JS,
    "step2.js",
    script,
    "text/javascript",
    "The script of the third-party cookie check, step 2"
);
served!(
    status_iframe,
    STATUS_IFRAME,
    "login-status-iframe.html",
    page,
    "text/html",
    "keycloak-js's session iframe: answers unchanged, changed or error"
);
served!(
    status_iframe_js,
    STATUS_IFRAME_JS,
    "login-status-iframe.js",
    script,
    "text/javascript",
    "The script of the session iframe"
);

fn page(body: &'static str) -> Response {
    asset_response(body, "text/html; charset=utf-8")
}

fn script(body: &'static str) -> Response {
    asset_response(body, "text/javascript; charset=utf-8")
}

fn asset_response(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

/// Whether the session iframe may answer a page on `origin` about
/// `client_id`'s session: 204 when `origin` is one of the client's web
/// origins, 403 otherwise (an unknown client too, so the answer tells
/// nothing about which clients exist), as Keycloak's
/// `LoginStatusIframeEndpoint` does.
#[utoipa::path(
    get,
    path = STATUS_IFRAME_INIT,
    operation_id = "login_status_iframe_init",
    summary = "The session iframe's origin check (keycloak-js)",
    params(
        ("client_id" = String, Query, description = "The app's client"),
        ("origin" = String, Query, description = "The origin of the page that embeds the iframe"),
    ),
    responses(
        (status = 204, description = "The origin is a web origin of the client"),
        (status = 400, description = "client_id or origin is missing",
            body = crate::http::error::OAuthErrorBody),
        (status = 403, description = "Unknown client, or not one of its web origins"),
        (status = 404, response = RealmNotFound),
    ),
)]
pub async fn init(
    State(state): State<Issuer>,
    params: Result<QueryOrForm, OAuthError>,
) -> Response {
    let params = match params {
        Ok(QueryOrForm(p)) => p,
        Err(e) => return e.into_response(),
    };
    let (client_id, origin) = match (params.require("client_id"), params.require("origin")) {
        (Ok(c), Ok(o)) => (c, o),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    match state.store.get_client(client_id).await {
        Ok(Some(client)) if client.origin_access(origin).is_some() => {
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(_) => StatusCode::FORBIDDEN.into_response(),
        Err(e) => AppError::from(e).into_response(),
    }
}
