//! CORS for the endpoints browser apps call with their tokens (token,
//! userinfo, introspection, revocation, logout). keycloak-js sends its
//! token requests with `credentials: 'include'`, which browsers allow only
//! with `Access-Control-Allow-Credentials: true` and the page's own origin
//! echoed. Both go to the origins some client names as a web origin
//! (`web_origins`, `+` for its redirect URIs' origins); an origin allowed
//! only through a client's `*` is echoed without credentials; `null` and
//! everything else get no CORS headers at all. Preflights are answered here.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::Issuer;
use crate::domain::client::OriginAccess;

const METHODS: &str = "GET, POST, OPTIONS";
const HEADERS: &str = "Authorization, Content-Type, Accept, X-Requested-With, DPoP";
const MAX_AGE: &str = "3600";

/// How old the configuration a preflight is answered from may be. A
/// browser keeps a preflight's answer for `MAX_AGE` anyway, and a preflight
/// only lets the browser send a request it could send as a simple form post
/// without one; the request itself is answered from a fresh read. So a
/// preflight takes the configuration some request of the last second found
/// current, with no store round trip.
const PREFLIGHT_CONFIG_AGE_MS: i64 = 1_000;

pub async fn cors(State(state): State<Issuer>, mut request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let access = match origin.as_ref().and_then(|o| o.to_str().ok()) {
        // A store failure leaves the response without CORS headers: the
        // browser refuses it, which is the safe way to fail.
        Some(o) if preflight => state
            .recent_configuration(PREFLIGHT_CONFIG_AGE_MS)
            .await
            .ok()
            .and_then(|config| config.origin_access(o)),
        // From the cached configuration: one read of the change counter,
        // which the request carries on so the token endpoint reads none.
        Some(o) => match state.configuration().await {
            Ok(config) => {
                let access = config.origin_access(o);
                request.extensions_mut().insert(config);
                access
            }
            Err(_) => None,
        },
        None => None,
    };
    let mut response = if preflight {
        StatusCode::OK.into_response()
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let (Some(origin), Some(access)) = (origin, access) {
        allow(h, origin, access, preflight);
    }
    response
}

fn allow(h: &mut HeaderMap, origin: HeaderValue, access: OriginAccess, preflight: bool) {
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    if access == OriginAccess::Named {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    if preflight {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(METHODS),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE),
        );
    } else {
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("WWW-Authenticate"),
        );
    }
}
