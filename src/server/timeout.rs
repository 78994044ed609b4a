//! `request_timeout`: a request that takes longer is answered 503 with
//! `Retry-After` (the server is slow), or 408 and the connection closed while
//! the client is still sending its body (the client is slow). The handler's
//! future is dropped, which rolls back any open database transaction.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};

use crate::http::error::AppError;

/// Runs the rest of the stack under `limit`.
pub async fn enforce(limit: Duration, req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let received = Arc::new(AtomicBool::new(req.body().is_end_stream()));
    let req = req.map(|body| {
        Body::new(Watched {
            inner: body,
            received: received.clone(),
        })
    });
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) if !received.load(Ordering::Acquire) => {
            tracing::info!(%method, path, "request body not received within request_timeout: 408");
            let mut response = AppError::RequestTimeout(limit.as_secs()).into_response();
            // The rest of the body may still come: this connection is done.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
        Err(_) => AppError::Unavailable(format!(
            "{method} {path} took longer than request_timeout ({} s)",
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
