//! The authorization endpoint `GET|POST R/protocol/openid-connect/auth` and
//! the login form it shows, posted to `R/login-actions/authenticate`.
//!
//! Order matters (RFC 6749 §4.1.2.1): the client and redirect URI are checked
//! first and a failure there is an error page, never a redirect; every later
//! failure is sent back to the (now trusted) redirect URI.

mod request;

use request::{AuthRequest, Refusal, redirect_with, validate};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

use super::form::QueryOrForm;
use super::pages::{self, LoginPage, SESSION_COOKIE};
use crate::app::Issuer;
use crate::app::login::{self, Attempt, ClientIp, LoginPath};
use crate::app::oidc::codes::{self, CodeRequest};
use crate::app::oidc::{OAuthError, Params, sessions};
use crate::app::users::LoginError;
use crate::domain::user::{LoginName, Password, User};
use crate::http::schemas::{AuthorizeParams, CSRF_EXAMPLE, LoginForm, RealmNotFound};
use crate::store::{SessionRecord, StoreError};

/// Issues a code for an authenticated session and redirects to the client.
async fn issue_code(
    state: &Issuer,
    req: &AuthRequest,
    session: &SessionRecord,
    user: &User,
    status: StatusCode,
) -> Result<Response, StoreError> {
    let code = codes::issue(
        state,
        CodeRequest {
            client: &req.client,
            redirect_uri: &req.redirect_uri,
            scope: req.scope.as_deref(),
            nonce: req.nonce.as_deref(),
            code_challenge: req.code_challenge.as_deref(),
        },
        session,
        user,
    )
    .await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &req.state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", &state.realm.issuer));
    Ok(redirect_with(&req.redirect_uri, req.mode, &pairs, status))
}

fn login_form(
    state: &Issuer,
    jar: CookieJar,
    req: &AuthRequest,
    username: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let (jar, csrf) = pages::csrf_token(state, jar);
    let action = format!("{}/login-actions/authenticate", state.realm.issuer);
    let page = LoginPage {
        realm: &state.realm.name,
        client_name: req.client.name.as_deref().unwrap_or(&req.client.client_id),
        action: &action,
        hidden: req.carried.clone(),
        csrf: &csrf,
        username,
        error,
    };
    (jar, pages::html(status, &page)).into_response()
}

fn refusal_response(state: &Issuer, refusal: Refusal) -> Response {
    match refusal {
        Refusal::Page(status, message) => pages::error_page(state, status, &message),
        Refusal::Redirect(response) => response,
    }
}

/// Parses and validates an authorization request; the response to send when
/// it cannot be accepted.
async fn accept(
    state: &Issuer,
    params: Result<QueryOrForm, OAuthError>,
    status: StatusCode,
) -> Result<(Params, AuthRequest), Response> {
    let checked = match params {
        Ok(QueryOrForm(params)) => validate(state, &params, status)
            .await
            .map(|req| (params, req)),
        Err(e) => Err(Refusal::Page(StatusCode::BAD_REQUEST, e.description)),
    };
    checked.map_err(|refusal| refusal_response(state, refusal))
}

/// `GET|POST R/protocol/openid-connect/auth`.
#[utoipa::path(
    get,
    path = super::AUTHORIZE,
    summary = "Authorization endpoint (code flow, PKCE S256): the login page, or a redirect",
    params(AuthorizeParams),
    responses(
        (status = 200, description = "The login page", content_type = "text/html", body = String),
        (status = 302, description = "Back to the redirect URI with `code`, `state` and `iss` (signed in already), or with `error`",
            headers(("Location" = String))),
        (status = 400, description = "An error page: no or unknown client, unregistered redirect URI, malformed parameters",
            content_type = "text/html", body = String),
        (status = 404, response = RealmNotFound),
        (status = 503, description = "An error page: the store is unreachable",
            content_type = "text/html", body = String),
    ),
)]
pub async fn authorize(
    State(state): State<Issuer>,
    jar: CookieJar,
    params: Result<QueryOrForm, OAuthError>,
) -> Result<Response, Response> {
    let (_, req) = accept(&state, params, StatusCode::FOUND).await?;
    if !req.prompts("login")
        && let Some(cookie) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned())
        && let Some((session, user)) = codes::signed_in(&state, &cookie, req.max_age)
            .await
            .map_err(|e| refusal_response(&state, e.into()))?
    {
        return issue_code(&state, &req, &session, &user, StatusCode::FOUND)
            .await
            .map_err(|e| refusal_response(&state, e.into()));
    }
    if req.prompts("none") {
        let issuer = &state.realm.issuer;
        return Ok(req.error(issuer, "login_required", "the user is not signed in"));
    }
    let hint = req.login_hint.clone().unwrap_or_default();
    Ok(login_form(&state, jar, &req, &hint, None, StatusCode::OK))
}

/// `POST R/login-actions/authenticate`: the login form's submission.
#[utoipa::path(
    post,
    path = super::AUTHENTICATE,
    summary = "The login form's submission",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    params(
        ("DOMINO_IDP_CSRF" = String, Cookie, example = json!(CSRF_EXAMPLE),
            description = "Set by the login page; the form's `csrf_token` must equal it"),
    ),
    responses(
        (status = 303, description = "Signed in: back to the redirect URI with `code`, `state` and `iss`, or with `error`",
            headers(("Location" = String))),
        (status = 400, description = "An error page: the authorization request is invalid",
            content_type = "text/html", body = String),
        (status = 401, description = "The login page again: invalid username or password",
            content_type = "text/html", body = String),
        (status = 403, description = "The login page again: the CSRF token is missing or stale",
            content_type = "text/html", body = String),
        (status = 404, response = RealmNotFound),
        (status = 429, description = "The login page again: brute-force protection locked the user or address",
            content_type = "text/html", body = String,
            headers(("Retry-After" = u64, description = "Seconds until the lockout ends"))),
        (status = 503, description = "An error page: the store is unreachable",
            content_type = "text/html", body = String),
    ),
)]
pub async fn authenticate(
    State(state): State<Issuer>,
    jar: CookieJar,
    ip: ClientIp,
    params: Result<QueryOrForm, OAuthError>,
) -> Result<Response, Response> {
    let (params, req) = accept(&state, params, StatusCode::SEE_OTHER).await?;
    let typed = params.get("username").unwrap_or("");
    // The form again, with what was typed and why it was refused.
    let again = |jar, why, status| login_form(&state, jar, &req, typed, Some(why), status);
    if !pages::csrf_ok(&jar, &params) {
        let why = "Your sign-in form expired. Please try again.";
        return Ok(again(jar, why, StatusCode::FORBIDDEN));
    }
    let bad = "Invalid username or password.";
    let (Ok(login), Ok(password)) = (
        LoginName::parse(typed),
        Password::parse(params.get("password").unwrap_or("")),
    ) else {
        return Ok(again(jar, bad, StatusCode::UNAUTHORIZED));
    };
    let attempt = Attempt {
        path: LoginPath::LoginForm,
        login: &login,
        password: &password,
        ip,
    };
    let user = match login::authenticate(&state, attempt).await {
        Ok(user) => user,
        Err(LoginError::Locked { retry_after }) => {
            let mut page = again(
                jar,
                "Too many failed attempts; try again later.",
                StatusCode::TOO_MANY_REQUESTS,
            );
            page.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after.into());
            return Ok(page);
        }
        Err(LoginError::Refused) => return Ok(again(jar, bad, StatusCode::UNAUTHORIZED)),
        Err(LoginError::Store(e)) => return Err(refusal_response(&state, e.into())),
        Err(LoginError::Hash(e)) => {
            tracing::error!(error = %e, "password check failed");
            return Err(pages::error_page(
                &state,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Please try again.",
            ));
        }
    };
    let (session, cookie) = sessions::start(&state, &user, true, state.config.session_ttl)
        .await
        .map_err(|e| refusal_response(&state, e.into()))?;
    let jar = match cookie {
        Some(value) => jar
            .add(pages::cookie(&state, SESSION_COOKIE, value, false))
            .add(pages::session_status(&state, &session.id)),
        None => jar,
    };
    let redirect = issue_code(&state, &req, &session, &user, StatusCode::SEE_OTHER)
        .await
        .map_err(|e| refusal_response(&state, e.into()))?;
    Ok((jar, redirect).into_response())
}
