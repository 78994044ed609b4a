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
