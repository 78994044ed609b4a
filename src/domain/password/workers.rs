//! The threads argon2 runs on: a fixed set, one per core, each keeping its
//! own argon2 memory (19 MiB with the default parameters) from one
//! verification to the next. On the shared blocking pool every thread that
//! ever hashed kept a malloc arena holding such a block, so a login storm
//! grew the process by hundreds of megabytes; here it is at most
//! `threads × m_cost`, and a worker that has had nothing to do for
//! `IDLE_RELEASE` gives its memory back (a block this size is its own
//! mapping, so freeing it returns it to the system at once): a quiet server
//! holds none of it. The first check after a quiet spell pays for fresh
//! memory (about twice the time), for known and unknown names alike.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::Block;

use super::HashError;

/// Reusable argon2 memory of one worker.
pub(super) struct Scratch {
    blocks: Vec<Block>,
    /// Largest block count kept between jobs (the configured parameters'):
    /// a stored hash with a bigger `m` gets a one-off buffer instead.
    keep: usize,
}

impl Scratch {
    /// Runs `f` with `count` argon2 blocks of memory.
    pub fn with_blocks<T>(&mut self, count: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
        if count > self.keep {
            let mut once = vec![Block::default(); count];
            return f(&mut once);
        }
        if self.blocks.len() < count {
            self.blocks.resize(count, Block::default());
        }
        f(&mut self.blocks[..count])
    }
}

/// How long a worker keeps its argon2 memory without a job.
const IDLE_RELEASE: Duration = Duration::from_secs(2);

type Job = Box<dyn FnOnce(&mut Scratch) + Send>;

pub(super) struct Workers {
    jobs: Sender<Job>,
    threads: usize,
}

impl Workers {
    /// Starts `threads` workers; they end when `Workers` is dropped.
    pub fn start(threads: usize, keep_blocks: usize) -> Result<Workers, HashError> {
        let threads = threads.max(1);
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&queue, keep_blocks))
                .map_err(|e| HashError::Hash(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Workers { jobs, threads })
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `job` on a worker as soon as one is free (jobs queue in order).
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Scratch) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |scratch| {
                let _ = done.send(job(scratch));
            }))
            .map_err(|_| HashError::Cancelled)?;
        result.await.map_err(|_| HashError::Cancelled)
    }
}

fn work(queue: &Mutex<Receiver<Job>>, keep: usize) {
    let mut scratch = Scratch {
        blocks: Vec::new(),
        keep,
    };
    loop {
        // The lock is held only while waiting for the next job; a worker
        // whose wait times out lets the next one wait (and time out) in turn.
        let job = match queue.lock() {
            Ok(queue) => queue.recv_timeout(IDLE_RELEASE),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&mut scratch),
            Err(RecvTimeoutError::Timeout) => {
                scratch.blocks = Vec::new();
                // Outside the lock for a moment, so that the other workers
                // get to wait (and time out, and give back) in turn.
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
