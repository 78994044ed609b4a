//! `GET /openapi.json`: the OpenAPI 3.1 document of every route, generated
//! from the handlers' `#[utoipa::path]` annotations (each endpoint group
//! exports its part with `api()`). What one annotation cannot say, or what
//! every annotation of a group would say again, is added here: each group's
//! tag, routes that reuse a documented handler and POST twins of GET
//! endpoints (tables), and the configured realm as the only value of
//! `{realm}`. Rendered once, when the router is built, and served as bytes.

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::OpenApi;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required};

use super::schemas::*;
use super::{domino, health, keep, metrics, oidc, realm};
use crate::app::Issuer;
use crate::http::error::OAuthErrorBody;
use crate::http::error::{AppError, ErrorBody};

pub(super) const OPENAPI: &str = "/openapi.json";

const DESCRIPTION: &str = "A token issuer and OpenID Connect provider speaking the \
Domino REST API (Keep) login and Keycloak's realm endpoints.

Errors outside the OAuth endpoints have one JSON shape, `ErrorBody`; the OAuth \
endpoints (token, introspection, revocation, userinfo, back-channel logout) answer \
in RFC 6749 §5.2's shape, `OAuthErrorBody`; the browser pages answer with HTML. \
A method a path does not list is answered 405 (`MethodNotAllowed`), an unknown \
path 404. Below the routes the server also answers 431 (request headers too large), \
408 (a request body not received within `server.request_timeout`) and 503 with \
`Retry-After` (a request that took longer than that).";

#[derive(OpenApi)]
#[openapi(
    info(title = "domino-idp", description = DESCRIPTION),
    components(
        schemas(ErrorBody, OAuthErrorBody),
        responses(
            BadRequest,
            InvalidCredentials,
            RealmNotFound,
            MethodNotAllowed,
            PayloadTooLarge,
            UnsupportedMediaType,
            TooManyRequests,
            Unavailable,
            OAuthBadRequest,
            InvalidClient,
            InvalidToken,
            OAuthPayloadTooLarge,
            OAuthUnavailable,
        )
    ),
    tags(
        (name = "keep", description = "Domino REST API (Keep) login"),
        (name = "domino", description = "The Domino Data Lab API's identity endpoints, at the root"),
        (name = "realm", description = "Keycloak-shaped realm documents"),
        (name = "oidc", description = "OpenID Connect and OAuth 2.0 endpoints under /auth/realms/{realm}"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
struct ApiDoc;

/// The paths behind `http::no_store` (every answer carries
/// `Cache-Control: no-store`): their answers say so here, once, rather than
/// in each annotation.
const NO_STORE: [&str; 12] = [
    keep::LOGIN,
    domino::USERS_SELF,
    domino::USERS,
    domino::PRINCIPAL,
    oidc::TOKEN,
    oidc::USERINFO,
    oidc::INTROSPECT,
    oidc::REVOKE,
    oidc::LOGOUT,
    oidc::AUTHORIZE,
    oidc::AUTHENTICATE,
    oidc::STATUS_IFRAME_INIT,
];

/// Routes served by a handler whose annotation documents another route:
/// (method, documented path, served path, the served route's operation id).
const ALIASES: [(HttpMethod, &str, &str, &str); 8] = [
    (
        HttpMethod::Post,
        keep::LOGIN,
        keep::LOGIN_V1,
        "keep_login_v1",
    ),
    (
        HttpMethod::Options,
        oidc::TOKEN,
        oidc::USERINFO,
        "userinfo_preflight",
    ),
    (
        HttpMethod::Options,
        oidc::TOKEN,
        oidc::INTROSPECT,
        "introspect_preflight",
    ),
    (
        HttpMethod::Options,
        oidc::TOKEN,
        oidc::REVOKE,
        "revoke_preflight",
    ),
    (
        HttpMethod::Options,
        oidc::TOKEN,
        oidc::LOGOUT,
        "logout_preflight",
    ),
    (
        HttpMethod::Options,
        realm::CERTS,
        realm::REALM,
        "realm_info_preflight",
    ),
    (
        HttpMethod::Options,
        realm::CERTS,
        realm::REALM_DISCOVERY,
        "realm_discovery_preflight",
    ),
    (
        HttpMethod::Options,
        realm::CERTS,
        realm::DISCOVERY,
        "discovery_preflight",
    ),
];

/// A GET endpoint that takes the same parameters as a POST form
/// (`QueryOrForm`): the POST operation is the GET one with its query
/// parameters moved into an `application/x-www-form-urlencoded` body.
struct FormTwin {
    path: &'static str,
    operation_id: &'static str,
    /// A response only reading a body can give: (status, component name).
    body_response: Option<(&'static str, &'static str)>,
}

const FORM_TWINS: [FormTwin; 3] = [
    // A body the page cannot read is a 400 error page, as documented.
    FormTwin::new(oidc::AUTHORIZE, "authorize_post", None),
    FormTwin::new(
        oidc::USERINFO,
        "userinfo_post",
        Some(("413", "OAuthPayloadTooLarge")),
    ),
    FormTwin::new(oidc::LOGOUT, "logout_post", None),
];

impl FormTwin {
    const fn new(
        path: &'static str,
        operation_id: &'static str,
        body_response: Option<(&'static str, &'static str)>,
    ) -> Self {
        FormTwin {
            path,
            operation_id,
            body_response,
        }
    }
}

/// The whole document, with `realm` as the only value of `{realm}` and the
/// realms under `prefix` (`http_relative_path`: `/auth`, or empty).
pub fn document(realm: &str, prefix: &str) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    // Each group's tag is said here, once, for the operations of its part.
    for (tag, part) in [
        ("keep", keep::api()),
        ("domino", domino::api()),
        ("realm", realm::api()),
        ("oidc", oidc::api()),
        ("operations", health::api()),
        ("operations", metrics::api()),
        ("operations", api()),
    ] {
        doc.merge(tagged(part, tag));
    }
    for path in NO_STORE {
        if let Some(item) = doc.paths.paths.get_mut(path) {
            // The CORS middleware answers a preflight outside the layer.
            let preflight = item.options.take();
            operations(item).for_each(says_no_store);
            item.options = preflight;
        }
    }
    for (method, documented, served, operation_id) in ALIASES {
        let documented = doc.paths.get_path_operation(documented, method.clone());
        if let Some(mut op) = documented.cloned() {
            op.operation_id = Some(operation_id.to_owned());
            doc.paths.add_path_operation(served, vec![method], op);
        }
    }
    for twin in &FORM_TWINS {
        if let Some(item) = doc.paths.paths.get_mut(twin.path)
            && let Some(get) = item.get.clone()
        {
            item.post = Some(form_twin(get, twin));
        }
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        if path.contains("{realm}") {
            item.parameters = Some(vec![realm_parameter(realm)]);
        }
    }
    if prefix != "/auth" {
        let moved = format!("{prefix}/realms/");
        doc.paths.paths = std::mem::take(&mut doc.paths.paths)
            .into_iter()
            .map(|(path, item)| (path.replacen("/auth/realms/", &moved, 1), item))
            .collect();
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "ClientBasic",
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Basic)
                .description(Some(
                    "client_secret_basic: the client id and secret (RFC 6749 §2.3.1)",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "DominoApiKey",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-Domino-Api-Key",
            "A user's API key (`domino-idp apikey create`)",
        ))),
    );
    components.add_security_scheme(
        "BearerAuth",
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("An access token this issuer signed (RFC 6750)"))
                .build(),
        ),
    );
    doc
}

/// The group's operations, each tagged `tag` (and only that: utoipa would
/// name the module of a handler listed by its path).
fn tagged(mut part: utoipa::openapi::OpenApi, tag: &str) -> utoipa::openapi::OpenApi {
    for item in part.paths.paths.values_mut() {
        for op in operations(item) {
            op.tags = Some(vec![tag.to_owned()]);
        }
    }
    part
}

/// Every operation of a path.
fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    let PathItem {
        get,
        put,
        post,
        delete,
        options,
        head,
        patch,
        trace,
        ..
    } = item;
    [get, put, post, delete, options, head, patch, trace]
        .into_iter()
        .filter_map(Option::as_mut)
}

/// `Cache-Control: no-store` on each answer of `op` described in place (the
/// shared ones, `#/components/responses`, serve other paths too).
fn says_no_store(op: &mut Operation) {
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            let header = HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("`no-store`"))
                .build();
            response.headers.insert("Cache-Control".to_owned(), header);
        }
    }
}

fn form_twin(get: Operation, twin: &FormTwin) -> Operation {
    let mut post = get;
    post.operation_id = Some(twin.operation_id.to_owned());
    let (query, other): (Vec<_>, Vec<_>) = post
        .parameters
        .take()
        .unwrap_or_default()
        .into_iter()
        .partition(|p| p.parameter_in == ParameterIn::Query);
    post.parameters = (!other.is_empty()).then_some(other);
    let mut form = ObjectBuilder::new().schema_type(Type::Object);
    for p in query {
        // `Parameter::example` is private; its serialized form is not.
        let example = serde_json::to_value(&p)
            .ok()
            .and_then(|mut v| v.get_mut("example").map(serde_json::Value::take));
        let mut schema = p
            .schema
            .unwrap_or_else(|| ObjectBuilder::new().schema_type(Type::String).into());
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.description = p.description;
            object.examples.extend(example);
        }
        form = form.property(&p.name, schema);
        if p.required == Required::True {
            form = form.required(&p.name);
        }
    }
    post.request_body = Some(
        RequestBodyBuilder::new()
            .content(
                "application/x-www-form-urlencoded",
                ContentBuilder::new().schema(Some(form)).build(),
            )
            .build(),
    );
    if let Some((status, component)) = twin.body_response {
        post.responses
            .responses
            .insert(status.to_owned(), Ref::from_response_name(component).into());
    }
    post
}

fn realm_parameter(realm: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("realm")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some("The realm: only the configured one exists"))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([realm])),
        ))
        .build()
}

// This document's own route, in the "operations" group.
crate::http::group_api!(serve);

/// `GET /openapi.json`, rendered once for the configured realm.
pub fn router(realm: &str, prefix: &str) -> Router<Issuer> {
    let body = match document(realm, prefix).to_json() {
        Ok(json) => Some(Bytes::from(json)),
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document could not be rendered");
            None
        }
    };
    Router::new().route(OPENAPI, get(move || serve(body.clone())))
}

/// This document.
#[utoipa::path(
    get,
    path = OPENAPI,
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)),
)]
async fn serve(body: Option<Bytes>) -> Response {
    match body {
        Some(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        None => {
            AppError::Internal("the OpenAPI document could not be rendered".into()).into_response()
        }
    }
}

#[cfg(test)]
mod tests;
