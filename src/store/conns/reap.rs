//! Closing the connections left idle too long (`Settings::idle_timeout`).

use std::sync::Weak;
use std::time::Duration;

use sqlx::{Connection as _, Database};

use super::Inner;

/// How often the idle connections are looked at, at most.
const REAP_EVERY: Duration = Duration::from_secs(30);

/// Every `idle_timeout` (or every 30 s if that is longer), closes the
/// connections idle past their timeout or their lifetime, politely, so the
/// server does not log a lost client; ends when the set is dropped.
pub(super) async fn reap<DB: Database>(inner: Weak<Inner<DB>>, idle_timeout: Duration) {
    let every = idle_timeout.min(REAP_EVERY);
    loop {
        tokio::time::sleep(every).await;
        let Some(stale) = inner.upgrade().map(|inner| inner.take_stale()) else {
            return;
        };
        for conn in stale {
            // Closing is a courtesy: a connection that cannot say goodbye
            // is dropped all the same.
            let _ = conn.close().await;
        }
    }
}

impl<DB: Database> Inner<DB> {
    /// Takes the stale connections out of the idle list.
    fn take_stale(&self) -> Vec<DB::Connection> {
        let mut idle = self.lock_idle();
        let (stale, kept) = std::mem::take(&mut *idle)
            .into_iter()
            .partition::<Vec<_>, _>(|i| self.stale(i.opened, i.since));
        *idle = kept;
        stale.into_iter().map(|i| i.conn).collect()
    }
}
