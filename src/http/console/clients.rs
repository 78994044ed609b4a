//! `/admin/clients`: list, create (a generated secret is shown once), remove.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::auth::{Change, Viewer};
use super::chrome::{Chrome, Done, admin_page, removal};
use super::page::{self, Form};
use crate::app::Issuer;
use crate::app::admin::{self, Removable};
use crate::app::clients::ClientError;
use crate::app::console::Admin;
use crate::domain::client::{Client, ClientSpec, GrantType};
use crate::store::StoreError;

pub fn router() -> Router<Issuer> {
    Router::new()
        .route("/admin/clients", get(list).post(create))
        .route("/admin/clients/{id}/remove", removal(Removable::Client))
        .merge(super::client::router())
}

/// A grant checkbox: its form name, label, and whether it is ticked.
pub struct GrantBox {
    pub name: String,
    pub label: &'static str,
    pub checked: bool,
}

/// A client's editable fields as the forms carry them (space-separated
/// lists), as typed or as stored, with the error to show next to them: one
/// shape for the create form and the edit form.
#[derive(Default)]
pub struct ClientFields {
    pub(super) name: String,
    pub(super) redirect_uris: String,
    pub(super) post_logout_redirect_uris: String,
    pub(super) default_scopes: String,
    pub(super) optional_scopes: String,
    pub(super) allowed_scopes: String,
    pub(super) web_origins: String,
    pub(super) grants: Vec<GrantType>,
    pub(super) error: Option<String>,
}

impl ClientFields {
    /// As typed in a submitted form.
    pub(super) fn read(form: &Form) -> ClientFields {
        let get = |k: &str| form.field(k);
        ClientFields {
            name: get("name"),
            redirect_uris: get("redirect_uris"),
            post_logout_redirect_uris: get("post_logout_redirect_uris"),
            default_scopes: get("default_scopes"),
            optional_scopes: get("optional_scopes"),
            allowed_scopes: get("allowed_scopes"),
            web_origins: get("web_origins"),
            grants: ticked(form),
            error: None,
        }
    }

    /// As stored.
    pub(super) fn of(c: &Client) -> ClientFields {
        ClientFields {
            name: c.name.clone().unwrap_or_default(),
            redirect_uris: c.redirect_uris.join(" "),
            post_logout_redirect_uris: c.post_logout_redirect_uris.join(" "),
            default_scopes: c.default_scopes.join(" "),
            optional_scopes: c.optional_scopes.join(" "),
            web_origins: c.web_origins.join(" "),
            allowed_scopes: c
                .allowed_scopes
                .as_ref()
                .map(|a| a.join(" "))
                .unwrap_or_default(),
            grants: c.grant_types.clone(),
            error: None,
        }
    }

    /// The spec these fields describe. For a new client an empty list of
    /// default scopes, optional scopes or web origins is Keycloak's default;
    /// in an edit it is empty. Role grants live in the store, not here.
    pub(super) fn spec(&self, client_id: &str, public: bool, new: bool) -> ClientSpec {
        let defaults = ClientSpec::default();
        let list = |field: &str, default: Vec<String>| {
            let typed = words(field);
            if typed.is_empty() && new {
                default
            } else {
                typed
            }
        };
        ClientSpec {
            client_id: client_id.to_owned(),
            secret: None,
            public,
            name: Some(self.name.clone()).filter(|n| !n.is_empty()),
            redirect_uris: words(&self.redirect_uris),
            post_logout_redirect_uris: words(&self.post_logout_redirect_uris),
            grant_types: self.grants.clone(),
            allowed_scopes: Some(words(&self.allowed_scopes)).filter(|a| !a.is_empty()),
            default_scopes: list(&self.default_scopes, defaults.default_scopes),
            optional_scopes: list(&self.optional_scopes, defaults.optional_scopes),
            web_origins: list(&self.web_origins, defaults.web_origins),
            service_account_roles: Vec::new(),
        }
    }
}

#[derive(Default)]
pub struct NewClientForm {
    client_id: String,
    public: bool,
    fields: ClientFields,
}

#[derive(Template)]
#[template(path = "console/clients.html")]
struct ClientsPage {
    chrome: Chrome,
    /// Each client with its grants, space-separated.
    clients: Vec<(Client, String)>,
    form: NewClientForm,
    boxes: Vec<GrantBox>,
    /// A client just created with a generated secret: (client_id, secret).
    created: Option<(String, String)>,
}

admin_page!(ClientsPage);

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
    let checked = if form.fields.grants.is_empty() && form.fields.error.is_none() {
        crate::domain::client::default_grants()
    } else {
        form.fields.grants.clone()
    };
    page::html(
        status,
        &ClientsPage {
            chrome: Chrome::new(state, admin, "clients", done),
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
    let mut values = NewClientForm {
        client_id: form.field("client_id"),
        public: form.0.get("public").is_some(),
        fields: ClientFields::read(&form),
    };
    if values.fields.grants.is_empty() {
        values.fields.error = Some("Tick at least one grant.".into());
        return render(&state, &admin, None, values, None, StatusCode::BAD_REQUEST).await;
    }
    let spec = values.fields.spec(&values.client_id, values.public, true);
    match admin::add_client(state.store.as_ref(), &spec, &admin.user.username).await {
        Ok((client, secret)) => {
            let created = secret.map(|s| (client.client_id.to_string(), s));
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
            values.fields.error = Some(e.0);
            render(&state, &admin, None, values, None, StatusCode::BAD_REQUEST).await
        }
        Err(ClientError::Store(StoreError::Conflict(why))) => {
            values.fields.error = Some(why);
            render(&state, &admin, None, values, None, StatusCode::CONFLICT).await
        }
        Err(ClientError::Store(e)) => page::unavailable(&state, &e),
    }
}
