//! `request_timeout`: a request that takes longer is answered 503 with
//! `Retry-After` (the server is slow), or 408 and the connection closed while
//! the client is still sending its body (the client is slow). The handler's
//! future is dropped, which rolls back any open database transaction.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse as _, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tower::ServiceExt as _;

use crate::http::error::{AppError, log_cause};

/// Serves one request with `router` under `limit` and logs the cause an
/// error response carries (`http::error::log_cause`), the timeout's
/// included. The whole frame around the router is this one future: no
/// middleware layer, so nothing is boxed or cloned per route for it.
pub async fn serve(router: Router, limit: Duration, req: Request) -> Result<Response, Infallible> {
    let response = enforce(router, limit, req).await;
    log_cause(&response);
    Ok(response)
}

/// Runs the router under `limit`.
async fn enforce(router: Router, limit: Duration, req: Request) -> Response {
    let (method, uri) = (req.method().clone(), req.uri().clone());
    // A request without a body has received it all; only one with a body
    // is watched.
    let received = (!req.body().is_end_stream()).then(|| Arc::new(AtomicBool::new(false)));
    let req = match &received {
        None => req,
        Some(received) => req.map(|body| {
            Body::new(Watched {
                inner: body,
                received: received.clone(),
            })
        }),
    };
    match tokio::time::timeout(limit, router.oneshot(req)).await {
        Ok(Ok(response)) => response,
        Ok(Err(never)) => match never {},
        Err(_) if received.is_some_and(|r| !r.load(Ordering::Acquire)) => {
            let path = uri.path();
            tracing::info!(%method, path, "request body not received within request_timeout: 408");
            let mut response = AppError::RequestTimeout(limit.as_secs()).into_response();
            // The rest of the body may still come: this connection is done.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
        Err(_) => AppError::Unavailable(format!(
            "{method} {} took longer than request_timeout ({} s)",
            uri.path(),
            limit.as_secs()
        ))
        .into_response(),
    }
}

/// A request body that records when it has been read to the end.
struct Watched {
    inner: Body,
    received: Arc<AtomicBool>,
}

impl HttpBody for Watched {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let frame = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            self.received.store(true, Ordering::Release);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
