//! `/admin/keys`: every signing key with its state (published ahead,
//! signing, retiring, retired) and dates; rotate now; retire; the JWKS and
//! a key's PEM (Keep's `keyFile`) to download.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::auth::{Change, Viewer};
use super::chrome::{Chrome, Done, admin_page, refuse};
use super::page::{self};
use crate::app::Issuer;
use crate::app::admin;
use crate::keys::lifecycle::format_time;
use crate::keys::{KeyHome, KeyState};

pub fn router() -> Router<Issuer> {
    Router::new()
        .route("/admin/keys", get(list))
        .route("/admin/keys/rotate", post(rotate))
        .route("/admin/keys/retire", post(retire))
        .route("/admin/keys/jwks.json", get(jwks))
        .route("/admin/keys/{kid}/pem", get(pem))
}

pub struct KeyRow {
    kid: String,
    state: &'static str,
    created: String,
    activates: String,
    retires: String,
    published: bool,
    signing: bool,
}

#[derive(Template)]
#[template(path = "console/keys.html")]
struct KeysPage {
    chrome: Chrome,
    keys: Vec<KeyRow>,
    lead: u64,
    error: Option<String>,
}

admin_page!(KeysPage);

/// What a state means, in the words the page uses.
fn describe(state: KeyState) -> &'static str {
    match state {
        KeyState::Next => "published ahead",
        KeyState::Active => "signing",
        KeyState::Retiring => "retiring",
        KeyState::Retired => "retired",
    }
}

fn home(state: &Issuer) -> Result<KeyHome, crate::keys::KeyError> {
    KeyHome::new(&state.config, Some(state.store.clone()))
}

async fn render(
    state: &Issuer,
    admin: &crate::app::console::Admin,
    done: Option<&str>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let home = match home(state) {
        Ok(h) => h,
        Err(e) => return page::unavailable(state, &e),
    };
    let (ring, archived) = match tokio::try_join!(home.load(), home.archived()) {
        Ok(found) => found,
        Err(e) => return page::unavailable(state, &e),
    };
    let mut keys: Vec<KeyRow> = ring
        .entries()
        .iter()
        .map(|e| KeyRow {
            kid: e.key.kid().to_owned(),
            state: describe(e.status.state),
            created: format_time(e.key.dates.created),
            activates: format_time(e.key.dates.activates_at),
            retires: e.status.retires_at.map_or_else(|| "-".into(), format_time),
            published: e.status.state.is_published(),
            signing: e.status.state == KeyState::Active,
        })
        .collect();
    keys.extend(archived.iter().map(|k| KeyRow {
        kid: k.kid().to_owned(),
        state: describe(KeyState::Retired),
        created: format_time(k.dates.created),
        activates: format_time(k.dates.activates_at),
        retires: k.dates.retire_after.map_or_else(|| "-".into(), format_time),
        published: false,
        signing: false,
    }));
    page::html(
        status,
        &KeysPage {
            chrome: Chrome::new(state, admin, "keys", done),
            keys,
            lead: home.settings().rotation_lead,
            error,
        },
    )
}

async fn list(State(state): State<Issuer>, Viewer(admin): Viewer, Done(done): Done) -> Response {
    render(&state, &admin, done.as_deref(), None, StatusCode::OK).await
}

async fn rotate(State(state): State<Issuer>, Change { admin, form: _ }: Change) -> Response {
    let home = match home(&state) {
        Ok(h) => h,
        Err(e) => return page::unavailable(&state, &e),
    };
    let lead = home.settings().rotation_lead;
    let done = admin::rotate_keys(&state, &home, lead, &admin.user.username).await;
    after(&state, &admin, done.map(drop), "rotated").await
}

async fn retire(State(state): State<Issuer>, Change { admin, form }: Change) -> Response {
    let home = match home(&state) {
        Ok(h) => h,
        Err(e) => return page::unavailable(&state, &e),
    };
    let kid = form.0.get("kid").unwrap_or("").to_owned();
    let done = admin::retire_key(&state, &home, &kid, &admin.user.username).await;
    after(&state, &admin, done.map(drop), "retired").await
}

/// After a change of the key set: the page with its notice, or with the
/// key ring's refusal (409), or the refusal page.
async fn after(
    state: &Issuer,
    admin: &crate::app::console::Admin,
    done: Result<(), admin::AdminError>,
    notice: &str,
) -> Response {
    match done {
        Ok(()) => page::see_other(&format!("/admin/keys?done={notice}")),
        Err(admin::AdminError::Key(e)) => {
            render(
                state,
                admin,
                None,
                Some(e.to_string()),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => refuse(state, e, "/admin/keys"),
    }
}

fn download(body: String, kind: &'static str, name: &str) -> Response {
    let mut response = page::secure(body.into_response());
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// `GET /admin/keys/jwks.json`: the JWKS this server publishes now.
async fn jwks(State(state): State<Issuer>, _: Viewer) -> Response {
    download(
        page::pretty(&state.keys.jwks()),
        "application/json",
        "jwks.json",
    )
}

/// `GET /admin/keys/{kid}/pem`: a published key's public key, for Keep's `keyFile`.
async fn pem(State(state): State<Issuer>, _: Viewer, Path(kid): Path<String>) -> Response {
    match state.keys.keys().iter().find(|k| k.kid() == kid) {
        Some(key) => download(key.public.pem(), "application/x-pem-file", "public-key.pem"),
        None => page::message(
            &state,
            StatusCode::NOT_FOUND,
            "No such key",
            &format!("No published key has the kid {kid:?}."),
            Some(("/admin/keys", "Keys")),
        ),
    }
}
