//! `GET /metrics` and the middleware that counts every request.

use std::convert::Infallible;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::{Layer, Service};

use crate::app::Issuer;
use crate::http::error::AppError;
use crate::http::layered::{Layered, Middleware};
use crate::metrics::{Metrics, route_label};

pub(super) const METRICS: &str = "/metrics";

pub fn router() -> Router<Issuer> {
    Router::new().route(METRICS, get(render))
}

// This group's part of the OpenAPI document.
crate::http::group_api!(render);

/// Prometheus metrics: requests per route, login outcomes, tokens issued,
/// lockouts, key age.
#[utoipa::path(
    get,
    path = METRICS,
    tag = "operations",
    operation_id = "metrics",
    summary = "Prometheus metrics",
    responses(
        (status = 200, description = "OpenMetrics text", body = String,
            content_type = "application/openmetrics-text"),
    ),
)]
async fn render(State(state): State<Issuer>) -> Response {
    let now = u64::try_from(state.clock.now()).unwrap_or(0);
    let created = state.keys.signer().dates.created;
    let age = i64::try_from(now.saturating_sub(created)).unwrap_or(i64::MAX);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(age),
    )
        .into_response()
}

/// The layer under every route: counts the request under its route template
/// (never the raw path, so scanners cannot create series) with its status
/// and latency, answers a handler that panics with a 500 (counted as one),
/// and sets the request body limit (`DefaultBodyLimit`). One `Middleware`
/// (`http::layered`) instead of a `from_fn` one, `CatchPanicLayer` and a layer
/// of its own for the limit: each layer a router applies wraps every route
/// in a boxed `Route` that is cloned, with everything under it, for every
/// request. No boxed future, no `Next`, and no label allocated per request.
#[derive(Clone)]
pub struct Track {
    metrics: Arc<Metrics>,
    body_limit: DefaultBodyLimit,
}

impl Track {
    pub fn new(metrics: Arc<Metrics>, body_limit: usize) -> Track {
        Track {
            metrics,
            body_limit: DefaultBodyLimit::max(body_limit),
        }
    }
}

/// The body limit goes under the count: a request over it is counted too.
impl<S> Layer<S> for Track {
    type Service = Layered<<DefaultBodyLimit as Layer<S>>::Service, Track>;

    fn layer(&self, inner: S) -> Self::Service {
        Layered::new(self.body_limit.layer(inner), self.clone())
    }
}

impl<S> Middleware<S> for Track
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Future = TrackedFuture<S::Future>;

    fn call(&self, inner: &mut S, request: Request) -> Self::Future {
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", MatchedPath::as_str);
        let count = Count {
            metrics: self.metrics.clone(),
            route: route_label(route),
            method: method_label(request.method()),
            started: Instant::now(),
        };
        let inner = catch_unwind(AssertUnwindSafe(|| inner.call(request)));
        TrackedFuture {
            inner: inner.ok(),
            count: Some(count),
        }
    }
}

/// What a request is counted under, and since when.
struct Count {
    metrics: Arc<Metrics>,
    route: &'static str,
    method: &'static str,
    started: Instant,
}

pin_project_lite::pin_project! {
    /// The handler's future (`None`: it panicked already), counted when it
    /// completes.
    pub struct TrackedFuture<F> {
        #[pin]
        inner: Option<F>,
        count: Option<Count>,
    }
}

impl<F> Future for TrackedFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let polled = match this.inner.as_mut().as_pin_mut() {
            Some(inner) => catch_unwind(AssertUnwindSafe(|| inner.poll(cx))),
            None => Err(Box::new("panicked in call") as Box<dyn std::any::Any + Send>),
        };
        let response = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(response))) => response,
            Ok(Poll::Ready(Err(never))) => match never {},
            Err(_) => {
                this.inner.set(None);
                AppError::Internal("handler panicked".into()).into_response()
            }
        };
        if let Some(count) = this.count.take() {
            count.metrics.request(
                count.route,
                count.method,
                response.status().as_u16(),
                count.started.elapsed().as_secs_f64(),
            );
        }
        Poll::Ready(Ok(response))
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::OPTIONS => "OPTIONS",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use tower::ServiceExt as _;

    use super::*;

    async fn status_of(router: &Router, method: Method, uri: &str) -> u16 {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .expect("a valid request");
        let response = router.clone().oneshot(request).await;
        response.map_or(0, |r| r.status().as_u16())
    }

    async fn boom() -> &'static str {
        panic!("a handler's bug")
    }

    #[tokio::test]
    async fn counts_by_route_template_and_answers_a_panic_with_a_500() {
        let metrics = Arc::new(Metrics::new());
        let router = Router::new()
            .route("/ok/{id}", get(|| async { "ok" }))
            .route("/boom", get(boom))
            .layer(Track::new(metrics.clone(), 1024));
        assert_eq!(status_of(&router, Method::GET, "/ok/1").await, 200);
        assert_eq!(status_of(&router, Method::GET, "/ok/2").await, 200);
        assert_eq!(status_of(&router, Method::GET, "/boom").await, 500);
        assert_eq!(status_of(&router, Method::POST, "/ok/1").await, 405);
        assert_eq!(status_of(&router, Method::GET, "/nope/x").await, 404);
        let text = metrics.render(0);
        for series in [
            r#"domino_idp_http_requests_total{route="/ok/{id}",method="GET",status="200"} 2"#,
            r#"domino_idp_http_requests_total{route="/boom",method="GET",status="500"} 1"#,
            r#"domino_idp_http_requests_total{route="/ok/{id}",method="POST",status="405"} 1"#,
            r#"domino_idp_http_requests_total{route="unmatched",method="GET",status="404"} 1"#,
            r#"domino_idp_http_request_duration_seconds_count{route="/ok/{id}"} 3"#,
        ] {
            assert!(text.contains(series), "no {series} in\n{text}");
        }
    }
}
