//! The threads argon2 runs on: a fixed set, one per core, each keeping its
//! own argon2 memory (19 MiB with the default parameters) from one
//! verification to the next. On the shared blocking pool every thread that
//! ever hashed kept a malloc arena holding such a block, so a login storm
//! grew the process by hundreds of megabytes; here it is `threads × m_cost`,
//! allocated once, when the worker starts: the first check on a worker then
//! costs what every other does (fresh memory made it twice as slow), which
//! the timing reference relies on.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

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
        blocks: vec![Block::default(); keep],
        keep,
    };
    loop {
        // The lock is held only while waiting for the next job.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&mut scratch),
            Err(_) => return,
        }
    }
}
