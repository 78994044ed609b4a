//! Only the configured realm exists: a request for another realm's OIDC
//! endpoint is a JSON 404. Every route here is `/auth/realms/{realm}/...`
//! (the `http_relative_path` layer has moved the request there before
//! routing), so the realm is the path's third segment, percent-decoded as
//! axum's `Path` decodes it. A `Middleware` rather than a `from_fn` one
//! with a `Path` extractor: no `String` per path parameter.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use tower::Service;

use crate::http::error::AppError;
use crate::http::layered::{Middleware, MiddlewareLayer};

const REALMS: &str = "/auth/realms/";

#[derive(Clone)]
pub struct KnownRealm {
    realm: Arc<str>,
}

impl KnownRealm {
    pub fn layer(realm: &str) -> MiddlewareLayer<KnownRealm> {
        MiddlewareLayer(KnownRealm {
            realm: realm.into(),
        })
    }
}

/// Whether `path` (`/auth/realms/<name>/...`) names `realm`.
fn names_realm(path: &str, realm: &str) -> bool {
    path.strip_prefix(REALMS)
        .and_then(|rest| rest.split('/').next())
        .and_then(|segment| percent_decode_str(segment).decode_utf8().ok())
        .is_some_and(|name| name == realm)
}

impl<S> Middleware<S> for KnownRealm
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Future = KnownRealmFuture<S::Future>;

    fn call(&self, inner: &mut S, request: Request) -> Self::Future {
        if names_realm(request.uri().path(), &self.realm) {
            KnownRealmFuture::Inner {
                inner: inner.call(request),
            }
        } else {
            KnownRealmFuture::NotFound {
                response: Some(AppError::NotFound("Realm does not exist".into()).into_response()),
            }
        }
    }
}

pin_project_lite::pin_project! {
    #[project = Projected]
    pub enum KnownRealmFuture<F> {
        Inner { #[pin] inner: F },
        NotFound { response: Option<Response> },
    }
}

impl<F> Future for KnownRealmFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            Projected::Inner { inner } => inner.poll(cx),
            Projected::NotFound { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                None => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::names_realm;

    #[test]
    fn the_realm_is_the_third_segment_percent_decoded() {
        let realm = "Domino Realm";
        assert!(names_realm("/auth/realms/Domino%20Realm/protocol/x", realm));
        assert!(names_realm("/auth/realms/Domino%20Realm", realm));
        assert!(!names_realm("/auth/realms/Other/protocol/x", realm));
        assert!(!names_realm(
            "/auth/realms/Domino%20Realmx/protocol/x",
            realm
        ));
        assert!(!names_realm("/auth/realms/%FF/protocol/x", realm));
        assert!(!names_realm("/realms/Domino%20Realm/protocol/x", realm));
    }
}
