//! `/admin/sessions`: live login sessions (user, client, started, last
//! refresh); end one, end all of a user.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::auth::{Change, Viewer};
use super::chrome::{Chrome, Done, SessionRow, admin_page, changed};
use super::page;
use crate::app::Issuer;
use crate::app::admin;

/// The most sessions the page lists.
const LIMIT: u32 = 500;

pub fn router() -> Router<Issuer> {
    Router::new()
        .route("/admin/sessions", get(list))
        .route("/admin/sessions/end-all", post(end_all))
        .route("/admin/sessions/{id}/end", post(end))
}

#[derive(Template)]
#[template(path = "console/sessions.html")]
struct SessionsPage {
    chrome: Chrome,
    sessions: Vec<(String, SessionRow)>,
    limit: u32,
}

admin_page!(SessionsPage);

async fn list(State(state): State<Issuer>, Viewer(admin): Viewer, Done(done): Done) -> Response {
    let (live, users) = match tokio::try_join!(
        state
            .store
            .list_live_sessions(None, state.clock.now(), LIMIT),
        state.store.list_users()
    ) {
        Ok(found) => found,
        Err(e) => return page::unavailable(&state, &e),
    };
    let names: HashMap<&str, &str> = users
        .iter()
        .map(|u| (u.id.as_str(), u.username.as_str()))
        .collect();
    let sessions = live
        .iter()
        .map(|s| {
            let name = names
                .get(s.session.user_id.as_str())
                .map_or_else(|| s.session.user_id.clone(), |n| (*n).to_owned());
            (name, SessionRow::from(s))
        })
        .collect();
    page::html(
        StatusCode::OK,
        &SessionsPage {
            chrome: Chrome::new(&state, &admin, "sessions", done.as_deref()),
            sessions,
            limit: LIMIT,
        },
    )
}

async fn end(
    State(state): State<Issuer>,
    Path(id): Path<String>,
    Change { admin, form }: Change,
) -> Response {
    let ended = admin::end_session(&state, &id, &admin.user.username).await;
    changed(&state, ended, &form.back("/admin/sessions"), "ended")
}

async fn end_all(State(state): State<Issuer>, Change { admin, form }: Change) -> Response {
    let back = form.back("/admin/sessions");
    let Some(user) = form.0.get("user") else {
        return page::message(
            &state,
            StatusCode::BAD_REQUEST,
            "Bad request",
            "Name the user whose sessions to end.",
            Some((&back, "Back")),
        );
    };
    let ended = admin::end_sessions_of(&state, user, &admin.user.username).await;
    changed(&state, ended, &back, "ended")
}
