//! Statements without a ping before them: one that does the same thing run
//! twice (a read, or a write written to recognise its own second run: the
//! refresh rotation, a login's reservation, a session's insert) runs again
//! when it meets a broken connection instead.

use std::time::{Duration, Instant};

use sqlx::query::Query;
use sqlx::{Database, Error, Executor, IntoArguments};

use super::{Conns, refused_by_database};

/// A statement that can run again takes an idle connection used this
/// recently without a ping (`Conns::fetch_rerunnable`).
const NO_PING_WITHIN: Duration = Duration::from_secs(1);

impl<DB: Database> Conns<DB> {
    /// Runs the statement `query` builds and returns its row, if any; the
    /// statement must do the same thing when it runs twice (a read, or a
    /// write that recognises its own second run, as `rotate_refresh_token`,
    /// a login's reservation and a session's insert do). With `ping_idle` an idle connection that was in use within
    /// the last `NO_PING_WITHIN` is not pinged first (on Postgres a round
    /// trip for every statement on the token paths): if it turns out
    /// broken (its server restarted, say), `query` is built and run once
    /// more on a connection checked out as for any statement, pinged or
    /// new. Other writes keep the ping: one whose connection broke under
    /// it may or may not have committed. A connection idle for longer is
    /// pinged first, within the checkout timeout, as for any statement: one
    /// that a firewall dropped without a word (after minutes of quiet)
    /// would otherwise leave the statement waiting for TCP to give up.
    pub(in crate::store) async fn fetch_rerunnable<'q, A>(
        &self,
        query: impl Fn() -> Query<'q, DB, A>,
    ) -> Result<Option<DB::Row>, Error>
    where
        A: 'q + IntoArguments<'q, DB>,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    {
        if self.inner.settings.ping_idle {
            // A checkout that fails (a timeout, a refused connect) is the
            // answer: only the statement's own failure runs it again.
            let mut conn = self
                .acquire_pinging(|since: Instant| since.elapsed() >= NO_PING_WITHIN)
                .await?;
            let out = query().fetch_optional(conn.start()).await;
            conn.settle(&out);
            match out {
                // `conn` is closed as it drops, before the second run.
                Err(e) if !refused_by_database(&e) => {
                    tracing::debug!(error = %e, "a connection was broken: the statement runs again");
                }
                out => return out,
            }
        }
        self.lend(async |conn| query().fetch_optional(conn).await)
            .await
    }
}
