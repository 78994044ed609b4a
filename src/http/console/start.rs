//! The start page, `GET /` and `GET <issuer>/`: the realm's endpoints,
//! "Get a token" (`POST /start/token`) and "Check a token"
//! (`POST /start/check`). Without JavaScript it is plain forms and
//! server-rendered results; `console.js` only adds copy buttons and the
//! expiry countdown.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

use super::page::{self, Form};
use crate::app::Issuer;
use crate::app::keep::KeepError;
use crate::app::login::ClientIp;
use crate::app::start::{TokenCheck, TokenRequest, Verdict};
use crate::app::users::LoginError;
use crate::domain::user::{LoginName, Password};

/// One endpoint row: label, element id, URL.
pub struct Endpoint {
    pub label: &'static str,
    pub id: &'static str,
    pub url: String,
}

/// A token as the page shows it.
pub struct TokenView {
    /// `keep` or `oauth`: the element ids.
    pub id: &'static str,
    pub title: String,
    pub token: String,
    pub header: String,
    pub claims: String,
    /// Unix seconds; the countdown's target.
    pub expires_at: i64,
    pub expires_text: String,
    pub curl: Vec<String>,
}

pub struct CheckView {
    pub verdict: &'static str,
    pub ok: bool,
    pub message: String,
    pub header: String,
    pub claims: String,
}

#[derive(Template)]
#[template(path = "console/start.html")]
pub struct StartPage {
    pub realm: String,
    pub issuer: String,
    pub endpoints: Vec<Endpoint>,
    pub csrf: String,
    pub username: String,
    pub client: String,
    pub scope: String,
    pub lifetime: String,
    /// The "Get a token" form's error, and the field it is about.
    pub token_error: Option<String>,
    pub token_field: &'static str,
    pub keep: Option<TokenView>,
    pub oauth: Option<TokenView>,
    pub oauth_error: Option<String>,
    pub check_token: String,
    pub check: Option<CheckView>,
    pub admin_console: bool,
}

impl StartPage {
    fn new(state: &Issuer, csrf: String) -> StartPage {
        let base = page::base_url(state);
        let issuer = state.realm.issuer.clone();
        let oidc = |path: &str| format!("{issuer}/protocol/openid-connect/{path}");
        let endpoints = [
            ("Issuer", "ep-issuer", issuer.clone()),
            (
                "Discovery",
                "ep-discovery",
                format!("{issuer}/.well-known/openid-configuration"),
            ),
            ("JWKS", "ep-jwks", oidc("certs")),
            ("Authorize", "ep-authorize", oidc("auth")),
            ("Token", "ep-token", oidc("token")),
            ("Userinfo", "ep-userinfo", oidc("userinfo")),
            ("Introspection", "ep-introspect", oidc("token/introspect")),
            ("Logout", "ep-logout", oidc("logout")),
            ("Keep login (POST /auth)", "ep-keep", format!("{base}/auth")),
            ("Domino API", "ep-domino", format!("{base}/v4/users/self")),
        ]
        .into_iter()
        .map(|(label, id, url)| Endpoint { label, id, url })
        .collect();
        StartPage {
            realm: state.realm.name.clone(),
            issuer,
            endpoints,
            csrf,
            username: String::new(),
            client: String::new(),
            scope: String::new(),
            lifetime: String::new(),
            token_error: None,
            token_field: "",
            keep: None,
            oauth: None,
            oauth_error: None,
            check_token: String::new(),
            check: None,
            admin_console: state.config.admin_console,
        }
    }
}

fn render(jar: CookieJar, status: StatusCode, page: &StartPage) -> Response {
    (jar, page::html(status, page)).into_response()
}

/// `GET /`.
pub async fn show(State(state): State<Issuer>, jar: CookieJar) -> Response {
    let (jar, csrf) = page::start_csrf(&state, jar);
    render(jar, StatusCode::OK, &StartPage::new(&state, csrf))
}

/// `GET <issuer>/`: the same page, for the configured realm only.
pub async fn show_in_realm(
    State(state): State<Issuer>,
    Path(realm): Path<String>,
    jar: CookieJar,
) -> Response {
    if realm != state.realm.name {
        return page::message(
            &state,
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("There is no realm {realm:?} here."),
            Some(("/", "Start page")),
        );
    }
    show(State(state), jar).await
}

/// A form posted without the page's CSRF token: the page again, with a 403.
fn stale(state: &Issuer, jar: CookieJar) -> Response {
    let (jar, csrf) = page::start_csrf(state, jar);
    let mut p = StartPage::new(state, csrf);
    p.token_error =
        Some("This form expired or did not come from this page. Please try again.".into());
    render(jar, StatusCode::FORBIDDEN, &p)
}

/// `POST /start/token`: one password check for both tokens.
pub async fn token(
    State(state): State<Issuer>,
    jar: CookieJar,
    ip: ClientIp,
    Form(form): Form,
) -> Response {
    if !page::start_csrf_ok(&jar, &form) {
        return stale(&state, jar);
    }
    let (jar, csrf) = page::start_csrf(&state, jar);
    let mut p = StartPage::new(&state, csrf);
    p.username = form.get("username").unwrap_or("").to_owned();
    p.client = form.get("client_id").unwrap_or("").to_owned();
    p.scope = form.get("scope").unwrap_or("").to_owned();
    p.lifetime = form.get("lifetime").unwrap_or("").to_owned();
    let fail = |mut p: StartPage, status, field, text: &str| {
        p.token_error = Some(text.to_owned());
        p.token_field = field;
        (p, status)
    };
    let exp_seconds = match p.lifetime.trim() {
        "" => None,
        raw => match raw.parse::<u64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                let (p, status) = fail(
                    p,
                    StatusCode::BAD_REQUEST,
                    "lifetime",
                    "Give the lifetime as a whole number of seconds, e.g. 3600.",
                );
                return render(jar, status, &p);
            }
        },
    };
    let bad = "Invalid username or password.";
    let (Ok(login), Ok(password)) = (
        LoginName::parse(&p.username),
        Password::parse(form.get("password").unwrap_or("")),
    ) else {
        let (p, status) = fail(p, StatusCode::UNAUTHORIZED, "password", bad);
        return render(jar, status, &p);
    };
    let client = p.client.trim().to_owned();
    let scope = p.scope.trim().to_owned();
    let req = TokenRequest {
        login: &login,
        password: &password,
        ip,
        client_id: Some(client.as_str()).filter(|c| !c.is_empty()),
        client_secret: form.get("client_secret"),
        scope: Some(scope.as_str()).filter(|s| !s.is_empty()),
        exp_seconds,
    };
    let tokens = match state.developer_tokens(req).await {
        Ok(tokens) => tokens,
        Err(KeepError::Login(LoginError::Refused)) => {
            let (p, status) = fail(p, StatusCode::UNAUTHORIZED, "password", bad);
            return render(jar, status, &p);
        }
        Err(KeepError::Login(LoginError::Locked { retry_after })) => {
            let (p, status) = fail(
                p,
                StatusCode::TOO_MANY_REQUESTS,
                "password",
                "Too many failed attempts; try again later.",
            );
            let mut response = render(jar, status, &p);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            return response;
        }
        Err(KeepError::Login(LoginError::Store(e)) | KeepError::Store(e)) => {
            return page::unavailable(&state, &e);
        }
        Err(e) => {
            tracing::error!(error = %e, "start page: token failed");
            let (p, status) = fail(
                p,
                StatusCode::INTERNAL_SERVER_ERROR,
                "",
                "The token could not be issued; see the server log.",
            );
            return render(jar, status, &p);
        }
    };
    let base = page::base_url(&state);
    let keep_check = state.check_token(&tokens.keep.bearer);
    p.keep = Some(view(
        "keep",
        "Keep token (POST /auth)".into(),
        &tokens.keep.bearer,
        &keep_check,
        vec![
            curl(&tokens.keep.bearer, &format!("{base}/v4/users/self")),
            curl(
                &tokens.keep.bearer,
                &format!("{}/protocol/openid-connect/userinfo", state.realm.issuer),
            ),
        ],
    ));
    match tokens.oauth {
        Ok(oauth) => {
            let check = state.check_token(&oauth.access_token);
            p.oauth = Some(view(
                "oauth",
                format!("OAuth access token (client {})", tokens.client_id),
                &oauth.access_token,
                &check,
                vec![curl(
                    &oauth.access_token,
                    &format!("{}/protocol/openid-connect/userinfo", state.realm.issuer),
                )],
            ));
        }
        Err(why) => p.oauth_error = Some(why),
    }
    render(jar, StatusCode::OK, &p)
}

fn curl(token: &str, url: &str) -> String {
    format!("curl -H 'Authorization: Bearer {token}' '{url}'")
}

fn view(
    id: &'static str,
    title: String,
    token: &str,
    check: &TokenCheck,
    curl: Vec<String>,
) -> TokenView {
    let expires_at = check
        .claims
        .as_ref()
        .and_then(|c| c.get("exp"))
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(0);
    TokenView {
        id,
        title,
        token: token.to_owned(),
        header: check.header.as_ref().map(page::pretty).unwrap_or_default(),
        claims: check.claims.as_ref().map(page::pretty).unwrap_or_default(),
        expires_at,
        expires_text: page::date(Some(expires_at)),
        curl,
    }
}

/// `POST /start/check`: the verdict on a pasted token.
pub async fn check(State(state): State<Issuer>, jar: CookieJar, Form(form): Form) -> Response {
    if !page::start_csrf_ok(&jar, &form) {
        return stale(&state, jar);
    }
    let (jar, csrf) = page::start_csrf(&state, jar);
    let mut p = StartPage::new(&state, csrf);
    let token = form.get("token").unwrap_or("").trim().to_owned();
    if token.is_empty() {
        p.check = Some(CheckView {
            verdict: "malformed",
            ok: false,
            message: "Paste a token (a JWT: three parts separated by dots).".into(),
            header: String::new(),
            claims: String::new(),
        });
        return render(jar, StatusCode::BAD_REQUEST, &p);
    }
    let result = state.check_token(&token);
    p.check = Some(CheckView {
        verdict: result.verdict.as_str(),
        ok: result.verdict == Verdict::Valid,
        message: result.message.clone(),
        header: result.header.as_ref().map(page::pretty).unwrap_or_default(),
        claims: result.claims.as_ref().map(page::pretty).unwrap_or_default(),
    });
    p.check_token = token;
    render(jar, StatusCode::OK, &p)
}
