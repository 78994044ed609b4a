//! `/admin/mappers`: the claim mappers in the order they apply, add,
//! remove, and a live claims preview (the code of `claims preview`).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::auth::{Change, Viewer};
use super::chrome::{Chrome, Lenient, admin_page, removal};
use super::page::{self};
use crate::app::Issuer;
use crate::app::admin::{self, Removable};
use crate::app::console::Admin;
use crate::app::mappers::{self, MapperError, PreviewError};
use crate::domain::mapper::{MapperSpec, Output};
use crate::store::StoreError;

pub fn router() -> Router<Issuer> {
    Router::new()
        .route("/admin/mappers", get(list).post(create))
        .route("/admin/mappers/{name}/remove", removal(Removable::Mapper))
}

const TYPES: [&str; 5] = [
    "hardcoded",
    "user-attribute",
    "user-property",
    "group-membership",
    "audience",
];
const JSON_TYPES: [&str; 4] = ["string", "int", "boolean", "json"];
const PROPERTIES: [&str; 6] = ["username", "email", "cn", "org", "dn", "id"];

/// The add form's values (as typed) and its error.
#[derive(Default)]
pub struct NewMapperForm {
    name: String,
    kind: String,
    claim: String,
    json_type: String,
    value: String,
    attribute: String,
    multivalued: bool,
    property: String,
    plain_names: bool,
    audience: String,
    outputs: Vec<String>,
    clients: String,
    error: Option<String>,
}

/// The preview form and its result.
#[derive(Deserialize, Default)]
pub struct PreviewQuery {
    user: Option<String>,
    client: Option<String>,
    output: Option<String>,
    scope: Option<String>,
    done: Option<String>,
}

#[derive(Template)]
#[template(path = "console/mappers.html")]
struct MappersPage {
    chrome: Chrome,
    /// Each mapper: name, type, claim, outputs, clients.
    mappers: Vec<[String; 5]>,
    form: NewMapperForm,
    types: [&'static str; 5],
    json_types: [&'static str; 4],
    properties: [&'static str; 6],
    outputs: Vec<String>,
    clients: Vec<String>,
    preview_user: String,
    preview_client: String,
    preview_output: String,
    preview_scope: String,
    preview: Option<String>,
    preview_title: String,
    preview_error: Option<String>,
}

admin_page!(MappersPage);

fn row(spec: &MapperSpec) -> [String; 5] {
    let kind = serde_json::to_value(spec.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let outputs: Vec<String> = spec.outputs.iter().map(Output::to_string).collect();
    [
        spec.name.clone(),
        kind,
        spec.claim.clone().unwrap_or_else(|| "aud".into()),
        outputs.join(" "),
        if spec.clients.is_empty() {
            "(all)".into()
        } else {
            spec.clients.join(" ")
        },
    ]
}

async fn render(
    state: &Issuer,
    admin: &Admin,
    query: PreviewQuery,
    form: NewMapperForm,
    status: StatusCode,
) -> Response {
    let (specs, clients) =
        match tokio::try_join!(state.store.list_mappers(), state.store.list_clients()) {
            Ok(found) => found,
            Err(e) => return page::unavailable(state, &e),
        };
    let trimmed = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_owned();
    let (user, client, output, scope) = (
        trimmed(&query.user),
        trimmed(&query.client),
        trimmed(&query.output),
        trimmed(&query.scope),
    );
    let mut preview = None;
    let mut preview_title = String::new();
    let mut preview_error = None;
    let mut status = status;
    if !user.is_empty() {
        let parsed_output = match output.as_str() {
            "" => Ok(None),
            raw => serde_json::from_value::<Output>(Value::String(raw.to_owned()))
                .map(Some)
                .map_err(|_| {
                    format!("output {raw:?}: choose access, id, userinfo, introspection or keep")
                }),
        };
        let result = match parsed_output {
            Err(why) => Err(why),
            Ok(parsed) => mappers::preview(
                state.store.as_ref(),
                &state.policy,
                &state.config.realm,
                &user,
                Some(client.as_str()).filter(|c| !c.is_empty()),
                parsed,
                Some(scope.as_str()).filter(|s| !s.is_empty()),
                state.clock.now(),
            )
            .await
            .map_err(|e| match e {
                PreviewError::Store(e) => e.to_string(),
                other => other.to_string(),
            }),
        };
        match result {
            Ok(p) => {
                preview_title = format!(
                    "{} claims of {} for client {}",
                    p.output, p.username, p.client_id
                );
                preview = Some(page::pretty(&p.claims));
            }
            Err(why) => {
                preview_error = Some(why);
                status = StatusCode::BAD_REQUEST;
            }
        }
    }
    page::html(
        status,
        &MappersPage {
            chrome: Chrome::new(state, admin, "mappers", query.done.as_deref()),
            mappers: specs.iter().map(row).collect(),
            form,
            types: TYPES,
            json_types: JSON_TYPES,
            properties: PROPERTIES,
            outputs: Output::ALL.iter().map(Output::to_string).collect(),
            clients: clients
                .into_iter()
                .map(|c| c.client_id.into_string())
                .collect(),
            preview_user: user,
            preview_client: client,
            preview_output: output,
            preview_scope: scope,
            preview,
            preview_title,
            preview_error,
        },
    )
}

async fn list(
    State(state): State<Issuer>,
    Viewer(admin): Viewer,
    Lenient(query): Lenient<PreviewQuery>,
) -> Response {
    render(
        &state,
        &admin,
        query,
        NewMapperForm::default(),
        StatusCode::OK,
    )
    .await
}

/// The form as a `[[mappers]]` entry, read by the configuration's parser.
fn spec_of(v: &NewMapperForm) -> Result<MapperSpec, String> {
    let mut m = Map::new();
    let mut put = |k: &str, val: &str| {
        if !val.is_empty() {
            m.insert(k.to_owned(), Value::String(val.to_owned()));
        }
    };
    put("name", &v.name);
    put("type", &v.kind);
    put("claim", &v.claim);
    put("json_type", &v.json_type);
    put("value", &v.value);
    put("attribute", &v.attribute);
    put("property", &v.property);
    put("audience", &v.audience);
    m.insert("multivalued".into(), Value::Bool(v.multivalued));
    m.insert("full_path".into(), Value::Bool(!v.plain_names));
    if !v.outputs.is_empty() {
        m.insert(
            "outputs".into(),
            Value::Array(v.outputs.iter().cloned().map(Value::String).collect()),
        );
    }
    m.insert(
        "clients".into(),
        Value::Array(
            v.clients
                .split_whitespace()
                .map(|c| Value::String(c.to_owned()))
                .collect(),
        ),
    );
    serde_json::from_value(Value::Object(m)).map_err(|e| e.to_string())
}

async fn create(State(state): State<Issuer>, Change { admin, form }: Change) -> Response {
    let f = &form.0;
    let get = |k: &str| form.field(k);
    let mut values = NewMapperForm {
        name: get("name"),
        kind: get("type"),
        claim: get("claim"),
        json_type: get("json_type"),
        value: get("value"),
        attribute: get("attribute"),
        multivalued: f.get("multivalued").is_some(),
        property: get("property"),
        plain_names: f.get("plain_names").is_some(),
        audience: get("audience"),
        outputs: Output::ALL
            .iter()
            .map(Output::to_string)
            .filter(|o| f.get(&format!("output_{o}")).is_some())
            .collect(),
        clients: get("clients"),
        error: None,
    };
    let (st, ad) = (&state, &admin);
    let again = move |values, status| render(st, ad, PreviewQuery::default(), values, status);
    let spec = match spec_of(&values) {
        Ok(spec) => spec,
        Err(why) => {
            values.error = Some(why);
            return again(values, StatusCode::BAD_REQUEST).await;
        }
    };
    match admin::add_mapper(state.store.as_ref(), &spec, &admin.user.username).await {
        Ok(_) => page::see_other("/admin/mappers?done=created"),
        Err(MapperError::Invalid(e)) => {
            values.error = Some(e.0);
            again(values, StatusCode::BAD_REQUEST).await
        }
        Err(MapperError::Store(StoreError::Conflict(why))) => {
            values.error = Some(why);
            again(values, StatusCode::CONFLICT).await
        }
        Err(MapperError::Store(e)) => page::unavailable(&state, &e),
    }
}
