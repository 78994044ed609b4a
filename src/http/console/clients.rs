//! `/admin/clients`: list, create (a generated secret is shown once), remove.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::auth::{Change, Viewer};
use super::chrome::{Chrome, Done, notice, refuse};
use super::page::{self, Form};
use crate::app::Issuer;
use crate::app::admin;
use crate::app::clients::ClientError;
use crate::app::console::Admin;
use crate::domain::client::{Client, ClientSpec, GrantType};
use crate::store::StoreError;

pub fn router() -> Router<Issuer> {
    Router::new()
        .route("/admin/clients", get(list).post(create))
        .route("/admin/clients/{id}/remove", post(remove))
        .merge(super::client::router())
}

/// A grant checkbox: its form name, label, and whether it is ticked.
pub struct GrantBox {
    pub name: String,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(Default)]
pub struct NewClientForm {
    client_id: String,
    name: String,
    public: bool,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    default_scopes: String,
    optional_scopes: String,
    allowed_scopes: String,
    web_origins: String,
    grants: Vec<GrantType>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/clients.html")]
struct ClientsPage {
    realm: String,
    admin: String,
    csrf: String,
    active: &'static str,
    notice: Option<&'static str>,
    /// Each client with its grants, space-separated.
    clients: Vec<(Client, String)>,
    form: NewClientForm,
    boxes: Vec<GrantBox>,
    /// A client just created with a generated secret: (client_id, secret).
    created: Option<(String, String)>,
}

pub(super) fn boxes(checked: &[GrantType]) -> Vec<GrantBox> {
    GrantType::ALL
        .iter()
        .map(|g| GrantBox {
            name: format!("grant_{}", short(*g)),
            label: g.as_str(),
            checked: checked.contains(g),
        })
        .collect()
}

pub(super) fn short(g: GrantType) -> &'static str {
    match g {
        GrantType::TokenExchange => "token_exchange",
        other => other.as_str(),
    }
}

/// The grants whose boxes a submitted form ticks.
pub(super) fn ticked(form: &Form) -> Vec<GrantType> {
    GrantType::ALL
        .into_iter()
        .filter(|g| form.0.get(&format!("grant_{}", short(*g))).is_some())
        .collect()
}

fn grants_of(client: &Client) -> String {
    let names: Vec<&str> = client.grant_types.iter().map(|g| g.as_str()).collect();
    names.join(" ")
}

async fn render(
    state: &Issuer,
    admin: &Admin,
    done: Option<&str>,
    form: NewClientForm,
    created: Option<(String, String)>,
    status: StatusCode,
) -> Response {
    let clients = match state.store.list_clients().await {
        Ok(c) => c,
        Err(e) => return page::unavailable(state, &e),
    };
    let c = Chrome::new(state, admin, "clients");
    let checked = if form.grants.is_empty() && form.error.is_none() {
        crate::domain::client::default_grants()
    } else {
        form.grants.clone()
    };
    page::html(
        status,
        &ClientsPage {
            realm: c.realm,
            admin: c.admin,
            csrf: c.csrf,
            active: c.active,
            notice: notice(done),
            clients: clients
                .into_iter()
                .map(|c| {
                    let grants = grants_of(&c);
                    (c, grants)
                })
                .collect(),
            boxes: boxes(&checked),
            form,
            created,
        },
    )
}

async fn list(State(state): State<Issuer>, Viewer(admin): Viewer, Done(done): Done) -> Response {
    render(
        &state,
        &admin,
        done.as_deref(),
        NewClientForm::default(),
        None,
        StatusCode::OK,
    )
    .await
}

pub(super) fn words(raw: &str) -> Vec<String> {
    raw.split_whitespace().map(str::to_owned).collect()
}

async fn create(State(state): State<Issuer>, Change { admin, form }: Change) -> Response {
    let f = &form.0;
    let get = |k: &str| form.field(k);
    let mut values = NewClientForm {
        client_id: get("client_id"),
        name: get("name"),
        public: f.get("public").is_some(),
        redirect_uris: get("redirect_uris"),
        post_logout_redirect_uris: get("post_logout_redirect_uris"),
        default_scopes: get("default_scopes"),
        optional_scopes: get("optional_scopes"),
        allowed_scopes: get("allowed_scopes"),
        web_origins: get("web_origins"),
        grants: ticked(&form),
        error: None,
    };
    if values.grants.is_empty() {
        values.error = Some("Tick at least one grant.".into());
        return render(&state, &admin, None, values, None, StatusCode::BAD_REQUEST).await;
    }
    let defaults = ClientSpec::default();
    let spec = ClientSpec {
        client_id: values.client_id.clone(),
        secret: None,
        public: values.public,
        name: Some(values.name.clone()).filter(|n| !n.is_empty()),
        redirect_uris: words(&values.redirect_uris),
        post_logout_redirect_uris: words(&values.post_logout_redirect_uris),
        grant_types: values.grants.clone(),
        allowed_scopes: Some(words(&values.allowed_scopes)).filter(|a| !a.is_empty()),
        // An empty field is Keycloak's default for a new client.
        default_scopes: or_default(&values.default_scopes, defaults.default_scopes),
        optional_scopes: or_default(&values.optional_scopes, defaults.optional_scopes),
        web_origins: or_default(&values.web_origins, defaults.web_origins),
        service_account_roles: Vec::new(),
    };
    match admin::add_client(state.store.as_ref(), &spec, &admin.user.username).await {
        Ok((client, secret)) => {
            let created = secret.map(|s| (client.client_id.clone(), s));
            if created.is_none() {
                return page::see_other("/admin/clients?done=created");
            }
            render(
                &state,
                &admin,
                Some("created"),
                NewClientForm::default(),
                created,
                StatusCode::OK,
            )
            .await
        }
        Err(ClientError::Invalid(e)) => {
            values.error = Some(e.0);
            render(&state, &admin, None, values, None, StatusCode::BAD_REQUEST).await
        }
        Err(ClientError::Store(StoreError::Conflict(why))) => {
            values.error = Some(why);
            render(&state, &admin, None, values, None, StatusCode::CONFLICT).await
        }
        Err(ClientError::Store(e)) => page::unavailable(&state, &e),
        // Adding never looks a client up; kept exhaustive for the compiler.
        Err(ClientError::NotFound(id)) => {
            values.error = Some(format!("no client {id:?}"));
            render(&state, &admin, None, values, None, StatusCode::NOT_FOUND).await
        }
    }
}

async fn remove(
    State(state): State<Issuer>,
    Path(id): Path<String>,
    Change { admin, form: _ }: Change,
) -> Response {
    match admin::remove_client(state.store.as_ref(), &id, &admin.user.username).await {
        Ok(()) => page::see_other("/admin/clients?done=removed"),
        Err(e) => refuse(&state, e, "/admin/clients"),
    }
}

/// The space-separated words of a form field, or `default` when it is empty.
fn or_default(field: &str, default: Vec<String>) -> Vec<String> {
    let typed = words(field);
    if typed.is_empty() { default } else { typed }
}
