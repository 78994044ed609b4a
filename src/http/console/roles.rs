//! `/admin/roles`: realm and client roles with their composites, who holds
//! each directly; add and remove roles, grant and revoke them to users,
//! groups and clients' service accounts. Through `app::admin`'s role
//! operations, the ones the CLI's `role` command uses, audited with the
//! admin as operator.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use super::auth::{Change, Viewer};
use super::chrome::{Chrome, Done, admin_page};
use super::page::{self, Form};
use crate::app::Issuer;
use crate::app::admin;
use crate::app::roles::{self, HolderName, RoleError};
use crate::domain::role::{RoleRef, RoleSpec};

const HERE: &str = "/admin/roles";

pub fn router() -> Router<Issuer> {
    Router::new()
        .route(HERE, get(list).post(add))
        .route("/admin/roles/remove", post(remove))
        .route("/admin/roles/grant", post(grant))
        .route("/admin/roles/revoke", post(revoke))
}

/// A role as the page lists it: `client:name` (or `name`), its
/// composites, and who holds it directly (`user doc`, `group /staff`, ...).
pub struct RoleRow {
    pub name: String,
    pub description: String,
    pub composites: String,
    pub builtin: bool,
    pub holders: Vec<(String, String, String)>,
}

/// The forms' values as typed, and the error next to them.
#[derive(Default)]
pub struct RoleForms {
    name: String,
    client: String,
    description: String,
    composites: String,
    role: String,
    kind: String,
    holder: String,
    error: Option<String>,
    /// Which form the error belongs to: `add` or `grant`.
    form: &'static str,
}

#[derive(Template)]
#[template(path = "console/roles.html")]
struct RolesPage {
    chrome: Chrome,
    roles: Vec<RoleRow>,
    forms: RoleForms,
}

admin_page!(RolesPage);

async fn render(
    state: &Issuer,
    admin: &crate::app::console::Admin,
    done: Option<&str>,
    forms: RoleForms,
    status: StatusCode,
) -> Response {
    let (all, grants, users) = match tokio::try_join!(
        roles::list(state.store.as_ref(), &state.config.realm),
        roles::grants(state.store.as_ref()),
        async { state.store.list_users().await.map_err(RoleError::from) },
    ) {
        Ok(found) => found,
        Err(e) => return page::unavailable(state, &e),
    };
    let stored = match state.store.list_roles().await {
        Ok(stored) => stored,
        Err(e) => return page::unavailable(state, &e),
    };
    let rows = all
        .iter()
        .map(|r| RoleRow {
            name: r.role.to_string(),
            description: r.description.clone().unwrap_or_default(),
            composites: r
                .composites
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            builtin: !stored.iter().any(|s| s.role == r.role),
            holders: grants
                .iter()
                .filter(|g| g.role == r.role)
                .map(|g| {
                    let (kind, id) = (g.holder.kind().to_owned(), g.holder.id().to_owned());
                    let shown = match kind.as_str() {
                        "user" => users
                            .iter()
                            .find(|u| u.id == id)
                            .map_or_else(|| id.clone(), |u| u.username.clone()),
                        _ => id.clone(),
                    };
                    (kind, shown, r.role.to_string())
                })
                .collect(),
        })
        .collect();
    page::html(
        status,
        &RolesPage {
            chrome: Chrome::new(state, admin, "roles", done),
            roles: rows,
            forms,
        },
    )
}

async fn list(State(state): State<Issuer>, Viewer(admin): Viewer, Done(done): Done) -> Response {
    render(
        &state,
        &admin,
        done.as_deref(),
        RoleForms::default(),
        StatusCode::OK,
    )
    .await
}

/// An operation's refusal, next to the form it came from; a store failure
/// is the unavailable page.
async fn refused(
    state: &Issuer,
    admin: &crate::app::console::Admin,
    mut forms: RoleForms,
    e: RoleError,
) -> Response {
    let status = match &e {
        RoleError::Invalid(_) => StatusCode::BAD_REQUEST,
        RoleError::NotFound(_) => StatusCode::NOT_FOUND,
        RoleError::Store(crate::store::StoreError::Conflict(_)) => StatusCode::CONFLICT,
        RoleError::Store(e) => return page::unavailable(state, e),
    };
    forms.error = Some(e.to_string());
    render(state, admin, None, forms, status).await
}

async fn add(State(state): State<Issuer>, Change { admin, form }: Change) -> Response {
    let get = |k: &str| form.0.get(k).unwrap_or("").trim().to_owned();
    let forms = RoleForms {
        name: get("name"),
        client: get("client"),
        description: get("description"),
        composites: get("composites"),
        form: "add",
        ..RoleForms::default()
    };
    let spec = RoleSpec {
        name: forms.name.clone(),
        client: Some(forms.client.clone()).filter(|c| !c.is_empty()),
        description: Some(forms.description.clone()).filter(|d| !d.is_empty()),
        composites: forms
            .composites
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    };
    match admin::add_role(state.store.as_ref(), &spec, &admin.user.username).await {
        Ok(_) => page::see_other("/admin/roles?done=created"),
        Err(e) => refused(&state, &admin, forms, e).await,
    }
}

async fn remove(State(state): State<Issuer>, Change { admin, form }: Change) -> Response {
    let result = match RoleRef::parse(form.0.get("role").unwrap_or("")) {
        Ok(role) => admin::remove_role(state.store.as_ref(), &role, &admin.user.username).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => page::see_other("/admin/roles?done=removed"),
        Err(e) => refused(&state, &admin, RoleForms::default(), e).await,
    }
}

/// The grant/revoke form: the role (`name` or `client:name`) and the holder.
fn holder_of(forms: &RoleForms) -> Result<(RoleRef, HolderName), RoleError> {
    let role = RoleRef::parse(&forms.role)?;
    let name = forms.holder.clone();
    let holder = match forms.kind.as_str() {
        "user" => HolderName::User(name),
        "group" => HolderName::Group(name),
        "client" => HolderName::Client(name),
        _ => {
            return Err(RoleError::Invalid(crate::domain::user::InvalidInput(
                "choose who holds the role: a user, a group or a client".into(),
            )));
        }
    };
    Ok((role, holder))
}

fn grant_forms(form: &Form) -> RoleForms {
    let get = |k: &str| form.0.get(k).unwrap_or("").trim().to_owned();
    RoleForms {
        role: get("role"),
        kind: get("kind"),
        holder: get("holder"),
        form: "grant",
        ..RoleForms::default()
    }
}

async fn grant(State(state): State<Issuer>, Change { admin, form }: Change) -> Response {
    let forms = grant_forms(&form);
    let result = match holder_of(&forms) {
        Ok((role, holder)) => {
            admin::grant_role(
                state.store.as_ref(),
                &state.config.realm,
                &holder,
                &role,
                &admin.user.username,
            )
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => page::see_other("/admin/roles?done=saved"),
        Err(e) => refused(&state, &admin, forms, e).await,
    }
}

async fn revoke(State(state): State<Issuer>, Change { admin, form }: Change) -> Response {
    let forms = grant_forms(&form);
    let result = match holder_of(&forms) {
        Ok((role, holder)) => {
            admin::revoke_role(state.store.as_ref(), &holder, &role, &admin.user.username).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => page::see_other("/admin/roles?done=revoked"),
        Err(e) => refused(&state, &admin, forms, e).await,
    }
}
