//! How long checks with the configured parameters take, so that a check
//! against a cheaper stored hash (a user seeded or migrated with other
//! argon2 parameters, until their next login rehashes it) can be padded to
//! the same time: otherwise the answer time tells that the user exists.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use crate::domain::opaque::random_bytes;

/// How many recent checks are kept.
pub(super) const SAMPLES: usize = 8;

/// The durations of the most recent checks with the configured parameters
/// (the unknown users' dummy hash included), in nanoseconds. A padded check
/// waits for one of them picked at random, so padded answers have the same
/// median, spread and tail as real ones, and follow the machine's load.
pub(super) struct Reference {
    recent: [AtomicU64; SAMPLES],
    /// How many checks were kept; the next goes to `kept % SAMPLES`.
    kept: AtomicUsize,
    /// Whether the first check is in: until then there is nothing to pad to.
    measured: watch::Sender<bool>,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Reference {
    /// A reference with no check yet (one is measured as the server starts).
    pub fn new() -> Reference {
        Reference {
            recent: std::array::from_fn(|_| AtomicU64::new(0)),
            kept: AtomicUsize::new(0),
            measured: watch::Sender::new(false),
        }
    }

    /// Keeps a check with the configured parameters that took `took`, in
    /// place of the oldest. The first one stands in every slot but counts
    /// as one check, not as `SAMPLES`: measured while the process was
    /// starting, it may be far from the checks that follow.
    pub fn record(&self, took: Duration) {
        // The flag's lock makes the first fill one step: a check recorded
        // meanwhile waits for it, then takes a slot as any other.
        let was_first = self.measured.send_if_modified(|measured| {
            if *measured {
                return false;
            }
            for slot in &self.recent {
                slot.store(nanos(took), Ordering::Relaxed);
            }
            self.kept.store(1, Ordering::Relaxed);
            *measured = true;
            true
        });
        if was_first {
            return;
        }
        let slot = self.kept.fetch_add(1, Ordering::Relaxed) % SAMPLES;
        self.recent[slot].store(nanos(took), Ordering::Relaxed);
    }

    /// Waits for the first check (at once after it).
    pub async fn first_check(&self) {
        // The sender lives in `self`, so the wait ends only with a check.
        let _ = self
            .measured
            .subscribe()
            .wait_for(|measured| *measured)
            .await;
    }

    /// How much longer a check that took `took` must wait to answer when a
    /// check with the configured parameters would have.
    pub async fn shortfall(&self, took: Duration) -> Duration {
        self.first_check().await;
        let kept = self.kept.load(Ordering::Relaxed).clamp(1, SAMPLES);
        // 64 random bits reduced modulo at most `SAMPLES`: no bias worth the name.
        let slot = (u64::from_le_bytes(random_bytes()) % kept as u64) as usize;
        Duration::from_nanos(self.recent[slot].load(Ordering::Relaxed)).saturating_sub(took)
    }

    /// The shortest recent check: no padded check answers sooner.
    #[cfg(test)]
    pub async fn shortest(&self) -> Duration {
        self.first_check().await;
        let least = self.recent.iter().map(|n| n.load(Ordering::Relaxed)).min();
        Duration::from_nanos(least.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn waits(r: &Reference, n: usize) -> std::collections::BTreeSet<Duration> {
        let mut all = std::collections::BTreeSet::new();
        for _ in 0..n {
            all.insert(r.shortfall(Duration::ZERO).await);
        }
        all
    }

    #[tokio::test]
    async fn pads_to_a_recent_check() {
        let ms = Duration::from_millis;
        let r = Reference::new();
        r.record(ms(30));
        assert_eq!(r.shortfall(ms(4)).await, ms(26));
        assert_eq!(r.shortfall(ms(200)).await, Duration::ZERO);
        // The first check made at start weighs as one among the next.
        r.record(ms(10));
        assert_eq!(waits(&r, 200).await, [ms(10), ms(30)].into());
        for n in 2..=SAMPLES as u64 {
            r.record(ms(n));
        }
        assert_eq!(r.shortest().await, ms(2));
        r.record(ms(1));
        assert_eq!(r.shortest().await, ms(1));
        let all = waits(&r, 2000).await;
        assert!(all.len() > SAMPLES / 2, "{all:?}");
        assert!(all.iter().all(|w| (ms(1)..=ms(32)).contains(w)), "{all:?}");
        // The oldest goes first: as many new checks replace them all.
        for _ in 0..SAMPLES {
            r.record(ms(50));
        }
        assert_eq!(r.shortest().await, ms(50));
        assert_eq!(r.shortfall(ms(20)).await, ms(30));
    }

    /// Before the first check there is nothing to pad to: a padded check
    /// waits for it rather than answer at once.
    #[tokio::test]
    async fn a_padded_check_waits_for_the_first_check() {
        let ms = Duration::from_millis;
        let r = std::sync::Arc::new(Reference::new());
        let early = tokio::spawn({
            let r = r.clone();
            async move { r.shortfall(ms(4)).await }
        });
        tokio::time::sleep(ms(50)).await;
        assert!(
            !early.is_finished(),
            "a padded check answered with no reference"
        );
        r.record(ms(30));
        assert_eq!(early.await.unwrap(), ms(26));
    }
}
