//! Keycloak-shaped realm endpoints: realm info, JWKS and discovery. Each is
//! pre-rendered with a strong ETag; `If-None-Match` gets 304 without a body.
//! Its parser is our own: `headers::IfNoneMatch` skips list elements that do
//! not parse (`"abc", garbage` matches) and has no size cap.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::app::Issuer;
use crate::http::error::{AppError, Result};
use crate::http::schemas::{Discovery, Jwks, RealmInfo, RealmNotFound};

pub(super) const REALM: &str = "/auth/realms/{realm}";
pub(super) const CERTS: &str = "/auth/realms/{realm}/protocol/openid-connect/certs";
pub(super) const REALM_DISCOVERY: &str = "/auth/realms/{realm}/.well-known/openid-configuration";
pub(super) const DISCOVERY: &str = "/.well-known/openid-configuration";

pub fn router() -> Router<Issuer> {
    Router::new()
        // The OPTIONS routes let the CORS layer (which wraps each method's
        // handler) see preflights; it answers them itself.
        .route(REALM, get(realm_info).options(no_content))
        .route(CERTS, get(certs).options(no_content))
        .route(REALM_DISCOVERY, get(realm_discovery).options(no_content))
        .route(DISCOVERY, get(discovery).options(no_content))
        // Public documents: any page may read them (as Keycloak allows).
        .layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::any())
                .allow_methods([Method::GET])
                .allow_headers(Any)
                .max_age(std::time::Duration::from_secs(3600)),
        )
}

/// An OPTIONS route's handler `$name` and its operation, so that a CORS
/// layer or middleware sees preflights: it answers every preflight itself
/// (`$answered` says how), so the handler only gets an OPTIONS request that
/// is none.
macro_rules! cors_preflight {
    ($name:ident, $path:expr, $operation_id:literal, $answered:literal) => {
        #[utoipa::path(
            options,
            path = $path,
            operation_id = $operation_id,
            summary = "CORS preflight",
            responses(
                (status = 200, description = $answered),
                (status = 204, description = "An OPTIONS request without `Access-Control-Request-Method`"),
                (status = 404, response = $crate::http::schemas::RealmNotFound),
            ),
        )]
        async fn $name() -> axum::http::StatusCode {
            axum::http::StatusCode::NO_CONTENT
        }
    };
}
pub(super) use cors_preflight;

// The OPTIONS routes of the public documents.
cors_preflight!(
    no_content,
    CERTS,
    "certs_preflight",
    "Answered by the CORS layer: any origin (`*`), GET, no credentials"
);

// This group's part of the OpenAPI document.
crate::http::group_api!(realm_info, certs, realm_discovery, discovery, no_content);

/// Resolves the `{realm}` path segment; only the configured realm exists.
fn check_realm(state: &Issuer, realm: RealmPath) -> Result<()> {
    match realm {
        Ok(Path(name)) if name == state.realm.name => Ok(()),
        _ => Err(AppError::NotFound("Realm does not exist".into())),
    }
}

/// A pre-rendered JSON document with its validators: 304 and no body when
/// `If-None-Match` names `etag`, else 200 with the body. Both carry the
/// `ETag` and `Cache-Control` (RFC 9110 §15.4.5).
fn document(
    request: &HeaderMap,
    body: &Bytes,
    etag: &HeaderValue,
    cache: &HeaderValue,
) -> Response {
    let cache = cache.clone();
    if none_match(request, etag) {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag.clone()), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, cache),
            (header::ETAG, etag.clone()),
        ],
        body.clone(),
    )
        .into_response()
}

/// Most bytes of `If-None-Match` examined; a longer one is ignored and the
/// document sent in full, which is always a correct answer to a GET.
const MAX_IF_NONE_MATCH: usize = 4096;

/// True when `If-None-Match` (every field line, as one list) is `*` or
/// names `etag` under the weak comparison of RFC 9110 §8.8.3.2 (`W/"x"`
/// matches `"x"`). A malformed or oversized field matches nothing.
fn none_match(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = opaque_tag(etag.as_bytes());
    let mut budget = MAX_IF_NONE_MATCH;
    let mut matched = false;
    for line in request.get_all(header::IF_NONE_MATCH) {
        let line = line.as_bytes();
        budget = match budget.checked_sub(line.len()) {
            Some(left) => left,
            None => return false,
        };
        match list_names(line, ours) {
            Some(found) => matched |= found,
            None => return false,
        }
    }
    matched
}

/// `"x"` → `x`.
fn opaque_tag(etag: &[u8]) -> &[u8] {
    etag.strip_prefix(b"\"")
        .and_then(|t| t.strip_suffix(b"\""))
        .unwrap_or(etag)
}

/// Whether one `If-None-Match` line (`*` or `1#entity-tag`) names `ours`;
/// `None` when it does not parse.
fn list_names(line: &[u8], ours: &[u8]) -> Option<bool> {
    let is_ows = |c: &u8| *c == b' ' || *c == b'\t';
    if line.trim_ascii() == b"*" {
        return Some(true);
    }
    let mut rest = line;
    let mut found = false;
    let mut tags = 0;
    loop {
        // Empty list elements and OWS are allowed around commas (RFC 9110 §5.6.1).
        let start = rest.iter().position(|c| !is_ows(c) && *c != b',');
        let Some(start) = start else {
            return (tags > 0).then_some(found);
        };
        rest = &rest[start..];
        rest = rest.strip_prefix(b"W/").unwrap_or(rest);
        let inner = rest.strip_prefix(b"\"")?;
        let end = inner.iter().position(|&c| c == b'"')?;
        let tag = &inner[..end];
        // etagc = %x21 / %x23-7E / obs-text
        if !tag
            .iter()
            .all(|&c| c == 0x21 || (0x23..=0x7e).contains(&c) || c >= 0x80)
        {
            return None;
        }
        found |= tag == ours;
        tags += 1;
        rest = &inner[end + 1..];
        match rest.first() {
            None | Some(b',') => {}
            Some(c) if is_ows(c) => {}
            Some(_) => return None,
        }
    }
}

/// The conditional request header every document takes.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // read by hand (see the module comment); here for the document
struct Conditional {
    /// ETags of a cached copy (`*`, or a list; `W/` tags compare weakly): 304 when one is current
    #[param(rename = "If-None-Match")]
    if_none_match: Option<String>,
}

/// The answer to a conditional request that names the current ETag.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 304,
    description = "Not modified: `If-None-Match` named the current ETag; no body",
    headers(
        ("Cache-Control" = String, description = "`public, max-age=<jwks_max_age>`"),
        ("ETag" = String, description = "The current ETag"),
    )
)]
struct NotModified;

type RealmPath = std::result::Result<Path<String>, PathRejection>;

/// The documents this module serves, each pre-rendered with its ETag.
#[derive(Clone, Copy)]
enum Doc {
    RealmInfo,
    Jwks,
    Discovery,
}

/// `which` document, or 304 when `If-None-Match` names its current ETag.
fn answer(state: &Issuer, headers: &HeaderMap, which: Doc) -> Response {
    let published = state.keys.current();
    let docs = &published.documents;
    let realm = &state.realm;
    let (body, etag) = match which {
        Doc::RealmInfo => (&docs.info, &docs.info_etag),
        Doc::Jwks => (&docs.jwks, &docs.jwks_etag),
        Doc::Discovery => (&realm.discovery, &realm.discovery_etag),
    };
    document(headers, body, etag, &realm.cache_control)
}

/// A document's route under `{realm}`: its handler `$name`, serving
/// `$which`, and its annotation (`$what` described, of schema `$body`).
macro_rules! realm_document {
    ($(#[$doc:meta])* $name:ident, $path:tt, $what:tt, $body:tt, $which:expr) => {
        $(#[$doc])*
        #[utoipa::path(
            get,
            path = $path,
            params(Conditional),
            responses(
                (status = 200, description = $what, body = $body,
                    headers(
                        ("Cache-Control" = String, description = "`public, max-age=<jwks_max_age>`"),
                        ("ETag" = String, description = "Strong validator of this body; changes when the document does"),
                    )),
                NotModified,
                (status = 404, response = RealmNotFound),
            ),
        )]
        async fn $name(
            State(state): State<Issuer>,
            realm: RealmPath,
            headers: HeaderMap,
        ) -> Result<Response> {
            check_realm(&state, realm)?;
            Ok(answer(&state, &headers, $which))
        }
    };
}

realm_document!(
    /// Keycloak's realm document: the realm's public key and service URLs.
    realm_info, REALM, "The realm document", RealmInfo, Doc::RealmInfo
);
realm_document!(
    /// The JWKS: every published signing key, the signer first.
    certs, CERTS, "The JSON Web Key Set", Jwks, Doc::Jwks
);
realm_document!(
    /// OpenID Connect discovery, under the realm.
    realm_discovery, REALM_DISCOVERY, "The discovery document", Discovery, Doc::Discovery
);

/// OpenID Connect discovery at the server root (the same document).
#[utoipa::path(
    get,
    path = DISCOVERY,
    params(Conditional),
    responses(
        (status = 200, description = "The discovery document", body = Discovery,
            headers(
                ("Cache-Control" = String, description = "`public, max-age=<jwks_max_age>`"),
                ("ETag" = String, description = "Strong validator of this body; changes when the document does"),
            )),
        NotModified,
    ),
)]
async fn discovery(State(state): State<Issuer>, headers: HeaderMap) -> Response {
    answer(&state, &headers, Doc::Discovery)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(lines: &[&str]) -> bool {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(header::IF_NONE_MATCH, HeaderValue::from_str(line).unwrap());
        }
        none_match(&headers, &HeaderValue::from_static("\"abc\""))
    }

    #[test]
    fn if_none_match_compares_weakly_over_every_line() {
        assert!(matches(&["\"abc\""]));
        assert!(matches(&["W/\"abc\""]));
        assert!(matches(&["*"]));
        assert!(matches(&[" \"x\" ,, W/\"y\",\"abc\" "]));
        assert!(matches(&["\"x\"", "\"abc\""]));
        assert!(matches(&["\"a,b\", \"abc\""]));
        assert!(!matches(&[]));
        assert!(!matches(&["\"abd\""]));
        assert!(!matches(&["\"ABC\""]));
        assert!(!matches(&["w/\"abc\""]));
    }

    #[test]
    fn a_malformed_or_oversized_if_none_match_matches_nothing() {
        assert!(!matches(&["abc"]));
        assert!(!matches(&["\"abc"]));
        assert!(!matches(&["\"abc\"x"]));
        assert!(!matches(&["\"abc\", garbage"]));
        assert!(!matches(&["*, \"abc\""]));
        assert!(!matches(&["\"a b\", \"abc\""]));
        assert!(!matches(&[""]));
        assert!(!matches(&[" , "]));
        assert!(!matches(&["\"x\"", "nonsense", "\"abc\""]));
        let long = format!("{}\"abc\"", "\"x\", ".repeat(MAX_IF_NONE_MATCH / 5));
        assert!(!matches(&[&long]));
    }
}
