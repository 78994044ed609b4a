//! SQLite connections held outside sqlx's pool.
//!
//! sqlx 0.8's pool pings every connection as it comes back (a spawned task
//! and one more round trip to the connection's worker thread per
//! statement): on the CPU-bound token paths that was a tenth of the server's
//! time. `Conns` keeps the connections in a list behind a semaphore and
//! gives them back without a ping. It is an `Executor` as `&SqlitePool` is,
//! so the SQL written once in `store::shared` runs on it unchanged.
//!
//! A connection whose statement was dropped half-way (its request went
//! away) is not given back: it is closed, which rolls back what it had not
//! committed, and the next checkout opens a fresh one. A connection given
//! back inside a transaction (a `Tx` dropped before `commit`) has the
//! rollback queued first: its worker runs commands in order, so the next
//! user's statement runs after it.

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::sqlite::{Sqlite, SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions as _, Error, TransactionManager};
use tokio::sync::{Semaphore, SemaphorePermit};

mod executor;
#[cfg(test)]
mod tests;

type Manager = <Sqlite as sqlx::Database>::TransactionManager;

/// How long a checkout waits for a connection before the store answers
/// `Unavailable` (as sqlx's pool's `acquire_timeout` did).
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);

/// Up to `size` connections to one database, opened as they are needed.
#[derive(Clone)]
pub(super) struct Conns {
    inner: Arc<Inner>,
}

struct Inner {
    options: SqliteConnectOptions,
    idle: Mutex<Vec<SqliteConnection>>,
    slots: Semaphore,
}

impl std::fmt::Debug for Conns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conns")
            .field("available", &self.inner.slots.available_permits())
            .finish()
    }
}

impl Conns {
    /// Opens the first connection at once, so that a database that cannot
    /// be opened fails the start-up.
    pub(super) async fn open(options: SqliteConnectOptions, size: usize) -> Result<Conns, Error> {
        let first = options.connect().await?;
        Ok(Conns {
            inner: Arc::new(Inner {
                options,
                idle: Mutex::new(vec![first]),
                slots: Semaphore::new(size),
            }),
        })
    }

    /// A connection of this set, waiting for one to come back when all are
    /// out.
    pub(super) async fn acquire(&self) -> Result<Conn<'_>, Error> {
        let permit = tokio::time::timeout(CHECKOUT_TIMEOUT, self.inner.slots.acquire())
            .await
            .map_err(|_| Error::PoolTimedOut)?
            .map_err(|_| Error::PoolClosed)?;
        let idle = self.inner.lock_idle().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.inner.options.connect().await?,
        };
        Ok(Conn {
            inner: &self.inner,
            conn: ManuallyDrop::new(conn),
            busy: false,
            _permit: permit,
        })
    }

    /// A transaction on a connection of this set.
    pub(super) async fn begin(&self) -> Result<Tx<'_>, Error> {
        let mut conn = self.acquire().await?;
        Manager::begin(conn.start(), None).await?;
        conn.settle();
        Ok(Tx(conn))
    }
}

impl Inner {
    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<SqliteConnection>> {
        // The list is only pushed and popped: a panic elsewhere cannot leave
        // it half-changed.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A checked-out connection, back in the set when dropped if it is idle
/// and outside a transaction, else closed.
pub(super) struct Conn<'a> {
    inner: &'a Inner,
    /// Taken out only by `drop`.
    conn: ManuallyDrop<SqliteConnection>,
    /// A statement may be under way: set when the connection is lent out,
    /// cleared when what it was lent for completed.
    busy: bool,
    _permit: SemaphorePermit<'a>,
}

impl Conn<'_> {
    /// Lends the connection out for a statement: busy until `settle`.
    fn start(&mut self) -> &mut SqliteConnection {
        self.busy = true;
        &mut self.conn
    }

    /// What the connection was lent out for completed.
    fn settle(&mut self) {
        self.busy = false;
    }
}

impl Deref for Conn<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

/// Lent out mutably, the connection may be left with a statement under
/// way: it goes back only through `Tx::commit` or our own `Executor`.
impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.start()
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        // SAFETY: `conn` is not touched again; `self` is being dropped.
        let conn = unsafe { ManuallyDrop::take(&mut self.conn) };
        if !self.busy && Manager::get_transaction_depth(&conn) == 0 {
            self.inner.lock_idle().push(conn);
        }
        // Else `conn` drops here: its worker closes it, and SQLite rolls back
        // what it had not committed.
    }
}

/// A transaction on a checked-out connection: `commit` it, or drop it to
/// roll it back (the connection is closed, which rolls back).
pub(super) struct Tx<'a>(Conn<'a>);

impl Tx<'_> {
    pub(super) async fn commit(mut self) -> Result<(), Error> {
        Manager::commit(self.0.start()).await?;
        self.0.settle();
        Ok(())
    }
}

impl Deref for Tx<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.0
    }
}

impl DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.0.start()
    }
}
