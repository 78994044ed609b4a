//! `/admin/users/{username}`: one user (enable/disable, set a password,
//! remove) with their sessions and API keys (end, revoke).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::auth::{actor, viewer};
use super::chrome::{Chrome, encode, notice, refuse};
use super::limit::Limiter;
use super::page::{self, Form};
use crate::app::admin;
use crate::app::console::Admin;
use crate::app::{Issuer, apikeys};
use crate::domain::user::{Password, User};
use crate::store::{ApiKeyRecord, SessionSummary};

pub fn router() -> Router<Issuer> {
    Router::new()
        .route("/admin/users/{username}", get(show))
        .route("/admin/users/{username}/enabled", post(set_enabled))
        .route("/admin/users/{username}/password", post(set_password))
        .route("/admin/users/{username}/remove", post(remove))
        .route("/admin/apikeys/{id}/revoke", post(revoke_key))
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    realm: String,
    admin: String,
    csrf: String,
    active: &'static str,
    notice: Option<&'static str>,
    user: User,
    path: String,
    attributes: String,
    sessions: Vec<SessionRow>,
    keys: Vec<KeyRow>,
    password_error: Option<String>,
}

pub struct SessionRow {
    pub id: String,
    pub started: String,
    pub expires: String,
    pub client: String,
    pub last_refresh: String,
    pub browser: bool,
}

impl From<&SessionSummary> for SessionRow {
    fn from(s: &SessionSummary) -> Self {
        SessionRow {
            id: s.session.id.clone(),
            started: page::date(Some(s.session.auth_time)),
            expires: page::date(Some(s.session.expires_at)),
            client: s.client_id.clone().unwrap_or_else(|| "-".into()),
            last_refresh: page::date(s.last_refresh),
            browser: s.session.cookie_hash.is_some(),
        }
    }
}

pub struct KeyRow {
    id: String,
    name: String,
    created: String,
    expires: String,
    last_used: String,
}

impl From<&ApiKeyRecord> for KeyRow {
    fn from(k: &ApiKeyRecord) -> Self {
        KeyRow {
            id: k.id.clone(),
            name: k.name.clone(),
            created: page::date(Some(k.created_at)),
            expires: k
                .expires_at
                .map_or_else(|| "never".into(), |t| page::date(Some(t))),
            last_used: k
                .last_used_at
                .map_or_else(|| "never".into(), |t| page::date(Some(t))),
        }
    }
}

#[derive(Deserialize, Default)]
struct Done {
    done: Option<String>,
}

async fn render_user(
    state: &Issuer,
    admin: &Admin,
    username: &str,
    done: Option<&str>,
    password_error: Option<String>,
    status: StatusCode,
) -> Response {
    let user = match state
        .store
        .get_user(&crate::domain::user::name_key(username))
        .await
    {
        Ok(Some(user)) => user,
        Ok(None) => {
            return page::message(
                state,
                StatusCode::NOT_FOUND,
                "No such user",
                &format!("There is no user named {username:?}."),
                Some(("/admin/users", "All users")),
            );
        }
        Err(e) => return page::unavailable(state, &e),
    };
    let sessions = match state
        .store
        .list_live_sessions(Some(&user.id), state.clock.now(), 200)
        .await
    {
        Ok(s) => s,
        Err(e) => return page::unavailable(state, &e),
    };
    let keys = match apikeys::list(state.store.as_ref(), Some(&user.username)).await {
        Ok(k) => k,
        Err(e) => return page::unavailable(state, &e),
    };
    let c = Chrome::new(state, admin, "users");
    page::html(
        status,
        &UserPage {
            realm: c.realm,
            admin: c.admin,
            csrf: c.csrf,
            active: c.active,
            notice: notice(done),
            path: format!("/admin/users/{}", encode(&user.username)),
            attributes: page::pretty(&user.attributes),
            sessions: sessions.iter().map(SessionRow::from).collect(),
            keys: keys.iter().map(|(k, _)| KeyRow::from(k)).collect(),
            user,
            password_error,
        },
    )
}

async fn show(
    State(state): State<Issuer>,
    jar: CookieJar,
    Path(username): Path<String>,
    query: Result<Query<Done>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let admin = match viewer(&state, &jar).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let done = query.ok().and_then(|Query(d)| d.done);
    render_user(
        &state,
        &admin,
        &username,
        done.as_deref(),
        None,
        StatusCode::OK,
    )
    .await
}

async fn set_enabled(
    State(state): State<Issuer>,
    Extension(limiter): Extension<Limiter>,
    jar: CookieJar,
    Path(username): Path<String>,
    form: Form,
) -> Response {
    let admin = match actor(&state, &jar, &form, &limiter).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let enabled = match form.0.get("enabled") {
        Some("true") => true,
        Some("false") => false,
        _ => {
            return page::message(
                &state,
                StatusCode::BAD_REQUEST,
                "Bad request",
                "enabled must be true or false",
                Some(("/admin/users", "Back")),
            );
        }
    };
    match admin::set_enabled(
        state.store.as_ref(),
        &username,
        enabled,
        &admin.user.username,
    )
    .await
    {
        Ok(()) => page::see_other(&format!(
            "/admin/users/{}?done={}",
            encode(&username),
            if enabled { "enabled" } else { "disabled" }
        )),
        Err(e) => refuse(&state, e, "/admin/users"),
    }
}

async fn set_password(
    State(state): State<Issuer>,
    Extension(limiter): Extension<Limiter>,
    jar: CookieJar,
    Path(username): Path<String>,
    form: Form,
) -> Response {
    let admin = match actor(&state, &jar, &form, &limiter).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let password = match Password::parse(form.0.get("password").unwrap_or("")) {
        Ok(p) => p,
        Err(e) => {
            return render_user(
                &state,
                &admin,
                &username,
                None,
                Some(e.0),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    match admin::set_password(
        state.store.as_ref(),
        &state.passwords,
        &username,
        &password,
        &admin.user.username,
    )
    .await
    {
        Ok(user) => page::see_other(&format!(
            "/admin/users/{}?done=password",
            encode(&user.username)
        )),
        Err(e) => refuse(&state, e, "/admin/users"),
    }
}

async fn remove(
    State(state): State<Issuer>,
    Extension(limiter): Extension<Limiter>,
    jar: CookieJar,
    Path(username): Path<String>,
    form: Form,
) -> Response {
    let admin = match actor(&state, &jar, &form, &limiter).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    match admin::remove_user(state.store.as_ref(), &username, &admin.user.username).await {
        Ok(()) => page::see_other("/admin/users?done=removed"),
        Err(e) => refuse(&state, e, "/admin/users"),
    }
}

async fn revoke_key(
    State(state): State<Issuer>,
    Extension(limiter): Extension<Limiter>,
    jar: CookieJar,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let admin = match actor(&state, &jar, &form, &limiter).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let back = match form.0.get("user") {
        Some(u) => format!("/admin/users/{}", encode(u)),
        None => "/admin/users".to_owned(),
    };
    match admin::revoke_api_key(state.store.as_ref(), &id, &admin.user.username).await {
        Ok(()) => page::see_other(&format!("{back}?done=revoked")),
        Err(e) => refuse(&state, e, &back),
    }
}
