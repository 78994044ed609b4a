//! Database connections held outside sqlx's pool, for both backends.
//!
//! sqlx 0.8's pool pings every connection as it comes back (a spawned task
//! and one more round trip per statement: to SQLite's worker thread, or to
//! the Postgres server): on the CPU-bound token paths that was a tenth of
//! the server's time. `Conns` keeps the connections in a list behind a
//! semaphore and gives them back without a ping. It is an `Executor` as
//! `&Pool` is, so the SQL written once in `store::shared` runs on it
//! unchanged.
//!
//! A connection whose statement was dropped half-way (its request went
//! away), or that failed other than by the database refusing the statement
//! (its socket or its worker is gone), is not given back: it is closed,
//! which rolls back what it had not committed, and the next checkout opens
//! a fresh one. A connection given back inside a transaction (a `Tx`
//! dropped before `commit`) is closed too. With `ping_idle` (Postgres, where
//! a restarted server leaves every idle connection broken) an idle
//! connection is pinged before it is lent, as sqlx's pool does, and one that
//! does not answer is replaced; but a statement that can run twice (a read,
//! the refresh rotation) takes one used within the last second without a
//! ping and runs again if it was broken (`rerun.rs`). With `idle_timeout`
//! (Postgres) a connection left idle that long is closed by a task that
//! looks every few seconds, as sqlx's reaper does, so that an instance
//! gives the server its connection slots back after a storm (`reap.rs`).

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::{ConnectOptions as _, Connection, Database, Error, TransactionManager};
use tokio::sync::{Semaphore, SemaphorePermit};

mod executor;
mod reap;
mod rerun;
#[cfg(test)]
mod tests;

type Options<DB> = <<DB as Database>::Connection as Connection>::Options;

/// How a set of connections behaves.
#[derive(Clone, Copy)]
pub(super) struct Settings {
    /// At most this many connections, opened as they are needed.
    pub size: usize,
    /// How long a checkout (with the connecting, if it opens one) waits
    /// before the store answers `Unavailable` (as sqlx's `acquire_timeout`).
    pub checkout_timeout: Duration,
    /// Ping an idle connection before lending it.
    pub ping_idle: bool,
    /// Close a connection once it is this old, when it is next idle (as
    /// sqlx's `max_lifetime`: a server that moved, say a failover that
    /// left the old primary answering read-only, is let go of in time).
    pub max_lifetime: Option<Duration>,
    /// Close a connection left idle this long (as sqlx's `idle_timeout`).
    pub idle_timeout: Option<Duration>,
}

/// Up to `settings.size` connections to one database.
pub(super) struct Conns<DB: Database> {
    inner: Arc<Inner<DB>>,
}

impl<DB: Database> Clone for Conns<DB> {
    fn clone(&self) -> Self {
        Conns {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<DB: Database> {
    options: Options<DB>,
    settings: Settings,
    /// The idle connections, the most recently given back last.
    idle: Mutex<Vec<Idle<DB>>>,
    slots: Semaphore,
}

struct Idle<DB: Database> {
    conn: DB::Connection,
    opened: Instant,
    since: Instant,
}

impl<DB: Database> std::fmt::Debug for Conns<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conns")
            .field("available", &self.inner.slots.available_permits())
            .finish()
    }
}

impl<DB: Database> Conns<DB> {
    /// A set that starts with `first` (opened by the caller, so that a
    /// database that cannot be opened fails the start-up). With an
    /// `idle_timeout` it starts the task that closes idle connections, which
    /// ends with the set.
    pub(super) fn with_first(
        options: Options<DB>,
        settings: Settings,
        first: DB::Connection,
    ) -> Conns<DB> {
        let now = Instant::now();
        let inner = Arc::new(Inner {
            options,
            settings,
            idle: Mutex::new(vec![Idle {
                conn: first,
                opened: now,
                since: now,
            }]),
            slots: Semaphore::new(settings.size),
        });
        if let Some(timeout) = settings.idle_timeout {
            tokio::spawn(reap::reap(Arc::downgrade(&inner), timeout));
        }
        Conns { inner }
    }

    /// Opens the first connection at once, then as `with_first`.
    pub(super) async fn open(options: Options<DB>, settings: Settings) -> Result<Conns<DB>, Error> {
        let first = options.connect().await?;
        Ok(Conns::with_first(options, settings, first))
    }

    /// A connection of this set, waiting for one to come back when all are
    /// out.
    pub(super) async fn acquire(&self) -> Result<Conn<'_, DB>, Error> {
        let ping = self.inner.settings.ping_idle;
        self.acquire_pinging(|_| ping).await
    }

    /// As `acquire`, an idle connection pinged first where `needs_ping`
    /// says so for the time it went idle (`pop_sound`).
    pub(super) async fn acquire_pinging(
        &self,
        needs_ping: impl Fn(Instant) -> bool,
    ) -> Result<Conn<'_, DB>, Error> {
        tokio::time::timeout(
            self.inner.settings.checkout_timeout,
            self.checkout(needs_ping),
        )
        .await
        .map_err(|_| Error::PoolTimedOut)?
    }

    /// A connection of the set: the most recently used sound idle one
    /// (`pop_sound`, pinged where `needs_ping` says so), else a new one.
    async fn checkout(&self, needs_ping: impl Fn(Instant) -> bool) -> Result<Conn<'_, DB>, Error> {
        let permit = self.permit().await?;
        let (conn, opened) = match self.pop_sound(needs_ping).await {
            Some(sound) => sound,
            None => (self.inner.options.connect().await?, Instant::now()),
        };
        Ok(self.lent(conn, opened, permit))
    }

    /// The most recently used idle connection that is neither stale nor,
    /// where `needs_ping` says so for its idle time, silent to a ping; the
    /// others it meets are dropped (broken: their server restarted, say).
    async fn pop_sound(
        &self,
        needs_ping: impl Fn(Instant) -> bool,
    ) -> Option<(DB::Connection, Instant)> {
        loop {
            let Idle {
                mut conn,
                opened,
                since,
            } = self.inner.lock_idle().pop()?;
            if self.inner.stale(opened, since) {
                continue;
            }
            if !needs_ping(since) || conn.ping().await.is_ok() {
                return Some((conn, opened));
            }
        }
    }

    async fn permit(&self) -> Result<SemaphorePermit<'_>, Error> {
        self.inner
            .slots
            .acquire()
            .await
            .map_err(|_| Error::PoolClosed)
    }

    fn lent<'a>(
        &'a self,
        conn: DB::Connection,
        opened: Instant,
        permit: SemaphorePermit<'a>,
    ) -> Conn<'a, DB> {
        Conn {
            inner: &self.inner,
            conn: ManuallyDrop::new(conn),
            opened,
            busy: false,
            _permit: permit,
        }
    }

    /// How many connections are idle.
    #[cfg(test)]
    fn idle(&self) -> usize {
        self.inner.lock_idle().len()
    }

    /// A transaction on a connection of this set.
    pub(super) async fn begin(&self) -> Result<Tx<'_, DB>, Error> {
        let mut conn = self.acquire().await?;
        let begun = DB::TransactionManager::begin(conn.start(), None).await;
        conn.settle(&begun);
        begun.map(|()| Tx(conn))
    }
}

impl<DB: Database> Inner<DB> {
    /// Whether a connection opened at `opened` is past `max_lifetime`.
    fn expired(&self, opened: Instant) -> bool {
        self.settings
            .max_lifetime
            .is_some_and(|lifetime| opened.elapsed() >= lifetime)
    }

    /// Whether an idle connection opened at `opened`, idle since `since`,
    /// is past its lifetime or its idle timeout.
    fn stale(&self, opened: Instant, since: Instant) -> bool {
        self.expired(opened)
            || self
                .settings
                .idle_timeout
                .is_some_and(|timeout| since.elapsed() >= timeout)
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Idle<DB>>> {
        // The list is only pushed and popped: a panic elsewhere cannot leave
        // it half-changed.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A checked-out connection, back in the set when dropped if it is idle,
/// sound and outside a transaction, else closed.
pub(super) struct Conn<'a, DB: Database> {
    inner: &'a Inner<DB>,
    /// Taken out only by `drop`.
    conn: ManuallyDrop<DB::Connection>,
    opened: Instant,
    /// A statement may be under way, or the connection failed: set when
    /// the connection is lent out, cleared when what it was lent for
    /// completed with the connection sound.
    busy: bool,
    _permit: SemaphorePermit<'a>,
}

impl<DB: Database> Conn<'_, DB> {
    /// Lends the connection out for a statement: busy until `settle`.
    fn start(&mut self) -> &mut DB::Connection {
        self.busy = true;
        &mut self.conn
    }

    /// What the connection was lent out for completed with `result`: it
    /// stays busy (is closed when dropped) unless it succeeded or the
    /// database itself refused the statement.
    fn settle<T>(&mut self, result: &Result<T, Error>) {
        self.busy = result.as_ref().is_err_and(|e| !refused_by_database(e));
    }
}

/// An error after which the connection is still sound: the database
/// answered (a constraint, a conflict, a bad statement), or the row was not
/// what the caller expected. Anything else (I/O, protocol, a worker gone)
/// may have left the connection unusable, and so has an answer that the
/// server is ending the session: Postgres's class 57P (shutting down,
/// terminated by an administrator) and class 08 (connection exceptions).
/// SQLite's codes are numbers, never of those classes.
fn refused_by_database(e: &Error) -> bool {
    if let Error::Database(answer) = e {
        return !answer
            .code()
            .is_some_and(|code| code.starts_with("57P") || code.starts_with("08"));
    }
    matches!(
        e,
        Error::RowNotFound
            | Error::ColumnDecode { .. }
            | Error::ColumnNotFound(_)
            | Error::ColumnIndexOutOfBounds { .. }
            | Error::TypeNotFound { .. }
            | Error::Encode(_)
            | Error::Decode(_)
    )
}

impl<DB: Database> Deref for Conn<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        &self.conn
    }
}

/// Lent out mutably, the connection may be left with a statement under
/// way: it goes back only through `Tx::commit` or our own `Executor`.
impl<DB: Database> DerefMut for Conn<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.start()
    }
}

impl<DB: Database> Drop for Conn<'_, DB> {
    fn drop(&mut self) {
        // SAFETY: `conn` is not touched again; `self` is being dropped.
        let conn = unsafe { ManuallyDrop::take(&mut self.conn) };
        if !self.busy
            && DB::TransactionManager::get_transaction_depth(&conn) == 0
            && !self.inner.expired(self.opened)
        {
            self.inner.lock_idle().push(Idle {
                conn,
                opened: self.opened,
                since: Instant::now(),
            });
        }
        // Else `conn` drops here and closes: the database rolls back what
        // it had not committed.
    }
}

/// A transaction on a checked-out connection: `commit` it, or drop it to
/// roll it back (the connection is closed, which rolls back).
pub(super) struct Tx<'a, DB: Database>(Conn<'a, DB>);

impl<DB: Database> Tx<'_, DB> {
    pub(super) async fn commit(mut self) -> Result<(), Error> {
        let committed = DB::TransactionManager::commit(self.0.start()).await;
        self.0.settle(&committed);
        committed
    }
}

impl<DB: Database> Deref for Tx<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        &self.0
    }
}

impl<DB: Database> DerefMut for Tx<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.0.start()
    }
}
