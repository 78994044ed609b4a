//! Signatures served in the order they were asked for.
//!
//! A signature is most of a token's CPU (0.3-0.9 ms of a core, by CPU).
//! Signed inline, in the poll of the request that needs it, the runtime's
//! work-stealing queues decide which request signs next. Under load that
//! order is far from first-come, first-served, and the latency's spread
//! grows with it: p99 at 1.6-1.8 times the mean (docs/performance.md).
//!
//! Here a request queues its work and waits. At most one signer task per
//! runtime worker takes the oldest job, runs it, answers, and yields, so
//! that the other requests' cheap work (parsing, answering) runs between
//! two signatures. Signers are tasks of the same runtime, not threads of
//! their own: a hand-off wakes a task on the same worker, not a parked
//! thread on another core (a pool of threads cost client_credentials
//! 8-15 % of its rate on a 2-core VM). A job whose requester has gone is
//! dropped unrun.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::runtime::Handle;
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// Jobs' room the queue keeps once it has run dry (16 bytes each): a storm
/// of requests that waited together leaves no more than this behind.
const KEPT_ROOM: usize = 256;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// Signer tasks alive now.
    signers: usize,
}

/// A first-come, first-served queue of CPU work, run on the runtime's own
/// workers (one job per worker at a time).
#[derive(Default)]
pub struct Turns {
    queue: Mutex<Queue>,
}

/// Why a job was not answered: its signer task was dropped (the runtime
/// is shutting down) or the job panicked.
#[derive(Debug)]
pub struct Unanswered;

impl Turns {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `work` once the jobs queued before it have started, on a
    /// signer task of the current runtime; outside a runtime, at once.
    pub async fn run<T, F>(self: &Arc<Self>, work: F) -> Result<T, Unanswered>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let Ok(runtime) = Handle::try_current() else {
            return Ok(work());
        };
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            if !reply.is_closed() {
                let _ = reply.send(work());
            }
        });
        let start = {
            let mut queue = self.lock();
            queue.jobs.push_back(job);
            let start = queue.signers < runtime.metrics().num_workers();
            if start {
                queue.signers += 1;
            }
            start
        };
        if start {
            Signer::start(Arc::clone(self), &runtime);
        }
        answer.await.map_err(|_| Unanswered)
    }

    /// The oldest job; none ends the signer that asked (under the lock, so
    /// that a job queued meanwhile starts a signer of its own) and gives
    /// back the room a storm left beyond `KEPT_ROOM`.
    fn next(&self) -> Option<Job> {
        let mut queue = self.lock();
        let job = queue.jobs.pop_front();
        if job.is_none() {
            queue.signers -= 1;
            queue.jobs.shrink_to(KEPT_ROOM);
        }
        job
    }
}

/// A signer task's place among the queue's signers. Dropped while it still
/// holds it (a job panicked, or the runtime dropped the task), it gives
/// the place up; after a panic, it hands it to a new signer when jobs are
/// left, so that they do not wait for the next job to start one.
struct Signer {
    turns: Arc<Turns>,
    placed: bool,
}

impl Signer {
    /// A signer task in a place already counted in `signers`.
    fn start(turns: Arc<Turns>, runtime: &Handle) {
        let signer = Signer {
            turns,
            placed: true,
        };
        runtime.spawn(signer.serve());
    }

    async fn serve(mut self) {
        while let Some(job) = self.turns.next() {
            job();
            to_the_back().await;
        }
        // `next` gave the place up with the queue's lock held.
        self.placed = false;
    }
}

/// Lets the worker's other tasks run before this one runs again: a wake-up
/// of its own, which puts the task at the back of its worker's queue.
/// (`tokio::task::yield_now` holds the task back until the worker has
/// nothing else, then has the worker look for work on the others and poll
/// the I/O driver: once per signature, which measured fewer refreshes a
/// second and a wider spread, docs/performance.md.) New requests join the
/// queue when the worker polls the I/O driver, every
/// `cli::EVENT_INTERVAL` polls.
fn to_the_back() -> impl std::future::Future<Output = ()> {
    let mut woken = false;
    std::future::poll_fn(move |cx| {
        if woken {
            return std::task::Poll::Ready(());
        }
        woken = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
}

impl Drop for Signer {
    fn drop(&mut self) {
        if !self.placed {
            return;
        }
        let mut queue = self.turns.lock();
        let heir = std::thread::panicking() && !queue.jobs.is_empty();
        match Handle::try_current() {
            Ok(runtime) if heir => {
                drop(queue);
                Signer::start(Arc::clone(&self.turns), &runtime);
            }
            _ => queue.signers = queue.signers.saturating_sub(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::mpsc;
    use std::time::Duration;

    use futures_util::FutureExt as _;

    use super::*;

    fn runtime(workers: usize) -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .unwrap()
    }

    type Call<T> = Pin<Box<dyn Future<Output = Result<T, Unanswered>> + Send>>;

    /// `work` queued now: the call has been polled once and waits.
    fn queue<T: Send + 'static>(
        turns: &Arc<Turns>,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Call<T> {
        let turns = Arc::clone(turns);
        let mut call: Call<T> = Box::pin(async move { turns.run(work).await });
        assert!(
            (&mut call).now_or_never().is_none(),
            "answered before it waited"
        );
        call
    }

    /// A job that waits until `release` is sent to.
    fn held() -> (mpsc::Sender<()>, impl FnOnce() + Send + 'static) {
        let (release, held) = mpsc::channel::<()>();
        (release, move || held.recv().unwrap())
    }

    /// Jobs start in the order they were queued, whatever order their
    /// callers are polled in afterwards.
    #[test]
    fn jobs_start_first_come_first_served() {
        runtime(1).block_on(async {
            let turns = Arc::new(Turns::default());
            let (release, blocker) = held();
            let blocker = tokio::spawn(queue(&turns, blocker));
            let started = Arc::new(Mutex::new(Vec::new()));
            let mut calls: Vec<_> = (0..30)
                .map(|n| {
                    let started = Arc::clone(&started);
                    queue(&turns, move || {
                        started.lock().unwrap().push(n);
                        n
                    })
                })
                .collect();
            // Waited for last-first: the order of service does not follow.
            calls.reverse();
            let waiting: Vec<_> = calls.into_iter().map(tokio::spawn).collect();
            release.send(()).unwrap();
            blocker.await.unwrap().unwrap();
            for (call, n) in waiting.into_iter().zip((0..30).rev()) {
                assert_eq!(call.await.unwrap().unwrap(), n);
            }
            assert_eq!(*started.lock().unwrap(), (0..30).collect::<Vec<_>>());
        });
    }

    /// Every worker signs: as many jobs run at once as the runtime has
    /// workers.
    #[test]
    fn every_worker_runs_jobs() {
        runtime(2).block_on(async {
            let turns = Arc::new(Turns::default());
            let running = Arc::new(AtomicUsize::new(0));
            let most = Arc::new(AtomicUsize::new(0));
            let calls: Vec<_> = (0..20)
                .map(|_| {
                    let (running, most) = (Arc::clone(&running), Arc::clone(&most));
                    queue(&turns, move || {
                        most.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
                        std::thread::sleep(Duration::from_millis(2));
                        running.fetch_sub(1, SeqCst);
                    })
                })
                .collect();
            for call in calls.into_iter().map(tokio::spawn) {
                call.await.unwrap().unwrap();
            }
            assert_eq!(most.load(SeqCst), 2);
        });
    }

    /// A job whose caller stopped waiting is not run; a job that panics
    /// answers nobody, and the jobs queued behind it still run.
    #[test]
    fn abandoned_jobs_are_skipped_and_a_panic_stops_nothing() {
        runtime(1).block_on(async {
            let turns = Arc::new(Turns::default());
            let ran = Arc::new(Mutex::new(Vec::new()));
            let record = |n: u32| {
                let ran = Arc::clone(&ran);
                move || ran.lock().unwrap().push(n)
            };
            let (release, blocker) = held();
            let blocker = tokio::spawn(queue(&turns, blocker));
            drop(queue(&turns, record(1)));
            let panics = tokio::spawn(queue(&turns, || -> () { panic!("a job panicked") }));
            let after = tokio::spawn(queue(&turns, record(2)));
            release.send(()).unwrap();
            blocker.await.unwrap().unwrap();
            assert!(panics.await.unwrap().is_err(), "a panicked job is answered");
            tokio::time::timeout(Duration::from_secs(10), after)
                .await
                .expect("the job behind the panic waits for nobody")
                .unwrap()
                .unwrap();
            assert_eq!(*ran.lock().unwrap(), [2]);
            assert_eq!(turns.run(|| 7).await.unwrap(), 7);
        });
    }

    /// The room 10,000 jobs waiting together took is given back once the
    /// queue has run dry.
    #[test]
    fn a_storm_leaves_no_room_behind() {
        runtime(1).block_on(async {
            let turns = Arc::new(Turns::default());
            let (release, blocker) = held();
            let blocker = tokio::spawn(queue(&turns, blocker));
            let calls: Vec<_> = (0..10_000).map(|n| queue(&turns, move || n)).collect();
            assert!(turns.lock().jobs.capacity() >= 10_000);
            release.send(()).unwrap();
            blocker.await.unwrap().unwrap();
            for (call, n) in calls.into_iter().zip(0..) {
                assert_eq!(call.await.unwrap(), n);
            }
            // The last signer gives the room back as it finds the queue empty.
            tokio::time::timeout(Duration::from_secs(10), async {
                while turns.lock().signers > 0 {
                    tokio::task::yield_now().await;
                }
            })
            .await
            .expect("the signer ends once the queue is empty");
            assert!(turns.lock().jobs.capacity() <= KEPT_ROOM);
        });
    }

    #[test]
    fn outside_a_runtime_the_work_runs_at_once() {
        let turns = Arc::new(Turns::default());
        assert_eq!(turns.run(|| 5).now_or_never().unwrap().unwrap(), 5);
    }
}
