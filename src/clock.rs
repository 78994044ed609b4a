//! The one place the wall clock is read. Operations take "now" from the
//! `Issuer`'s `Clock`; tests give it a `TestClock` and move time forward
//! instead of sleeping through a lockout or an expiry.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;

/// Unix time, as the issuer sees it.
pub trait Clock: Send + Sync {
    /// Unix milliseconds.
    fn now_ms(&self) -> i64;

    /// Unix seconds.
    fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// The same instant as a date and time (UTC).
    fn now_utc(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.now_ms()) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        i64::try_from(nanos).unwrap_or(i64::MAX)
    }
}

/// The system's clock plus a skew that only grows: time still passes, and a
/// test can jump ahead.
#[derive(Debug, Default)]
pub struct TestClock {
    skew_ms: AtomicI64,
}

impl TestClock {
    pub fn new() -> TestClock {
        TestClock::default()
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.skew_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        SystemClock
            .now_ms()
            .saturating_add(self.skew_ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_clock_moves_forward_on_demand() {
        let clock = TestClock::new();
        let before = clock.now_ms();
        clock.advance(Duration::from_secs(90));
        let after = clock.now_ms();
        assert!(after - before >= 90_000 && after - before < 95_000);
        assert_eq!(clock.now(), after.div_euclid(1000));
        assert_eq!(clock.now_utc().unix_timestamp(), clock.now());
    }
}
