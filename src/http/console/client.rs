//! `/admin/clients/{id}`: one client: edit its redirect URIs, grants and
//! scopes; rotate its secret (shown once); remove it.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::auth::{Change, Viewer};
use super::chrome::{Chrome, Done, admin_page, encode, refuse};
use super::clients::{GrantBox, boxes};
use super::page::{self};
use crate::app::Issuer;
use crate::app::admin::{self, AdminError, EditError};
use crate::app::console::Admin;
use crate::domain::client::Client;

pub fn router() -> Router<Issuer> {
    Router::new()
        .route("/admin/clients/{id}", get(show))
        .route("/admin/clients/{id}/edit", post(edit))
        .route("/admin/clients/{id}/secret", post(rotate_secret))
}

/// The edit form's values (the client's, or as typed) and its error.
pub type EditValues = super::clients::ClientFields;

#[derive(Template)]
#[template(path = "console/client.html")]
struct ClientPage {
    chrome: Chrome,
    client: Client,
    path: String,
    edit: EditValues,
    boxes: Vec<GrantBox>,
    /// A secret just generated, shown this once.
    secret: Option<String>,
    secret_error: Option<String>,
}

admin_page!(ClientPage);

/// What the page shows besides the client: a typed form, a new secret, an error.
#[derive(Default)]
struct Extra {
    edit: Option<EditValues>,
    secret: Option<String>,
    secret_error: Option<String>,
}

async fn render(
    state: &Issuer,
    admin: &Admin,
    id: &str,
    done: Option<&str>,
    extra: Extra,
    status: StatusCode,
) -> Response {
    let client = match state.store.get_client(id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return refuse(
                state,
                AdminError::NotFound(format!("no client with id {id:?}")),
                "/admin/clients",
            );
        }
        Err(e) => return page::unavailable(state, &e),
    };
    let edit = extra.edit.unwrap_or_else(|| EditValues::of(&client));
    page::html(
        status,
        &ClientPage {
            chrome: Chrome::new(state, admin, "clients", done),
            path: format!("/admin/clients/{}", encode(&client.client_id)),
            boxes: boxes(&edit.grants),
            edit,
            client,
            secret: extra.secret,
            secret_error: extra.secret_error,
        },
    )
}

async fn show(
    State(state): State<Issuer>,
    Viewer(admin): Viewer,
    Path(id): Path<String>,
    Done(done): Done,
) -> Response {
    render(
        &state,
        &admin,
        &id,
        done.as_deref(),
        Extra::default(),
        StatusCode::OK,
    )
    .await
}

async fn edit(
    State(state): State<Issuer>,
    Path(id): Path<String>,
    Change { admin, form }: Change,
) -> Response {
    let mut values = EditValues::read(&form);
    if values.grants.is_empty() {
        values.error = Some("Tick at least one grant.".into());
        let extra = Extra {
            edit: Some(values),
            ..Extra::default()
        };
        return render(&state, &admin, &id, None, extra, StatusCode::BAD_REQUEST).await;
    }
    // The public flag stays as stored (app::admin::edit_client keeps it).
    let spec = values.spec(&id, false, false);
    match admin::edit_client(state.store.as_ref(), &spec, &admin.user.username).await {
        Ok(c) => page::see_other(&format!(
            "/admin/clients/{}?done=saved",
            encode(&c.client_id)
        )),
        Err(EditError::Invalid(e)) => {
            values.error = Some(e.0);
            let extra = Extra {
                edit: Some(values),
                ..Extra::default()
            };
            render(&state, &admin, &id, None, extra, StatusCode::BAD_REQUEST).await
        }
        Err(EditError::NotFound(why)) => {
            refuse(&state, AdminError::NotFound(why), "/admin/clients")
        }
        Err(EditError::Store(e)) => page::unavailable(&state, &e),
    }
}

async fn rotate_secret(
    State(state): State<Issuer>,
    Path(id): Path<String>,
    Change { admin, form: _ }: Change,
) -> Response {
    let (extra, status) =
        match admin::rotate_client_secret(state.store.as_ref(), &id, &admin.user.username).await {
            Ok(secret) => (
                Extra {
                    secret: Some(secret),
                    ..Extra::default()
                },
                StatusCode::OK,
            ),
            Err(EditError::Invalid(e)) => (
                Extra {
                    secret_error: Some(e.0),
                    ..Extra::default()
                },
                StatusCode::BAD_REQUEST,
            ),
            Err(EditError::NotFound(why)) => {
                return refuse(&state, AdminError::NotFound(why), "/admin/clients");
            }
            Err(EditError::Store(e)) => return page::unavailable(&state, &e),
        };
    let done = extra.secret.is_some().then_some("secret");
    render(&state, &admin, &id, done, extra, status).await
}
