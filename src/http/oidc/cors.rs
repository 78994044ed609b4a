//! CORS for the endpoints browser apps call with their tokens (token,
//! userinfo, introspection, revocation, logout). keycloak-js sends its
//! token requests with `credentials: 'include'`, which browsers allow only
//! with `Access-Control-Allow-Credentials: true` and the page's own origin
//! echoed. Both go to the origins some client names as a web origin
//! (`web_origins`, `+` for its redirect URIs' origins); an origin allowed
//! only through a client's `*` is echoed without credentials; `null` and
//! everything else get no CORS headers at all. Preflights are answered here.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;
use tower::{Service, ServiceExt as _};

use crate::app::Issuer;
use crate::domain::client::OriginAccess;
use crate::http::layered::{Middleware, MiddlewareLayer};

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

/// The CORS layer of the token, userinfo, introspection, revocation and
/// logout routes. A `Middleware` rather than a `from_fn` one: a preflight is
/// answered without cloning the route under it (a `from_fn` middleware
/// clones its inner route, with every layer under it, for every request).
#[derive(Clone)]
pub struct Cors {
    state: Issuer,
}

impl Cors {
    pub fn layer(state: Issuer) -> MiddlewareLayer<Cors> {
        MiddlewareLayer(Cors { state })
    }
}

impl<S> Middleware<S> for Cors
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, inner: &mut S, request: Request) -> Self::Future {
        let state = self.state.clone();
        let origin = request.headers().get(header::ORIGIN).cloned();
        let preflight = request.method() == Method::OPTIONS
            && request
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        if preflight {
            return Box::pin(async move { Ok(answer_preflight(&state, origin).await) });
        }
        // The inner service was made ready by `poll_ready`; the clone takes
        // its place for the next call.
        let clone = inner.clone();
        let inner = std::mem::replace(inner, clone);
        Box::pin(async move { Ok(cors(&state, origin, request, inner).await) })
    }
}

/// A preflight's answer, from the configuration some request of the last
/// `PREFLIGHT_CONFIG_AGE_MS` found current.
async fn answer_preflight(state: &Issuer, origin: Option<HeaderValue>) -> Response {
    let access = match origin.as_ref().and_then(|o| o.to_str().ok()) {
        // A store failure leaves the response without CORS headers: the
        // browser refuses it, which is the safe way to fail.
        Some(o) => state
            .recent_configuration(PREFLIGHT_CONFIG_AGE_MS)
            .await
            .ok()
            .and_then(|config| config.origin_access(o)),
        None => None,
    };
    let mut response = Response::new(Body::empty());
    let h = response.headers_mut();
    h.reserve(6);
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let (Some(origin), Some(access)) = (origin, access) {
        allow(h, origin, access, true);
    }
    response
}

/// A request that is no preflight: the route's answer with the CORS headers
/// its origin gets.
async fn cors<S>(
    state: &Issuer,
    origin: Option<HeaderValue>,
    mut request: Request,
    inner: S,
) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let access = match origin.as_ref().and_then(|o| o.to_str().ok()) {
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
    let mut response = match inner.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let h = response.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let (Some(origin), Some(access)) = (origin, access) {
        allow(h, origin, access, false);
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
