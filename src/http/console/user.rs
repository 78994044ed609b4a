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
    Chrome, Done, KeyRow, SessionRow, admin_page, changed, encode, refuse, removal,
};
use super::page::{self};
use super::users::{UserFields, field_of};
use crate::app::admin::{self, EditError, Removable};
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
        .route("/admin/users/{username}/apikeys", post(create_key))
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
    key_error: Option<String>,
    /// An API key just created, shown this once.
    new_key: Option<String>,
}

admin_page!(UserPage);

/// The profile form's values (the user's, or as typed) and its error.
#[derive(Default)]
pub struct EditValues {
    fields: UserFields,
    error: Option<String>,
    field: &'static str,
}

/// What the page's forms answer besides the user: what went wrong, shown
/// next to the field, or an API key just created, shown this once.
#[derive(Default)]
struct Forms {
    password: Option<String>,
    edit: Option<EditValues>,
    key_error: Option<String>,
    new_key: Option<String>,
}

async fn render_user(
    state: &Issuer,
    admin: &Admin,
    username: &str,
    done: Option<&str>,
    problem: Forms,
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
            key_error: problem.key_error,
            new_key: problem.new_key,
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
        Forms::default(),
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
                Forms {
                    password: Some(e.0),
                    ..Forms::default()
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

/// A new API key for the user: a name (optional) and a lifetime in days
/// (empty: until revoked); the key is shown once on the page that answers.
async fn create_key(
    State(state): State<Issuer>,
    Path(username): Path<String>,
    Change { admin, form }: Change,
) -> Response {
    let refused = |why: String| Forms {
        key_error: Some(why),
        ..Forms::default()
    };
    let bad = StatusCode::BAD_REQUEST;
    let expires_in = match lifetime(form.0.get("expires_days")) {
        Ok(expires_in) => expires_in,
        Err(why) => return render_user(&state, &admin, &username, None, refused(why), bad).await,
    };
    let name = form.0.get("name").map(str::trim).filter(|n| !n.is_empty());
    let created = admin::create_api_key(
        state.store.as_ref(),
        &username,
        name,
        expires_in,
        state.clock.now(),
        &admin.user.username,
    )
    .await;
    let (forms, done, status) = match created {
        Ok(created) => (
            Forms {
                new_key: Some(created.key),
                ..Forms::default()
            },
            Some("key"),
            StatusCode::OK,
        ),
        Err(apikeys::ApiKeyError::Invalid(e)) => (refused(e.0), None, bad),
        Err(apikeys::ApiKeyError::NotFound(_)) => {
            let why = format!("There is no user named {username:?}.");
            return refuse(&state, admin::AdminError::NotFound(why), "/admin/users");
        }
        Err(apikeys::ApiKeyError::Store(e)) => return page::unavailable(&state, &e),
    };
    render_user(&state, &admin, &username, done, forms, status).await
}

/// A key's lifetime from the form: whole days from 1 to 3650, in seconds;
/// empty for a key that lives until it is revoked.
fn lifetime(days: Option<&str>) -> Result<Option<u64>, String> {
    match days.map(str::trim).unwrap_or("") {
        "" => Ok(None),
        days => days
            .parse::<u64>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .map(|d| Some(d * 86_400))
            .ok_or_else(|| "Expires in: a whole number of days from 1 to 3650, or empty.".into()),
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
        Forms {
            edit: Some(values),
            ..Forms::default()
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
