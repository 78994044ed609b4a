//! Group commit for SQLite's one writer.
//!
//! Under `synchronous = FULL` every commit waits for the disk (an fsync of
//! the WAL: 0.5–2 ms on the machines measured), and SQLite commits one
//! transaction at a time, so writes that each commit alone queue on the
//! disk, not on the CPU. `GroupCommit` runs the jobs that arrive while a
//! commit is in progress in one transaction of their own: one fsync for the
//! batch. The first job of a quiet moment commits at once; while batches
//! have company (under load), each waits `COMMIT_DELAY` for more before it
//! begins, as PostgreSQL's `commit_delay` does.
//!
//! The batches run on a thread of their own, on a rusqlite connection that
//! thread owns: each statement runs where the batch is, with no hop to a
//! sqlx connection's worker thread and back (four per rotation, a sixth of
//! a refresh grant's CPU in a profile). While a batch runs it holds the
//! checkout of the process's one sqlx writer connection, so this process
//! still writes through one connection at a time and its writers queue on
//! that semaphore, not in SQLite's busy handler.
//!
//! The thread is `SCHED_BATCH` on Linux: its wake-ups (a job, the commit
//! delay, each fsync) wait for a core to come free instead of preempting
//! a request thread. When every core is busy a commit may wait up to a
//! scheduler tick; the batches grow meanwhile, and a refresh grant costs
//! about 5 % less CPU, with half the involuntary context switches and a
//! third less of the writer's own time. At 50 connections that is 5-12 %
//! more refreshes a second, and 1-5 ms more on their p99
//! (docs/performance.md, "The writer yields its core").
//!
//! A job is acknowledged only after its batch committed, so nothing
//! acknowledged is lost in a crash. Each job runs in a savepoint of its
//! own: one that fails (a token whose session was deleted a moment before
//! fails its foreign key) is rolled back alone and gets its error, and the
//! rest of its batch commits.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::Conns;
use super::hot::unavailable;
use crate::store::StoreError;

/// The most jobs one transaction takes (bounds the batch's latency).
const MAX_BATCH: usize = 128;

/// How long a batch waits for company when the one before it had some.
/// Under load each commit then carries about twice the jobs, so a job pays
/// half the fsyncs and fewer WAL frames (a page two rotations dirty is
/// written once): measured on refresh grants at 50 connections, 4 % less
/// CPU per grant and a lower p99 (docs/performance.md, "Group commit").
/// A job that finds the writer idle for longer than the delay never waits.
const COMMIT_DELAY: Duration = Duration::from_millis(1);

type Output = Box<dyn std::any::Any + Send>;
type Job = Box<dyn FnOnce(&Connection) -> Result<Output, StoreError> + Send>;

struct Pending {
    job: Job,
    reply: oneshot::Sender<Result<Output, StoreError>>,
}

/// The queue in front of the writer connection; its thread ends when the
/// store is dropped.
pub(super) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Pending>,
}

impl GroupCommit {
    /// Opens the batches' connection to `file` (the database exists and is
    /// migrated by whoever opened the store) and starts their thread. On
    /// the request runtime the batches would wait for a worker thread to
    /// come back from signing a token (a quarter of a millisecond each) and
    /// queue behind the signatures while the disk idled.
    pub(super) fn start(file: &Path, writer: Conns) -> Result<GroupCommit, StoreError> {
        let conn =
            connect(file).map_err(|e| StoreError::Open(format!("{}: {e}", file.display())))?;
        let (jobs, queue) = mpsc::unbounded_channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Open(format!("cannot start the writer: {e}")))?;
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                yield_to_requests();
                runtime.block_on(commit_batches(conn, writer, queue));
            })
            .map_err(|e| StoreError::Open(format!("cannot start the writer: {e}")))?;
        Ok(GroupCommit { jobs })
    }

    /// Runs `job` inside a batch's transaction and answers once the batch
    /// committed.
    pub(super) async fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| job(conn).map(|v| Box::new(v) as Output));
        self.jobs
            .send(Pending { job, reply })
            .map_err(|_| StoreError::Unavailable("the store is closing".into()))?;
        let output = answer
            .await
            .map_err(|_| StoreError::Unavailable("the store's writer stopped".into()))??;
        output
            .downcast::<T>()
            .map(|v| *v)
            .map_err(|_| StoreError::Unavailable("the writer answered another job".into()))
    }
}

/// Makes the calling thread `SCHED_BATCH`: the scheduler no longer lets
/// its wake-ups preempt a running thread, so a commit waits for a core to
/// come free (up to a scheduler tick when all are busy, not at all when
/// one idles) and the request threads keep theirs. Its share of the CPU
/// is unchanged. Where the policy cannot be set, the writer runs as
/// before.
#[cfg(target_os = "linux")]
fn yield_to_requests() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: pid 0 is the calling thread on Linux, and `param` is a valid
    // `sched_param` that outlives the call, which only reads it.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) } != 0 {
        tracing::debug!(
            error = %std::io::Error::last_os_error(),
            "the SQLite writer keeps the default scheduling policy"
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn yield_to_requests() {}

/// The settings sqlx gives its connections (`SqliteStore::open`) that live
/// with a connection rather than in the file: durability and foreign keys.
fn connect(file: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(file, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(conn)
}

async fn commit_batches(
    mut conn: Connection,
    writer: Conns,
    mut queue: mpsc::UnboundedReceiver<Pending>,
) {
    let mut had_company = false;
    loop {
        let idle = Instant::now();
        let Some(first) = queue.recv().await else {
            break;
        };
        // Under load: the batch before had company and this job came
        // within the delay of its commit. After a quiet spell it commits
        // at once, whatever the last batch was. This thread runs nothing
        // else, so it may block.
        if had_company && idle.elapsed() < COMMIT_DELAY {
            std::thread::sleep(COMMIT_DELAY);
        }
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        had_company = batch.len() > 1;
        // The process's one write slot, held for the batch (the sqlx
        // connection itself stays idle).
        match writer.acquire().await {
            Ok(_slot) => commit(&mut conn, batch),
            Err(e) => fail(batch, &super::unavailable(e)),
        }
    }
}

fn commit(conn: &mut Connection, batch: Vec<Pending>) {
    // IMMEDIATE takes the write lock up front: another process (the CLI)
    // meets the busy timeout here rather than failing the upgrade later.
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => return fail(batch, &unavailable(e)),
    };
    let mut done = Vec::with_capacity(batch.len());
    for Pending { job, reply } in batch {
        match alone(&mut tx, job) {
            Ok(output) => done.push((reply, output)),
            // Its own error, at once: nothing of it is in the batch.
            Err(e) => drop(reply.send(Err(e))),
        }
    }
    let committed = tx.commit().map_err(unavailable);
    for (reply, output) in done {
        // A caller that went away needs no answer.
        let _ = reply.send(match &committed {
            Ok(()) => Ok(output),
            Err(e) => Err(e.clone()),
        });
    }
}

/// Runs `job` in a savepoint of the batch: what a failing job wrote is
/// rolled back to where it began, and the batch goes on without it. A job
/// that panics fails the same way: the thread is the process's only
/// writer, and must outlive a bug in one job.
fn alone(tx: &mut rusqlite::Transaction<'_>, job: Job) -> Result<Output, StoreError> {
    let mut savepoint = tx.savepoint().map_err(unavailable)?;
    let output = catch_unwind(AssertUnwindSafe(|| job(&savepoint))).unwrap_or_else(|_| {
        Err(StoreError::Unavailable(
            "a write failed on a bug (it panicked)".into(),
        ))
    });
    match output {
        Ok(output) => savepoint.commit().map_err(unavailable).map(|()| output),
        Err(e) => {
            savepoint.rollback().map_err(unavailable)?;
            Err(e)
        }
    }
}

fn fail(batch: Vec<Pending>, e: &StoreError) {
    for Pending { reply, .. } in batch {
        let _ = reply.send(Err(e.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::GroupCommit;
    use crate::store::StoreError;
    use crate::store::sqlite::SqliteStore;

    /// The group commit of a store on a file.
    fn group_commit(store: &SqliteStore) -> &GroupCommit {
        &store
            .file
            .as_ref()
            .expect("a file has a group commit")
            .batch
    }

    /// A job that panics gets an error and the writer goes on: the jobs
    /// after it commit.
    #[tokio::test]
    async fn a_job_that_panics_fails_alone_and_the_writer_goes_on() {
        let (store, _dir) = crate::store::sqlite::testdb::fresh().await.unwrap();
        let batch = group_commit(&store);
        let panicked = batch
            .run(|_| -> Result<(), StoreError> { panic!("a bug in a job") })
            .await;
        assert!(
            matches!(panicked, Err(StoreError::Unavailable(_))),
            "{panicked:?}"
        );
        let written = batch
            .run(|conn| {
                conn.execute("CREATE TABLE after_the_panic (x INTEGER)", [])
                    .map_err(super::unavailable)
            })
            .await;
        assert!(matches!(written, Ok(0)), "{written:?}");
    }

    /// The batches run under `SCHED_BATCH`, so their wake-ups do not
    /// preempt the request threads.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_writer_thread_does_not_preempt_the_request_threads() {
        // SAFETY: sched_getscheduler(0) only reads the calling thread's
        // policy.
        let policy = || unsafe { libc::sched_getscheduler(0) };
        let before = policy();
        let (store, _dir) = crate::store::sqlite::testdb::fresh().await.unwrap();
        let batch = group_commit(&store);
        // The job runs on the writer's thread.
        let writer = batch.run(move |_| Ok(policy())).await.unwrap();
        assert_eq!(writer, libc::SCHED_BATCH);
        assert_eq!(policy(), before, "only the writer's thread changes");
    }
}
