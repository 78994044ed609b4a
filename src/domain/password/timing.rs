//! How long a check with the configured parameters takes, so that a check
//! against a cheaper stored hash (a user seeded or migrated with other
//! argon2 parameters, until their next login rehashes it) can be padded to
//! it: otherwise the answer time tells that the user exists.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// An exponentially weighted moving average of the checks with the
/// configured parameters (the unknown users' dummy hash included), in
/// nanoseconds. It follows the machine's load; one slow outlier moves it by
/// an eighth.
pub(super) struct Reference {
    nanos: AtomicU64,
}

/// The weight of the newest check is 1/WINDOW.
const WINDOW: u64 = 8;

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Reference {
    pub fn new(first: Duration) -> Reference {
        Reference {
            nanos: AtomicU64::new(nanos(first)),
        }
    }

    pub fn get(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    /// Folds in a check with the configured parameters that took `took`.
    pub fn record(&self, took: Duration) {
        let sample = nanos(took);
        // `fetch_update` retries on a race, so no sample is lost.
        let _ = self
            .nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some((old - old / WINDOW).saturating_add(sample / WINDOW))
            });
    }

    /// How much longer a check that took `took` must wait to answer when
    /// a check with the configured parameters would have.
    pub fn shortfall(&self, took: Duration) -> Duration {
        self.get().saturating_sub(took)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_checks_and_pads_the_shorter_ones() {
        let r = Reference::new(Duration::from_millis(30));
        assert_eq!(
            r.shortfall(Duration::from_millis(4)),
            Duration::from_millis(26)
        );
        assert_eq!(r.shortfall(Duration::from_millis(200)), Duration::ZERO);
        r.record(Duration::from_millis(110));
        assert_eq!(r.get(), Duration::from_millis(40));
        for _ in 0..100 {
            r.record(Duration::from_millis(20));
        }
        let settled = r.get().as_secs_f64() * 1000.0;
        assert!((19.9..=20.1).contains(&settled), "{settled} ms");
    }
}
