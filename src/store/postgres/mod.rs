//! Postgres: the store several instances share behind a load balancer.
//!
//! Every single-use operation is one conditional `UPDATE ... RETURNING`, which
//! under READ COMMITTED waits for a concurrent writer of the same row and then
//! re-checks its `WHERE` on the committed row, so a race has exactly one
//! winner whichever instance the requests reach. The pool gives up on a lost
//! database after `acquire_timeout` (default 3 s) so requests answer 503
//! instead of hanging. Two query parameters of the `database_url` size the
//! pool and are not passed on to the server: `max_connections` (default 10)
//! and `acquire_timeout` (seconds), e.g.
//! `postgres://idp@db/idp?max_connections=20&acquire_timeout=5`
//! (`options`, which also reads libpq's `sslrootcert=system`).

use std::time::Duration;

use sqlx::Connection as _;

use super::StoreError;
use super::conns::{Conns, Settings};

mod apikeys;
mod clients;
mod console;
#[cfg(test)]
mod grant_races;
mod grants;
mod keys;
mod lockouts;
mod mappers;
mod options;
mod roles;
mod secrets;
mod users;

use options::UrlSettings;

/// How long a connection is kept before it is replaced (sqlx's default).
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// How long a connection may stay idle before it is closed (sqlx's
/// default): after a storm each instance gives its connection slots back.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The connections, held outside sqlx's pool (`store::conns`): an idle one
/// is pinged before it is lent (a restarted server breaks them all), none is
/// pinged as it comes back.
pub struct PgStore {
    pool: Conns<sqlx::Postgres>,
}

pub(super) use super::shared::unavailable;

impl PgStore {
    /// Connects once, to fail fast with the server's own words (refused, no
    /// such database, bad password) rather than the pool's "timed out"; the
    /// pool then opens connections as requests need them.
    pub async fn open(database_url: &str) -> Result<Self, StoreError> {
        let settings = UrlSettings::parse(database_url)?;
        let options = settings
            .options()?
            .application_name("domino-idp")
            // NOTICEs ("relation _sqlx_migrations already exists, skipping"
            // at every start) would reach the log at INFO; warnings still do.
            .options([("client_min_messages", "warning")]);
        let target = format!(
            "postgres {}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );
        let probe = tokio::time::timeout(
            settings.acquire_timeout,
            sqlx::PgConnection::connect_with(&options),
        )
        .await
        .map_err(|_| {
            StoreError::Open(format!(
                "{target}: no answer within {}s",
                settings.acquire_timeout.as_secs()
            ))
        })?
        .map_err(|e| StoreError::Open(format!("{target}: {e}")))?;
        let settings = Settings {
            size: usize::try_from(settings.max_connections).unwrap_or(usize::MAX),
            checkout_timeout: settings.acquire_timeout,
            ping_idle: true,
            max_lifetime: Some(MAX_LIFETIME),
            idle_timeout: Some(IDLE_TIMEOUT),
        };
        Ok(PgStore {
            pool: Conns::with_first(options, settings, probe),
        })
    }
}

crate::store::shared::database!(PgStore, pool, pool, "./migrations/postgres");

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::postgres::PgConnectOptions;

    use super::*;

    /// A database that a newer release migrated is refused with a reason an
    /// operator can act on (an instance of the old release restarting in
    /// the middle of an upgrade).
    #[tokio::test]
    async fn a_database_from_a_newer_release_is_refused_clearly() {
        use crate::store::scenarios;
        let Some((store, url)) = testdb::fresh().await else {
            return;
        };
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        let future = sqlx::query(scenarios::FUTURE_MIGRATION_SQL).bind(vec![0u8]);
        future.execute(&mut conn).await.unwrap();
        scenarios::a_newer_release_is_named(&store).await;
    }

    /// Server processes of the connections named `app`.
    async fn backends(server: &str, app: &str) -> i64 {
        let mut admin = sqlx::PgConnection::connect(server).await.unwrap();
        let n =
            sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1")
                .bind(app)
                .fetch_one(&mut admin)
                .await
                .unwrap();
        admin.close().await.ok();
        n
    }

    /// A read takes an idle connection without pinging it first; one whose
    /// server process is gone (a restart, an administrator's terminate)
    /// costs the read nothing: it runs again, on a fresh connection.
    #[tokio::test]
    async fn a_read_on_a_dead_connection_runs_again() {
        use sqlx::Row as _;
        let Some((_, url)) = testdb::fresh().await else {
            return;
        };
        let conns = Conns::<sqlx::Postgres>::open(
            PgConnectOptions::from_str(&url).unwrap(),
            Settings {
                size: 1,
                checkout_timeout: Duration::from_secs(5),
                ping_idle: true,
                max_lifetime: None,
                idle_timeout: None,
            },
        )
        .await
        .unwrap();
        let pid = async || -> i32 {
            let row = conns
                .fetch_rerunnable(|| sqlx::query("SELECT pg_backend_pid()"))
                .await
                .unwrap();
            row.unwrap().get(0)
        };
        let first = pid().await;
        assert_eq!(pid().await, first, "an idle connection is reused");
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query("SELECT pg_terminate_backend($1)")
            .bind(first)
            .execute(&mut admin)
            .await
            .unwrap();
        for _ in 0..100 {
            let alive: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
                    .bind(first)
                    .fetch_one(&mut admin)
                    .await
                    .unwrap();
            if !alive {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let second = pid().await;
        assert_ne!(second, first, "the read ran on a fresh connection");
        assert_eq!(pid().await, second, "and that one is kept");
    }

    /// After a burst the server gets its connection slots back: the idle
    /// connections are closed (their server processes end) without any
    /// request asking.
    #[tokio::test]
    async fn idle_connections_are_given_back_to_the_server() {
        let Some((_, url)) = testdb::fresh().await else {
            return;
        };
        let app = format!("idp_idle_{}", uuid::Uuid::new_v4().simple());
        let options = PgConnectOptions::from_str(&url)
            .unwrap()
            .application_name(&app);
        let timeout = Duration::from_millis(300);
        let conns = Conns::<sqlx::Postgres>::open(
            options,
            Settings {
                size: 3,
                checkout_timeout: Duration::from_secs(5),
                ping_idle: true,
                max_lifetime: Some(MAX_LIFETIME),
                idle_timeout: Some(timeout),
            },
        )
        .await
        .unwrap();
        let burst: Vec<_> = futures_util::future::join_all((0..3).map(|_| conns.acquire()))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        drop(burst);
        assert_eq!(backends(&url, &app).await, 3);
        tokio::time::sleep(timeout * 3).await;
        assert_eq!(backends(&url, &app).await, 0, "idle connections still open");
        let one: i32 = sqlx::query_scalar("SELECT 1")
            .fetch_one(&conns)
            .await
            .unwrap();
        assert_eq!(one, 1, "the set opens a fresh one when asked");
    }
}

/// A fresh database on the server `IDP_TEST_POSTGRES_URL` names, for the
/// tests of this module; `None` (the tests skip) when it is unset.
#[cfg(test)]
pub(super) mod testdb {
    use sqlx::Connection as _;

    use super::PgStore;
    use crate::store::Database as _;

    pub async fn fresh() -> Option<(PgStore, String)> {
        let server = std::env::var("IDP_TEST_POSTGRES_URL").ok()?;
        let name = format!("idp_u_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.ok();
        let mut url = url::Url::parse(&server).unwrap();
        url.set_path(&name);
        let store = PgStore::open(url.as_str()).await.unwrap();
        store.migrate().await.unwrap();
        Some((store, url.into()))
    }
}
