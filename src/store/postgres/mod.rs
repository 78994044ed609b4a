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
//! `postgres://idp@db/idp?max_connections=20&acquire_timeout=5`.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::{
    CodeRecord, CodeRedemption, FailureKind, LockPolicy, LockState, Lockout, RefreshClaim,
    RefreshRecord, Reservation, SessionRecord, Store, StoreError, StoredKey, StoredKeyDates,
    UserRecord,
};
use crate::domain::client::Client;
use crate::domain::mapper::MapperSpec;
use crate::domain::user::User;

mod clients;
mod grants;
mod keys;
mod lockouts;
mod mappers;
mod users;

const DEFAULT_MAX_CONNECTIONS: u32 = 10;
const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

pub struct PgStore {
    pool: PgPool,
}

pub(super) fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// A unique violation as `Conflict(message)`, anything else as `Unavailable`.
pub(super) fn conflict_or_unavailable(
    e: sqlx::Error,
    message: impl FnOnce() -> String,
) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(message()),
        _ => unavailable(e),
    }
}

/// Postgres text cannot hold U+0000, so a key containing it names nothing;
/// lookups answer "not found" instead of sending the server an invalid string.
pub(super) fn unstorable(key: &str) -> bool {
    key.contains('\0')
}

/// The pool settings a `database_url` carries, and the URL without them.
struct PoolSettings {
    url: String,
    max_connections: u32,
    acquire_timeout: Duration,
}

impl PoolSettings {
    fn parse(database_url: &str) -> Result<PoolSettings, StoreError> {
        let bad = |why: String| StoreError::Open(format!("database_url: {why}"));
        let mut url = url::Url::parse(database_url).map_err(|e| bad(e.to_string()))?;
        let mut settings = PoolSettings {
            url: String::new(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        };
        let mut kept = Vec::new();
        let mut taken = false;
        for (key, value) in url.query_pairs() {
            taken |= matches!(key.as_ref(), "max_connections" | "acquire_timeout");
            match key.as_ref() {
                "max_connections" => {
                    settings.max_connections = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=1000).contains(n))
                        .ok_or_else(|| {
                            bad(format!(
                                "max_connections={value}: use a number from 1 to 1000"
                            ))
                        })?;
                }
                "acquire_timeout" => {
                    let secs: u64 = value
                        .parse()
                        .ok()
                        .filter(|s| (1..=300).contains(s))
                        .ok_or_else(|| {
                            bad(format!(
                                "acquire_timeout={value}: use seconds from 1 to 300"
                            ))
                        })?;
                    settings.acquire_timeout = Duration::from_secs(secs);
                }
                _ => kept.push((key.into_owned(), value.into_owned())),
            }
        }
        // A URL without pool settings reaches sqlx exactly as written.
        settings.url = if !taken {
            database_url.to_owned()
        } else if kept.is_empty() {
            url.set_query(None);
            url.into()
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
            url.into()
        };
        Ok(settings)
    }
}

impl PgStore {
    /// Connects once, to fail fast with the server's own words (refused, no
    /// such database, bad password) rather than the pool's "timed out"; the
    /// pool then opens connections as requests need them.
    pub async fn open(database_url: &str) -> Result<Self, StoreError> {
        let settings = PoolSettings::parse(database_url)?;
        let options = PgConnectOptions::from_str(&settings.url)
            .map_err(|e| StoreError::Open(format!("database_url: {e}")))?
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
        let _ = probe.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .connect_lazy_with(options);
        Ok(PgStore { pool })
    }
}

pub(super) use crate::store::rows::{from_json, to_json};

// Each method forwards to the inherent method of the same name in
// users.rs, clients.rs, mappers.rs, grants.rs or lockouts.rs, where the SQL lives.
#[async_trait]
impl Store for PgStore {
    /// sqlx holds a Postgres advisory lock (keyed by the database name) while
    /// it migrates, so instances starting together apply each step once.
    async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Open(format!("migration failed: {e}")))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn insert_user(&self, record: &UserRecord) -> Result<User, StoreError> {
        PgStore::insert_user(self, record).await
    }

    async fn insert_user_if_absent(&self, record: &UserRecord) -> Result<bool, StoreError> {
        PgStore::insert_user_if_absent(self, record).await
    }

    async fn find_user_for_login(&self, login_key: &str) -> Result<Option<User>, StoreError> {
        PgStore::find_user_for_login(self, login_key).await
    }

    async fn get_user(&self, username_key: &str) -> Result<Option<User>, StoreError> {
        PgStore::get_user(self, username_key).await
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        PgStore::list_users(self).await
    }

    async fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<bool, StoreError> {
        PgStore::set_password_hash(self, user_id, hash).await
    }

    async fn set_enabled(&self, username_key: &str, enabled: bool) -> Result<bool, StoreError> {
        PgStore::set_enabled(self, username_key, enabled).await
    }

    async fn delete_user(&self, username_key: &str) -> Result<bool, StoreError> {
        PgStore::delete_user(self, username_key).await
    }

    async fn get_user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        PgStore::get_user_by_id(self, id).await
    }

    async fn insert_client(&self, client: &Client) -> Result<(), StoreError> {
        PgStore::insert_client(self, client).await
    }

    async fn insert_client_if_absent(&self, client: &Client) -> Result<bool, StoreError> {
        PgStore::insert_client_if_absent(self, client).await
    }

    async fn get_client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        PgStore::get_client(self, client_id).await
    }

    async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
        PgStore::list_clients(self).await
    }

    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError> {
        PgStore::delete_client(self, client_id).await
    }

    async fn insert_mapper(&self, spec: &MapperSpec) -> Result<(), StoreError> {
        PgStore::insert_mapper(self, spec).await
    }

    async fn insert_mapper_if_absent(&self, spec: &MapperSpec) -> Result<bool, StoreError> {
        PgStore::insert_mapper_if_absent(self, spec).await
    }

    async fn list_mappers(&self) -> Result<Vec<MapperSpec>, StoreError> {
        PgStore::list_mappers(self).await
    }

    async fn delete_mapper(&self, name: &str) -> Result<bool, StoreError> {
        PgStore::delete_mapper(self, name).await
    }

    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        PgStore::insert_session(self, session).await
    }

    async fn get_session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        PgStore::get_session(self, id).await
    }

    async fn find_session_by_cookie(
        &self,
        cookie_hash: &str,
    ) -> Result<Option<SessionRecord>, StoreError> {
        PgStore::find_session_by_cookie(self, cookie_hash).await
    }

    async fn end_session(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        PgStore::end_session(self, id, now).await
    }

    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StoreError> {
        PgStore::insert_code(self, code).await
    }

    async fn redeem_code(&self, code_hash: &str, now: i64) -> Result<CodeRedemption, StoreError> {
        PgStore::redeem_code(self, code_hash, now).await
    }

    async fn set_code_family(&self, code_hash: &str, family_id: &str) -> Result<(), StoreError> {
        PgStore::set_code_family(self, code_hash, family_id).await
    }

    async fn insert_refresh(&self, token: &RefreshRecord) -> Result<(), StoreError> {
        PgStore::insert_refresh(self, token).await
    }

    async fn claim_refresh(&self, token_hash: &str, now: i64) -> Result<RefreshClaim, StoreError> {
        PgStore::claim_refresh(self, token_hash, now).await
    }

    async fn get_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError> {
        PgStore::get_refresh(self, token_hash).await
    }

    async fn revoke_family(&self, family_id: &str, now: i64) -> Result<u64, StoreError> {
        PgStore::revoke_family(self, family_id, now).await
    }

    async fn deny_jti(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        PgStore::deny_jti(self, jti, expires_at).await
    }

    async fn is_jti_denied(&self, jti: &str) -> Result<bool, StoreError> {
        PgStore::is_jti_denied(self, jti).await
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let grants = PgStore::purge_expired(self, now).await?;
        let counters = PgStore::purge_login_failures(self, now.saturating_mul(1000)).await?;
        Ok(grants + counters)
    }

    async fn record_login_failure(
        &self,
        kind: FailureKind,
        key: &str,
        now_ms: i64,
        policy: &LockPolicy,
    ) -> Result<LockState, StoreError> {
        PgStore::record_login_failure(self, kind, key, now_ms, policy).await
    }

    async fn reserve_login_attempt(
        &self,
        kind: FailureKind,
        key: &str,
        now_ms: i64,
        policy: &LockPolicy,
        lease_ms: i64,
        nonce: i64,
    ) -> Result<Reservation, StoreError> {
        PgStore::reserve_login_attempt(self, kind, key, now_ms, policy, lease_ms, nonce).await
    }

    async fn release_login_attempt(
        &self,
        kind: FailureKind,
        key: &str,
        succeeded: bool,
    ) -> Result<(), StoreError> {
        PgStore::release_login_attempt(self, kind, key, succeeded).await
    }

    async fn login_lock(
        &self,
        kind: FailureKind,
        key: &str,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        PgStore::login_lock(self, kind, key, now_ms).await
    }

    async fn clear_login_failures(&self, kind: FailureKind, key: &str) -> Result<bool, StoreError> {
        PgStore::clear_login_failures(self, kind, key).await
    }

    async fn list_lockouts(&self, now_ms: i64) -> Result<Vec<Lockout>, StoreError> {
        PgStore::list_lockouts(self, now_ms).await
    }

    async fn list_signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        PgStore::list_signing_keys(self).await
    }

    async fn add_signing_key(
        &self,
        key: &StoredKey,
        pins: &[(String, StoredKeyDates)],
    ) -> Result<bool, StoreError> {
        PgStore::add_signing_key(self, key, pins).await
    }

    async fn update_signing_key(
        &self,
        kid: &str,
        dates: &StoredKeyDates,
        archived_at: Option<i64>,
    ) -> Result<bool, StoreError> {
        PgStore::update_signing_key(self, kid, dates, archived_at).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_settings_are_taken_out_of_the_url() {
        let s = PoolSettings::parse(
            "postgres://idp@db:5432/idp?max_connections=20&sslmode=disable&acquire_timeout=5",
        )
        .unwrap();
        assert_eq!(s.url, "postgres://idp@db:5432/idp?sslmode=disable");
        assert_eq!(s.max_connections, 20);
        assert_eq!(s.acquire_timeout, Duration::from_secs(5));
        let s = PoolSettings::parse("postgresql://idp@db/idp?max_connections=3").unwrap();
        assert_eq!(s.url, "postgresql://idp@db/idp");
        let plain = "postgres://idp:p%40ss@db/idp?options=-c%20search_path%3Didp";
        let s = PoolSettings::parse(plain).unwrap();
        assert_eq!(s.url, plain);
        assert_eq!(
            (s.max_connections, s.acquire_timeout),
            (DEFAULT_MAX_CONNECTIONS, DEFAULT_ACQUIRE_TIMEOUT)
        );
        for bad in [
            "max_connections=0",
            "max_connections=x",
            "acquire_timeout=0",
        ] {
            let err = PoolSettings::parse(&format!("postgres://db/idp?{bad}"))
                .err()
                .unwrap();
            assert!(
                err.to_string().contains(bad.split('=').next().unwrap()),
                "{err}"
            );
        }
    }
}

/// A fresh database on the server `IDP_TEST_POSTGRES_URL` names, for the
/// tests of this module; `None` (the tests skip) when it is unset.
#[cfg(test)]
pub(super) mod testdb {
    use sqlx::Connection as _;

    use super::PgStore;
    use crate::store::Store as _;

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
