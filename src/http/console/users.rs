//! `/admin/users`: the list (search by username, name or email; paging)
//! and creating a user.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::auth::{Change, Viewer};
use super::chrome::{Chrome, Lenient, admin_page, encode};
use super::page::{self, Form};
use crate::app::Issuer;
use crate::app::admin;
use crate::app::console::Admin;
use crate::app::users::UserError;
use crate::config::Secret;
use crate::domain::user::{AttributeValue, NewUser, ScopeList, User, UserSpec};

const PAGE_SIZE: usize = 20;

pub fn router() -> Router<Issuer> {
    Router::new()
        .route("/admin/users", get(list).post(create))
        .merge(super::user::router())
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    page: Option<usize>,
    done: Option<String>,
}

/// The profile fields of the create and edit forms of a user, as typed or
/// as stored.
#[derive(Default)]
pub struct UserFields {
    pub email: String,
    pub cn: String,
    pub org: String,
    pub scopes: String,
    pub groups: String,
    pub attributes: String,
}

impl UserFields {
    /// As typed.
    pub(super) fn read(form: &Form) -> UserFields {
        let get = |k: &str| form.field(k);
        UserFields {
            email: get("email"),
            cn: get("cn"),
            org: get("org"),
            scopes: get("scopes"),
            groups: get("groups"),
            attributes: get("attributes"),
        }
    }

    /// As stored.
    pub(super) fn of(user: &User) -> UserFields {
        let attributes: Vec<String> = user
            .attributes
            .iter()
            .flat_map(|(name, values)| values.iter().map(move |v| format!("{name}={v}")))
            .collect();
        UserFields {
            email: user.email.clone().unwrap_or_default(),
            cn: user.cn.clone(),
            org: user.org.clone().unwrap_or_default(),
            scopes: user.scopes.join(" "),
            groups: user.groups.join(" "),
            attributes: attributes.join("; "),
        }
    }

    /// The spec of `username` with these fields (the rest as
    /// `UserSpec::default()`), or why the attributes do not read.
    pub(super) fn spec(&self, username: &str) -> Result<UserSpec, String> {
        let opt = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        Ok(UserSpec {
            username: username.to_owned(),
            email: opt(&self.email),
            cn: opt(&self.cn),
            org: opt(&self.org),
            scopes: ScopeList::Spaced(self.scopes.clone()),
            attributes: attributes(&self.attributes)?,
            groups: words(&self.groups),
            ..UserSpec::default()
        })
    }
}

/// The create form's values and its error.
#[derive(Default)]
pub struct NewUserForm {
    pub username: String,
    pub fields: UserFields,
    pub disabled: bool,
    pub error: Option<String>,
    pub field: &'static str,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    chrome: Chrome,
    q: String,
    users: Vec<User>,
    total: usize,
    page: usize,
    prev: Option<String>,
    next: Option<String>,
    form: NewUserForm,
}

admin_page!(UsersPage);

fn matches(user: &User, q: &str) -> bool {
    let q = q.to_lowercase();
    user.username.to_lowercase().contains(&q)
        || user.cn.to_lowercase().contains(&q)
        || user
            .email
            .as_deref()
            .is_some_and(|e| e.to_lowercase().contains(&q))
}

async fn render_list(
    state: &Issuer,
    admin: &Admin,
    query: ListQuery,
    form: NewUserForm,
    status: StatusCode,
) -> Response {
    let all = match state.store.list_users().await {
        Ok(all) => all,
        Err(e) => return page::unavailable(state, &e),
    };
    let q = query.q.unwrap_or_default().trim().to_owned();
    let found: Vec<User> = all
        .into_iter()
        .filter(|u| q.is_empty() || matches(u, &q))
        .collect();
    let total = found.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page_no = query.page.unwrap_or(1).clamp(1, pages);
    let link = |n: usize| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &q)
            .append_pair("page", &n.to_string())
            .finish();
        format!("/admin/users?{query}")
    };
    page::html(
        status,
        &UsersPage {
            chrome: Chrome::new(state, admin, "users", query.done.as_deref()),
            prev: (page_no > 1).then(|| link(page_no - 1)),
            next: (page_no < pages).then(|| link(page_no + 1)),
            users: found
                .into_iter()
                .skip((page_no - 1) * PAGE_SIZE)
                .take(PAGE_SIZE)
                .collect(),
            q,
            total,
            page: page_no,
            form,
        },
    )
}

async fn list(
    State(state): State<Issuer>,
    Viewer(admin): Viewer,
    Lenient(query): Lenient<ListQuery>,
) -> Response {
    render_list(
        &state,
        &admin,
        query,
        NewUserForm::default(),
        StatusCode::OK,
    )
    .await
}

/// Space-separated words.
pub(super) fn words(raw: &str) -> Vec<String> {
    raw.split_whitespace().map(str::to_owned).collect()
}

/// `name=value` pairs separated by `;`; a repeated name gets several values.
pub(super) fn attributes(raw: &str) -> Result<BTreeMap<String, AttributeValue>, String> {
    let mut out: BTreeMap<String, AttributeValue> = BTreeMap::new();
    for pair in raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("attribute {pair:?}: write it as name=value"))?;
        let entry = out
            .entry(name.trim().to_owned())
            .or_insert_with(|| AttributeValue::Many(Vec::new()));
        if let AttributeValue::Many(values) = entry {
            values.push(value.trim().to_owned());
        }
    }
    Ok(out)
}

/// Which field an `InvalidInput` message is about (they start with its name).
pub(super) fn field_of(message: &str) -> &'static str {
    for field in [
        "username",
        "email",
        "cn",
        "org",
        "scope",
        "attribute",
        "group",
        "password",
    ] {
        if message.starts_with(field) || message.contains(&format!("{field} ")) {
            return field;
        }
    }
    ""
}

async fn create(State(state): State<Issuer>, Change { admin, form }: Change) -> Response {
    let f = &form.0;
    let values = NewUserForm {
        username: form.field("username"),
        fields: UserFields::read(&form),
        disabled: f.get("disabled").is_some(),
        error: None,
        field: "",
    };
    let (st, ad) = (&state, &admin);
    let again = move |values, status| render_list(st, ad, ListQuery::default(), values, status);
    let fail = |mut values: NewUserForm, field: &'static str, text: String| {
        values.error = Some(text);
        values.field = field;
        values
    };
    let spec = match values.fields.spec(&values.username) {
        Ok(spec) => UserSpec {
            password: f.get("password").map(Secret::new),
            enabled: !values.disabled,
            ..spec
        },
        Err(why) => {
            let values = fail(values, "attribute", why);
            return again(values, StatusCode::BAD_REQUEST).await;
        }
    };
    let user = match NewUser::from_spec(&spec) {
        Ok(user) if user.credential.is_some() => user,
        Ok(_) => {
            let values = fail(
                values,
                "password",
                "password: give the new user a password".into(),
            );
            return again(values, StatusCode::BAD_REQUEST).await;
        }
        Err(e) => {
            let field = field_of(&e.0);
            let values = fail(values, field, e.0);
            return again(values, StatusCode::BAD_REQUEST).await;
        }
    };
    match admin::add_user(
        state.store.as_ref(),
        &state.passwords,
        user,
        &admin.user.username,
    )
    .await
    {
        Ok(created) => page::see_other(&format!(
            "/admin/users/{}?done=created",
            encode(&created.username)
        )),
        Err(UserError::Store(crate::store::StoreError::Conflict(why))) => {
            let field = field_of(&why.replace("a user with this ", ""));
            let values = fail(values, field, why);
            again(values, StatusCode::CONFLICT).await
        }
        Err(UserError::Invalid(e)) => {
            let field = field_of(&e.0);
            let values = fail(values, field, e.0);
            again(values, StatusCode::BAD_REQUEST).await
        }
        Err(e) => page::unavailable(&state, &e),
    }
}
