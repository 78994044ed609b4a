//! What the hand-written middleware share (`metrics::Track`,
//! `oidc::known_realm`, `oidc::cors`): each is a `Middleware`, a value that
//! answers one request given the route under it, and `Layered` makes it the
//! tower `Service` whose readiness is the route's. Services of their own
//! rather than `from_fn` middleware: no boxed future unless the middleware
//! needs one, no `Next`, no clone of the route under it per request.

use std::convert::Infallible;
use std::future::Future;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use tower::{Layer, Service};

/// A middleware's handling of one request: `inner` is the route under it,
/// made ready by `poll_ready`.
pub trait Middleware<S> {
    type Future: Future<Output = Result<Response, Infallible>>;

    fn call(&self, inner: &mut S, request: Request) -> Self::Future;
}

/// A middleware as a layer: each route it wraps gets a clone of it.
#[derive(Clone)]
pub struct MiddlewareLayer<M>(pub M);

impl<S, M: Clone> Layer<S> for MiddlewareLayer<M> {
    type Service = Layered<S, M>;

    fn layer(&self, inner: S) -> Layered<S, M> {
        Layered::new(inner, self.0.clone())
    }
}

/// A route under a middleware.
#[derive(Clone)]
pub struct Layered<S, M> {
    inner: S,
    middleware: M,
}

impl<S, M> Layered<S, M> {
    pub fn new(inner: S, middleware: M) -> Layered<S, M> {
        Layered { inner, middleware }
    }
}

impl<S, M> Service<Request> for Layered<S, M>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    M: Middleware<S>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = M::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> M::Future {
        self.middleware.call(&mut self.inner, request)
    }
}
