//! How long checks with the configured parameters take, so that a check
//! against a cheaper stored hash (a user seeded or migrated with other
//! argon2 parameters, until their next login rehashes it) can be padded to
//! the same time: otherwise the answer time tells that the user exists.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

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
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Reference {
    /// Starts from `first`, a check measured at start. It counts as one
    /// check, not as `SAMPLES`: measured while the process was starting, it
    /// may be far from the checks that follow.
    pub fn new(first: Duration) -> Reference {
        Reference {
            // Every slot holds a real duration, even one not yet written.
            recent: std::array::from_fn(|_| AtomicU64::new(nanos(first))),
            kept: AtomicUsize::new(1),
        }
    }

    /// Keeps a check with the configured parameters that took `took`,
    /// in place of the oldest.
    pub fn record(&self, took: Duration) {
        let slot = self.kept.fetch_add(1, Ordering::Relaxed) % SAMPLES;
        self.recent[slot].store(nanos(took), Ordering::Relaxed);
    }

    /// How much longer a check that took `took` must wait to answer when a
    /// check with the configured parameters would have.
    pub fn shortfall(&self, took: Duration) -> Duration {
        let kept = self.kept.load(Ordering::Relaxed).clamp(1, SAMPLES);
        // 64 random bits reduced modulo at most `SAMPLES`: no bias worth the name.
        let slot = (u64::from_le_bytes(random_bytes()) % kept as u64) as usize;
        Duration::from_nanos(self.recent[slot].load(Ordering::Relaxed)).saturating_sub(took)
    }

    /// The shortest recent check: no padded check answers sooner.
    #[cfg(test)]
    pub fn shortest(&self) -> Duration {
        let least = self.recent.iter().map(|n| n.load(Ordering::Relaxed)).min();
        Duration::from_nanos(least.unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_to_a_recent_check() {
        let ms = Duration::from_millis;
        let r = Reference::new(ms(30));
        assert_eq!(r.shortfall(ms(4)), ms(26));
        assert_eq!(r.shortfall(ms(200)), Duration::ZERO);
        // The first check made at start weighs as one among the next.
        r.record(ms(10));
        let waits: std::collections::BTreeSet<_> = (0..200).map(|_| r.shortfall(ms(0))).collect();
        assert_eq!(waits, [ms(10), ms(30)].into());
        for n in 2..=SAMPLES as u64 {
            r.record(ms(n));
        }
        assert_eq!(r.shortest(), ms(2));
        r.record(ms(1));
        assert_eq!(r.shortest(), ms(1));
        let waits: std::collections::BTreeSet<_> = (0..2000).map(|_| r.shortfall(ms(0))).collect();
        assert!(waits.len() > SAMPLES / 2, "{waits:?}");
        assert!(
            waits.iter().all(|w| (ms(1)..=ms(32)).contains(w)),
            "{waits:?}"
        );
        // The oldest goes first: as many new checks replace them all.
        for _ in 0..SAMPLES {
            r.record(ms(50));
        }
        assert_eq!(r.shortest(), ms(50));
        assert_eq!(r.shortfall(ms(20)), ms(30));
    }
}
