//! Admin actions are rate-limited per admin: at most `PER_MINUTE` changes
//! in a fixed one-minute window, counted in this process on the issuer's
//! clock. A runaway script or a stolen session cannot churn the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::clock::Clock;

pub const PER_MINUTE: u32 = 60;

#[derive(Clone, Default)]
pub struct Limiter {
    windows: Arc<Mutex<HashMap<String, (i64, u32)>>>,
}

impl Limiter {
    /// Counts one action of `who`; `Err(seconds)` to wait when over the limit.
    pub fn allow(&self, who: &str, clock: &dyn Clock) -> Result<(), u64> {
        let now = clock.now_ms();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now - *start < 60_000);
        }
        let entry = windows.entry(who.to_owned()).or_insert((now, 0));
        if now - entry.0 >= 60_000 {
            *entry = (now, 0);
        }
        if entry.1 >= PER_MINUTE {
            let wait = (entry.0 + 60_000 - now + 999) / 1000;
            return Err(u64::try_from(wait).unwrap_or(1).max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::TestClock;

    #[test]
    fn sixty_changes_a_minute_per_admin_then_a_wait() {
        let clock = TestClock::new();
        let limiter = Limiter::default();
        for _ in 0..PER_MINUTE {
            assert!(limiter.allow("a", &clock).is_ok());
        }
        let wait = limiter.allow("a", &clock).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        // Another admin has a budget of their own.
        assert!(limiter.allow("b", &clock).is_ok());
        clock.advance(Duration::from_secs(60));
        assert!(limiter.allow("a", &clock).is_ok());
    }
}
