//! `/admin/users/{username}`: one user (enable/disable, set a password,
//! remove) with their sessions and API keys (end, revoke).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::auth::{Change, Viewer};
use super::chrome::{
    Chrome, Done, KeyRow, Removable, SessionRow, admin_page, changed, encode, refuse, removal,
};
use super::page::{self};
use super::users::{UserFields, field_of};
use crate::app::admin::{self, EditError};
use crate::app::console::Admin;
use crate::app::{Issuer, apikeys};
use crate::domain::user::{Password, User};
use crate::store::StoreError;

pub fn router() -> Router<Issuer> {
    Router::new()
        .route("/admin/users/{username}", get(show))
        .route("/admin/users/{username}/enabled", post(set_enabled))
        .route("/admin/users/{username}/password", post(set_password))
        .route("/admin/users/{username}/edit", post(edit))
        .route("/admin/users/{username}/remove", removal(Removable::User))
        .route("/admin/apikeys/{id}/revoke", post(revoke_key))
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    chrome: Chrome,
    user: User,
    path: String,
    attributes: String,
    sessions: Vec<SessionRow>,
    keys: Vec<KeyRow>,
    password_error: Option<String>,
    edit: EditValues,
}

admin_page!(UserPage);

/// The profile form's values (the user's, or as typed) and its error.
#[derive(Default)]
pub struct EditValues {
    fields: UserFields,
    error: Option<String>,
    field: &'static str,
}

/// What went wrong on the page's forms, shown next to the field.
#[derive(Default)]
struct Problem {
    password: Option<String>,
    edit: Option<EditValues>,
}

async fn render_user(
    state: &Issuer,
    admin: &Admin,
    username: &str,
    done: Option<&str>,
    problem: Problem,
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
    page::html(
        status,
        &UserPage {
            chrome: Chrome::new(state, admin, "users", done),
            path: format!("/admin/users/{}", encode(&user.username)),
            attributes: page::pretty(&user.attributes),
            sessions: sessions.iter().map(SessionRow::from).collect(),
            keys: keys.iter().map(|(k, _)| KeyRow::from(k)).collect(),
            edit: problem.edit.unwrap_or_else(|| EditValues {
                fields: UserFields::of(&user),
                ..EditValues::default()
            }),
            user,
            password_error: problem.password,
        },
    )
}

async fn show(
    State(state): State<Issuer>,
    Viewer(admin): Viewer,
    Path(username): Path<String>,
    Done(done): Done,
) -> Response {
    render_user(
        &state,
        &admin,
        &username,
        done.as_deref(),
        Problem::default(),
        StatusCode::OK,
    )
    .await
}

async fn set_enabled(
    State(state): State<Issuer>,
    Path(username): Path<String>,
    Change { admin, form }: Change,
) -> Response {
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
    Path(username): Path<String>,
    Change { admin, form }: Change,
) -> Response {
    let password = match Password::parse(form.0.get("password").unwrap_or("")) {
        Ok(p) => p,
        Err(e) => {
            return render_user(
                &state,
                &admin,
                &username,
                None,
                Problem {
                    password: Some(e.0),
                    edit: None,
                },
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

async fn revoke_key(
    State(state): State<Issuer>,
    Path(id): Path<String>,
    Change { admin, form }: Change,
) -> Response {
    let revoked = admin::revoke_api_key(state.store.as_ref(), &id, &admin.user.username).await;
    changed(&state, revoked, &form.back("/admin/users"), "revoked")
}

async fn edit(
    State(state): State<Issuer>,
    Path(username): Path<String>,
    Change { admin, form }: Change,
) -> Response {
    let values = EditValues {
        fields: UserFields::read(&form),
        ..EditValues::default()
    };
    let (st, ad, name) = (&state, &admin, username.as_str());
    let again = move |problem, status| render_user(st, ad, name, None, problem, status);
    let refused = |mut values: EditValues, why: String| {
        values.field = field_of(&why);
        values.error = Some(why);
        Problem {
            password: None,
            edit: Some(values),
        }
    };
    let spec = match values.fields.spec(&username) {
        Ok(spec) => spec,
        Err(why) => {
            let problem = refused(values, why);
            return again(problem, StatusCode::BAD_REQUEST).await;
        }
    };
    match admin::edit_user(state.store.as_ref(), &username, &spec, &admin.user.username).await {
        Ok(user) => page::see_other(&format!(
            "/admin/users/{}?done=saved",
            encode(&user.username)
        )),
        Err(EditError::Invalid(e)) => {
            let problem = refused(values, e.0);
            again(problem, StatusCode::BAD_REQUEST).await
        }
        Err(EditError::Store(StoreError::Conflict(why))) => {
            let problem = refused(values, why.replace("a user with this ", ""));
            again(problem, StatusCode::CONFLICT).await
        }
        Err(EditError::NotFound(why)) => {
            refuse(&state, admin::AdminError::NotFound(why), "/admin/users")
        }
        Err(EditError::Store(e)) => page::unavailable(&state, &e),
    }
}
