//! Group commit for SQLite's one writer.
//!
//! Under `synchronous = FULL` every commit waits for the disk (an fsync of
//! the WAL: 0.5–2 ms on the machines measured), and SQLite commits one
//! transaction at a time, so writes that each commit alone queue on the
//! disk, not on the CPU. `GroupCommit` runs the jobs that arrive while a
//! commit is in progress in one transaction of their own: one fsync for the
//! batch. No job waits for company: the first of a quiet moment commits at
//! once, and a batch forms only while the disk is busy.
//!
//! A job is acknowledged only after its batch committed, so nothing
//! acknowledged is lost in a crash. A job that fails rolls its whole batch
//! back and every job of the batch gets the error (no job here fails but on
//! a failing database, which fails the others too).

use std::future::Future;
use std::pin::Pin;

use sqlx::sqlite::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

use super::conns::Conns;
use super::unavailable;
use crate::store::StoreError;

/// The most jobs one transaction takes (bounds the batch's latency).
const MAX_BATCH: usize = 128;

pub(super) type JobFuture<'c, T> =
    Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'c>>;

type Output = Box<dyn std::any::Any + Send>;
type Job = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> JobFuture<'c, Output> + Send>;

struct Pending {
    job: Job,
    reply: oneshot::Sender<Result<Output, StoreError>>,
}

/// The queue in front of the writer connection; its task ends when the
/// store is dropped.
pub(super) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Pending>,
}

impl GroupCommit {
    /// The batches run on a thread of their own: on the request runtime
    /// the writer's every statement would wait for a worker thread to come
    /// back from signing a token (a quarter of a millisecond each), and the
    /// batches, which take their statements one after the other, would
    /// queue behind the signatures while the disk idled.
    pub(super) fn start(writer: Conns) -> Result<GroupCommit, StoreError> {
        let (jobs, queue) = mpsc::unbounded_channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Open(format!("cannot start the writer: {e}")))?;
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || runtime.block_on(commit_batches(writer, queue)))
            .map_err(|e| StoreError::Open(format!("cannot start the writer: {e}")))?;
        Ok(GroupCommit { jobs })
    }

    /// Runs `job` inside a batch's transaction and answers once the batch
    /// committed.
    pub(super) async fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> JobFuture<'c, T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let run = job(conn);
            Box::pin(async move { run.await.map(|v| Box::new(v) as Output) })
        });
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

async fn commit_batches(writer: Conns, mut queue: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        commit(&writer, batch).await;
    }
}

async fn commit(writer: &Conns, batch: Vec<Pending>) {
    // IMMEDIATE takes the write lock up front: another process (the CLI)
    // meets the busy timeout here rather than failing the upgrade later.
    let mut tx = match writer.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => return fail(batch, &unavailable(e)),
    };
    let mut done = Vec::with_capacity(batch.len());
    let mut failed = None;
    for Pending { job, reply } in batch {
        if failed.is_none() {
            match job(&mut tx).await {
                Ok(output) => done.push((reply, Some(output))),
                Err(e) => {
                    failed = Some(unavailable(e));
                    done.push((reply, None));
                }
            }
        } else {
            done.push((reply, None));
        }
    }
    let outcome = match failed {
        // Dropping the transaction rolls it back (its connection is closed).
        Some(e) => Err(e),
        None => tx.commit().await.map_err(unavailable),
    };
    for (reply, output) in done {
        // A caller that went away needs no answer.
        let _ = reply.send(match (&outcome, output) {
            (Ok(()), Some(output)) => Ok(output),
            (Err(e), _) => Err(e.clone()),
            (Ok(()), None) => Err(StoreError::Unavailable("batch rolled back".into())),
        });
    }
}

fn fail(batch: Vec<Pending>, e: &StoreError) {
    for Pending { reply, .. } in batch {
        let _ = reply.send(Err(e.clone()));
    }
}
