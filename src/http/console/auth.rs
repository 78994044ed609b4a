//! Signing in to `/admin` (authorization code + PKCE through the realm's
//! login page), the guard every admin page goes through, and sign-out.

use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{CookieJar, SameSite};
use serde::Deserialize;

use super::limit::Limiter;
use super::page::{self, CONSOLE_COOKIE, Form, SIGNIN_COOKIE};
use crate::app::Issuer;
use crate::app::console::{self, Admin, SignInError};
use crate::domain::opaque;

const ADMIN_PATH: &str = "/admin";

/// The admin behind this request's console cookie, if still valid.
pub async fn current(state: &Issuer, jar: &CookieJar) -> Result<Option<Admin>, Response> {
    let Some(cookie) = jar.get(CONSOLE_COOKIE) else {
        return Ok(None);
    };
    console::resolve(state, cookie.value())
        .await
        .map_err(|e| page::unavailable(state, &e))
}

/// For a page (GET): the signed-in admin; otherwise the request is turned
/// away with a redirect to sign in.
pub struct Viewer(pub Admin);

impl FromRequestParts<Issuer> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Issuer) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        match current(state, &jar).await? {
            Some(admin) => Ok(Viewer(admin)),
            None => Err(page::see_other(ADMIN_PATH)),
        }
    }
}

/// For a change (POST): the submitted form and the admin it comes from,
/// whose form carries the session's CSRF token, within the rate limit.
/// Otherwise the page that says why (or the form's 400/415).
pub struct Change {
    pub admin: Admin,
    pub form: Form,
}

impl FromRequest<Issuer> for Change {
    type Rejection = Response;

    async fn from_request(req: Request, state: &Issuer) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let axum::Extension(limiter) =
            axum::Extension::<Limiter>::from_request_parts(&mut parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
        let jar = CookieJar::from_headers(&parts.headers);
        let form = Form::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let admin = actor(state, &jar, &form, &limiter).await?;
        Ok(Change { admin, form })
    }
}

async fn actor(
    state: &Issuer,
    jar: &CookieJar,
    form: &Form,
    limiter: &Limiter,
) -> Result<Admin, Response> {
    let forbidden = |title, text, link| {
        page::message(
            state,
            StatusCode::FORBIDDEN,
            title,
            text,
            Some((ADMIN_PATH, link)),
        )
    };
    let Some(admin) = current(state, jar).await? else {
        return Err(forbidden(
            "Signed out",
            "Your console session has ended. Sign in again and repeat the change.",
            "Sign in",
        ));
    };
    let sent = form.0.get("csrf_token").unwrap_or("");
    if !opaque::equal(sent, &admin.record.csrf) {
        return Err(forbidden(
            "Form expired",
            "This form is stale or did not come from the console (its CSRF token does not match). Reload the page and try again.",
            "Back to the console",
        ));
    }
    if let Err(wait) = limiter.allow(&admin.user.id, state.clock.as_ref()) {
        let mut response = page::message(
            state,
            StatusCode::TOO_MANY_REQUESTS,
            "Slow down",
            &format!(
                "More than {} changes in a minute. Wait {wait} seconds and try again.",
                super::limit::PER_MINUTE
            ),
            Some((ADMIN_PATH, "Back to the console")),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return Err(response);
    }
    Ok(admin)
}

/// `GET /admin`: the console (its users page) when signed in; otherwise off
/// to the realm's login page.
pub async fn home(State(state): State<Issuer>, jar: CookieJar) -> Response {
    match current(&state, &jar).await {
        Ok(Some(_)) => page::see_other("/admin/users"),
        Ok(None) => {
            let sign_in = console::begin(&state, &page::base_url(&state));
            let value = format!("{}.{}", sign_in.state, sign_in.verifier);
            // Lax, unlike the console's own cookie: a sign-in that began on
            // a link from elsewhere still reaches its callback with it (a
            // redirect chain started cross-site withholds Strict cookies).
            let mut pending = page::cookie(&state, SIGNIN_COOKIE, value, ADMIN_PATH);
            pending.set_same_site(SameSite::Lax);
            let jar = jar.add(pending);
            (jar, page::see_other(&sign_in.url)).into_response()
        }
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /admin/callback`: where the realm sends the browser back.
pub async fn callback(
    State(state): State<Issuer>,
    jar: CookieJar,
    query: Result<Query<Callback>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let retry = Some((ADMIN_PATH, "Sign in again"));
    let bad = |text: &str| {
        page::message(
            &state,
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            text,
            retry,
        )
    };
    let Ok(Query(cb)) = query else {
        return bad("The sign-in response is malformed.");
    };
    if let Some(error) = cb.error {
        let why = cb.error_description.unwrap_or(error);
        return bad(&format!("The login page answered: {why}"));
    }
    let pending = jar.get(SIGNIN_COOKIE).map(|c| c.value().to_owned());
    let jar = jar.add(page::removal(&state, SIGNIN_COOKIE, ADMIN_PATH));
    let (Some(code), Some(sent_state), Some(pending)) = (cb.code, cb.state, pending) else {
        return (
            jar,
            bad("This sign-in was not started here, or it took too long."),
        )
            .into_response();
    };
    let Some((expected, verifier)) = pending.split_once('.') else {
        return (jar, bad("This sign-in was not started here.")).into_response();
    };
    if !opaque::equal(&sent_state, expected) {
        return (
            jar,
            bad("This sign-in was not started here (its state does not match)."),
        )
            .into_response();
    }
    match console::finish(&state, &page::base_url(&state), &code, verifier).await {
        Ok(started) => {
            let jar = jar.add(page::cookie(
                &state,
                CONSOLE_COOKIE,
                started.cookie,
                ADMIN_PATH,
            ));
            (jar, page::see_other("/admin/users")).into_response()
        }
        Err(SignInError::NotAdmin(username)) => {
            let text = format!(
                "You are signed in as {username}, who is not a member of the admin group \u{201c}{}\u{201d}. Ask an administrator to add you to it.",
                state.config.admin_group
            );
            (
                jar,
                page::message(
                    &state,
                    StatusCode::FORBIDDEN,
                    "Not an administrator",
                    &text,
                    Some(("/", "Start page")),
                ),
            )
                .into_response()
        }
        Err(SignInError::Refused(why)) => (
            jar,
            bad(&format!("The sign-in could not be completed: {why}")),
        )
            .into_response(),
        Err(SignInError::Store(e)) => page::unavailable(&state, &e),
    }
}

/// `POST /admin/signout`: ends the console session and the realm session.
pub async fn sign_out(
    State(state): State<Issuer>,
    jar: CookieJar,
    Change { admin, .. }: Change,
) -> Response {
    if let Err(e) = console::sign_out(&state, &admin).await {
        return page::unavailable(&state, &e);
    }
    let jar = jar.add(page::removal(&state, CONSOLE_COOKIE, ADMIN_PATH));
    (
        jar,
        page::message(
            &state,
            StatusCode::OK,
            "Signed out",
            "You are signed out of the console and of the realm.",
            Some((ADMIN_PATH, "Sign in again")),
        ),
    )
        .into_response()
}
