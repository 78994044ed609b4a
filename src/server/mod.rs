//! The HTTP/1.1 server under the router: an accept loop on hyper, because
//! `axum::serve` exposes none of the limits in `[server]` (header size and
//! count, header read timeout, connection cap), and a shutdown that drains.
//!
//! Shutdown: stop accepting and close the listening socket (new clients are
//! refused), serve what the kernel had already accepted, let every request in
//! flight finish and close its connection, and after `shutdown_grace` close
//! whatever remains. Each request carries `ConnectInfo<SocketAddr>` and runs
//! in `timeout::serve` (its `request_timeout`, and the log line of an error
//! response's cause), a plain future around the router rather than two
//! middleware layers, which axum would box and clone per route and request.

mod timeout;

use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::config::ServerSettings;

/// On shutdown, how long a connection that has not yet sent its first request
/// gets to send it: the client connected before the listener closed and its
/// request is most likely on the wire.
const FIRST_REQUEST_WINDOW: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: &ServerSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let server = Server {
        router,
        limit: settings.request_timeout(),
        http: http1(settings),
        stopping: watch::channel(false).0,
    };
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(_) = connections.join_next() => continue,
            slot = slots.clone().acquire_owned() => slot,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    pause_after_accept_error(&e).await;
                    continue;
                }
            },
        };
        connections.spawn(server.connection(stream, peer, Some(slot)));
    }
    // Connections the kernel completed before we stopped: their clients
    // think they are connected, so they are served too.
    while let Ok((stream, peer)) = poll_fn(|cx| match listener.poll_accept(cx) {
        Poll::Pending => Poll::Ready(Err(())),
        Poll::Ready(accepted) => Poll::Ready(accepted.map_err(drop)),
    })
    .await
    {
        connections.spawn(server.connection(stream, peer, None));
    }
    drop(listener);
    server.stopping.send_replace(true);
    drain(connections, settings.shutdown_grace()).await;
    Ok(())
}

/// HTTP/1.1 with the limits of `[server]` on what a caller sends before
/// its request is served: the time its headers may take (and an idle
/// kept-alive connection may wait), their size and their count. The API
/// proxy serves with the same.
pub fn http1(settings: &ServerSettings) -> http1::Builder {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout())
        .max_buf_size(settings.max_header_bytes)
        .max_headers(settings.max_headers);
    http
}

async fn drain(mut connections: JoinSet<()>, grace: Duration) {
    let open = connections.len();
    tracing::info!(
        connections = open,
        grace_secs = grace.as_secs(),
        "stopped accepting connections; finishing in-flight requests"
    );
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    match drained {
        Ok(()) => tracing::info!(connections = open, "all connections closed"),
        Err(_) => {
            tracing::warn!(
                connections = connections.len(),
                "shutdown_grace elapsed: closing the connections still open"
            );
            connections.shutdown().await;
        }
    }
}

/// Too many open files and the like: wait a moment instead of spinning.
async fn pause_after_accept_error(e: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

struct Server {
    router: Router,
    /// `request_timeout`.
    limit: Duration,
    http: http1::Builder,
    /// Turned to `true` once, when the server stops.
    stopping: watch::Sender<bool>,
}

impl Server {
    /// Serves one connection; `slot` (a `max_connections` permit) is held
    /// until it closes.
    fn connection(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
        slot: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let _ = stream.set_nodelay(true);
        let router = self.router.clone();
        let limit = self.limit;
        let mut stopping = self.stopping.subscribe();
        let started = Arc::new(FirstRequest::default());
        let service = {
            let started = started.clone();
            hyper::service::service_fn(move |req: Request<Incoming>| {
                started.mark();
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                timeout::serve(router.clone(), limit, req)
            })
        };
        let conn = self.http.serve_connection(TokioIo::new(stream), service);
        async move {
            let _slot = slot;
            tokio::pin!(conn);
            let stop = async {
                if !*stopping.borrow_and_update() {
                    let _ = stopping.changed().await;
                }
                started.wait(FIRST_REQUEST_WINDOW).await;
            };
            tokio::select! {
                result = conn.as_mut() => return log_closed(result, peer),
                () = stop => {}
            }
            // Finishes the request in flight (its response says
            // `Connection: close`), or closes an idle connection now.
            conn.as_mut().graceful_shutdown();
            log_closed(conn.await, peer);
        }
    }
}

fn log_closed(result: Result<(), hyper::Error>, peer: SocketAddr) {
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection closed with an error");
    }
}

/// Whether a connection has started a request yet.
#[derive(Default)]
struct FirstRequest {
    seen: AtomicBool,
    notify: Notify,
}

impl FirstRequest {
    fn mark(&self) {
        if !self.seen.swap(true, Ordering::AcqRel) {
            self.notify.notify_one();
        }
    }

    /// Returns once a request has started, or after `window`.
    async fn wait(&self, window: Duration) {
        if self.seen.load(Ordering::Acquire) {
            return;
        }
        let _ = tokio::time::timeout(window, self.notify.notified()).await;
    }
}
