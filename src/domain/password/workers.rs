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

use std::mem::MaybeUninit;
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
            return f(&mut fresh_blocks(count));
        }
        if self.blocks.len() < count {
            self.blocks = fresh_blocks(count);
        }
        f(&mut self.blocks[..count])
    }
}

/// `count` zeroed argon2 blocks, in huge pages where the system allows.
fn fresh_blocks(count: usize) -> Vec<Block> {
    let mut blocks = Vec::with_capacity(count);
    advise_huge_pages(blocks.spare_capacity_mut());
    blocks.resize(count, Block::default());
    blocks
}

/// Asks the kernel to back `spare`, memory not yet touched, with transparent
/// huge pages. argon2 reads a pseudo-random earlier block
/// for every block it fills, so with 4 KiB pages nearly every one of those
/// reads misses the TLB (19 MiB is about 4,900 pages); 2 MiB pages cover the
/// whole block with ten. Logins measured 6-13 % faster with it
/// (docs/performance.md, (e)). Where transparent huge pages are off
/// (`never`) the advice does nothing, and where they are `always` it is
/// what the kernel did anyway; a refusal only leaves the small pages.
#[cfg(target_os = "linux")]
fn advise_huge_pages(spare: &mut [MaybeUninit<Block>]) {
    // SAFETY: sysconf only reads a constant of the system.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
        .unwrap_or(4096)
        .max(1);
    let start = spare.as_mut_ptr() as usize;
    let end = start + std::mem::size_of_val(spare);
    // Whole pages only: the kernel rounds a length up, which could reach
    // past the allocation.
    let (first, last) = (start.next_multiple_of(page), end - end % page);
    if last > first {
        // SAFETY: [first, last) is whole pages inside `spare`, which the
        // borrow keeps alive across the call; the advice changes
        // only how the kernel backs those pages, never their contents.
        unsafe {
            libc::madvise(
                first as *mut libc::c_void,
                last - first,
                libc::MADV_HUGEPAGE,
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_: &mut [MaybeUninit<Block>]) {}

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

    /// Queues `job` for a worker and returns without waiting for it.
    pub fn submit(&self, job: impl FnOnce(&mut Scratch) + Send + 'static) -> Result<(), HashError> {
        self.jobs
            .send(Box::new(job))
            .map_err(|_| HashError::Cancelled)
    }

    /// Runs `job` on a worker as soon as one is free (jobs queue in order).
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Scratch) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.submit(move |scratch| {
            let _ = done.send(job(scratch));
        })?;
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
            Ok(job) => {
                // A job that panics answers nobody (its reply is dropped,
                // its caller gets `Cancelled`), but the worker goes on:
                // ending the thread would leave the jobs queued behind it
                // to the other workers, or to none.
                let job = std::panic::AssertUnwindSafe(|| job(&mut scratch));
                if std::panic::catch_unwind(job).is_err() {
                    tracing::error!("a hashing job panicked; its worker goes on");
                }
            }
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

#[cfg(test)]
mod jobs {
    use super::*;

    /// A panicking job costs its caller an error, not the worker: the jobs
    /// after it still run (on one worker, where nothing else would).
    #[tokio::test]
    async fn a_job_that_panics_leaves_its_worker_running() {
        let workers = Workers::start(1, 0).unwrap();
        let panicked = workers.run(|_| -> u32 { panic!("a hashing job panicked") });
        assert!(matches!(panicked.await, Err(HashError::Cancelled)));
        for n in 0..3u32 {
            assert_eq!(workers.run(move |_| n).await.unwrap(), n);
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// `AnonHugePages` of the mapping that holds `addr`, from /proc/self/smaps.
    fn huge_kib_at(addr: usize) -> Option<u64> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            let range = line
                .split_once(' ')
                .and_then(|(range, _)| range.split_once('-'))
                .and_then(|(a, b)| {
                    Some((
                        usize::from_str_radix(a, 16).ok()?,
                        usize::from_str_radix(b, 16).ok()?,
                    ))
                });
            if let Some((start, end)) = range {
                inside = (start..end).contains(&addr);
            } else if inside && let Some(kib) = line.strip_prefix("AnonHugePages:") {
                return kib.trim().trim_end_matches("kB").trim().parse().ok();
            }
        }
        None
    }

    #[test]
    fn a_workers_memory_is_asked_for_in_huge_pages() {
        let mode = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .unwrap_or_default();
        if !mode.contains("[madvise]") && !mode.contains("[always]") {
            eprintln!("transparent huge pages are off here ({mode:?}): nothing to check");
            return;
        }
        // 40 MiB: above the highest threshold glibc moves its mmap threshold
        // to (32 MiB; the server fixes it at 256 KiB, a test process does
        // not), so the block is a fresh mapping as it is in the server, and
        // not heap memory that other tests' blocks touched already.
        let count = 40 * 1024;
        let mut scratch = Scratch {
            blocks: Vec::new(),
            keep: count,
        };
        // The middle of the block: its first page shares malloc's header
        // page and is left to small pages.
        let huge = scratch.with_blocks(count, |blocks| {
            let middle = blocks.as_ptr_range().start as usize + count * 512;
            huge_kib_at(middle).expect("the block's mapping is in smaps")
        });
        assert!(huge >= 2048, "{huge} KiB of the block in huge pages");
        // The next job reuses the same memory.
        let again = scratch.with_blocks(count, |blocks| blocks.as_ptr() as usize);
        assert_eq!(again, scratch.blocks.as_ptr() as usize);
    }
}
