//! How the proxy serves its connections: in lanes, one per core. A lane is
//! a thread with a runtime of its own (tokio's current-thread) and its own
//! pool of upstream connections; the accepting task hands each accepted
//! connection to the next lane in turn. A request, the upstream connection
//! it goes out on and the answer that comes back are then handled on one
//! thread, with no hand-over between threads and no lock on a shared pool:
//! nginx's design (a worker process per core), which cost the proxy 7-18 us
//! less CPU a request than the process's work-stealing runtime, a sixth of
//! it (docs/performance.md, "The proxy in lanes").

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::pin::pin;
use std::thread::JoinHandle;

use axum::Router;
use axum::serve::Listener;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// A lane as the accepting task sees it: where its connections go, and its
/// thread.
struct Lane {
    connections: mpsc::UnboundedSender<std::net::TcpStream>,
    thread: JoinHandle<()>,
}

/// The most lanes a proxy runs, on however many cores: two lanes carry
/// 11,000-14,000 requests a second on a 2-core VM shared with the upstream
/// and the load (docs/performance.md, "The proxy in lanes"), more than the
/// code in one Domino run sends; a large node without a CPU quota would
/// otherwise get a thread and a connection pool per core.
const MOST_LANES: usize = 8;

/// How many lanes: one per core the process may use
/// (`available_parallelism` follows a container's CPU quota), at most
/// `MOST_LANES`.
pub fn lane_count() -> usize {
    std::thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(MOST_LANES)
}

/// Serves `listener` in `lanes` lanes, each with the router `router_for`
/// makes for it and HTTP/1.1 as `http` is set up (its limits and timer),
/// until `shutdown`; then stops accepting, lets each connection finish the
/// request it is on (hyper's graceful shutdown) and returns when every lane
/// has stopped. Each connection is set `TCP_NODELAY`: an answer is never
/// held back waiting for the caller's ACK.
pub async fn serve(
    mut listener: TcpListener,
    lanes: usize,
    http: http1::Builder,
    mut router_for: impl FnMut() -> Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let mut started = Vec::with_capacity(lanes);
    for n in 0..lanes.max(1) {
        let (connections, incoming) = mpsc::unbounded_channel();
        let router = router_for();
        let http = http.clone();
        let stopped = stopped.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name(format!("proxy-lane-{n}"))
            .spawn(move || runtime.block_on(lane(incoming, router, http, stopped)))?;
        started.push(Lane {
            connections,
            thread,
        });
    }
    let mut shutdown = pin!(shutdown);
    let mut next = 0;
    loop {
        let (stream, peer): (TcpStream, SocketAddr) = tokio::select! {
            accepted = Listener::accept(&mut listener) => accepted,
            () = &mut shutdown => break,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        // Out of this runtime's reactor, into the lane's.
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(e) => {
                tracing::debug!(error = %e, %peer, "cannot hand over a connection");
                continue;
            }
        };
        let n = next % started.len();
        next = next.wrapping_add(1);
        if started[n].connections.send(stream).is_err() {
            // Its thread has ended, which only a panic does.
            tracing::error!(lane = n, "a proxy lane has stopped");
        }
    }
    drop(listener);
    // Tells the lanes' connections to finish; closing the channels tells
    // the lanes to stop waiting for more.
    let _ = stop.send(true);
    let threads: Vec<JoinHandle<()>> = started.into_iter().map(|lane| lane.thread).collect();
    tokio::task::spawn_blocking(move || {
        for thread in threads {
            if thread.join().is_err() {
                tracing::error!("a proxy lane panicked");
            }
        }
    })
    .await
    .map_err(std::io::Error::other)
}

/// One lane: serves the connections it is handed until the channel closes,
/// then waits for them to finish.
async fn lane(
    mut incoming: mpsc::UnboundedReceiver<std::net::TcpStream>,
    router: Router,
    http: http1::Builder,
    stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            handed = incoming.recv() => match handed {
                Some(stream) => match TcpStream::from_std(stream) {
                    Ok(stream) => {
                        let service = TowerToHyperService::new(router.clone());
                        let conn = http.serve_connection(TokioIo::new(stream), service);
                        connections.spawn(connection(conn, stopped.clone()));
                    }
                    Err(e) => tracing::debug!(error = %e, "cannot take over a connection"),
                },
                None => break,
            },
            // Finished connections are reaped as they go, so a proxy that
            // runs for weeks holds only the ones that are open.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    while connections.join_next().await.is_some() {}
}

/// A caller's connection as hyper serves it.
type Connection = http1::Connection<TokioIo<TcpStream>, TowerToHyperService<Router>>;

/// One HTTP/1.1 connection, until the caller closes it, its limits close it
/// or the proxy stops (then after the request in progress, if any).
async fn connection(conn: Connection, mut stopped: watch::Receiver<bool>) {
    let mut conn = pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::trace!(error = %e, "a connection to the proxy failed");
            }
            return;
        }
        // A closed channel (the accepting task gone) is a stop too.
        _ = stopped.wait_for(|stop| *stop) => {}
    }
    conn.as_mut().graceful_shutdown();
    if let Err(e) = conn.await {
        tracing::trace!(error = %e, "a connection to the proxy failed");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use axum::routing::get;
    use tokio::sync::{Notify, oneshot};

    use super::*;

    /// A router that answers with the name of the thread that served it.
    fn thread_named() -> Router {
        Router::new().route(
            "/",
            get(|| async { std::thread::current().name().unwrap_or("").to_owned() }),
        )
    }

    async fn listener() -> (TcpListener, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        (listener, url)
    }

    #[tokio::test]
    async fn connections_are_dealt_to_the_lanes_in_turn_and_stay_on_theirs() {
        let (listener, url) = listener().await;
        let (stop, stopped) = oneshot::channel::<()>();
        let http = http1::Builder::new();
        let server = tokio::spawn(serve(listener, 3, http, thread_named, async {
            let _ = stopped.await;
        }));
        let mut lanes = Vec::new();
        for _ in 0..6 {
            // A client of its own is a connection of its own.
            let client = reqwest::Client::new();
            let first = client.get(&url).send().await.unwrap().text().await.unwrap();
            let again = client.get(&url).send().await.unwrap().text().await.unwrap();
            assert_eq!(first, again, "a connection moved between lanes");
            lanes.push(first);
        }
        let expected: Vec<String> = (0..6).map(|n| format!("proxy-lane-{}", n % 3)).collect();
        assert_eq!(lanes, expected);
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_stop_lets_the_request_in_progress_finish_and_takes_no_more() {
        let (listener, url) = listener().await;
        let addr = listener.local_addr().unwrap();
        let entered = Arc::new(Notify::new());
        let release = Arc::new(Notify::new());
        let router = {
            let (entered, release) = (Arc::clone(&entered), Arc::clone(&release));
            move || {
                let (entered, release) = (Arc::clone(&entered), Arc::clone(&release));
                Router::new().route(
                    "/slow",
                    get(move || async move {
                        entered.notify_one();
                        release.notified().await;
                        "done"
                    }),
                )
            }
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let http = http1::Builder::new();
        let server = tokio::spawn(serve(listener, 2, http, router, async {
            let _ = stopped.await;
        }));
        let slow = tokio::spawn(async move {
            let response = reqwest::get(format!("{url}/slow")).await?;
            response.text().await
        });
        entered.notified().await;
        stop.send(()).unwrap();

        // No new connection is taken once the stop has been seen...
        let refused = async {
            while tokio::net::TcpStream::connect(addr).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), refused)
            .await
            .expect("the proxy still accepts connections after its stop");
        // ...but the request in progress is still being served.
        assert!(!server.is_finished());
        release.notify_one();
        assert_eq!(slow.await.unwrap().unwrap(), "done");
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("the lanes did not stop after their last request")
            .unwrap()
            .unwrap();
    }
}
