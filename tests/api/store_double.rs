//! A store that stands in front of the real one for tests: it can be
//! switched off, and it counts calls.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use domino_idp::domain::client::Client;
use domino_idp::domain::mapper::MapperSpec;
use domino_idp::domain::role::{Holder, Role, RoleRef};
use domino_idp::domain::user::{NewUser, User};
use domino_idp::store::{
    ApiKeyHolder, ApiKeyRecord, ApiKeyStore, BearerHolder, ClientStore, CodeRecord, CodeRedemption,
    ConsoleSessionRecord, ConsoleStore, Database, Expiring, FailureKind, GrantStore, LockPolicy,
    LockState, Lockout, LockoutStore, MapperStore, RealmSecretStore, RefreshClaim, RefreshHolder,
    RefreshRecord, Reservation, RoleGrant, RoleStore, SessionRecord, SessionSummary,
    SigningKeyStore, Store, StoreError, StoredKey, StoredKeyDates, UserRecord, UserStore,
};

/// The real store with a switch that makes it unreachable, to stand in for a
/// database that went away (tests/api/pg_outage.rs stops a real Postgres),
/// and a count of the calls of each area method.
pub struct Flaky {
    inner: Arc<dyn Store>,
    pub down: AtomicBool,
    calls: Mutex<HashMap<&'static str, usize>>,
}

impl Flaky {
    pub fn new(inner: Arc<dyn Store>) -> Flaky {
        Flaky {
            inner,
            down: AtomicBool::new(false),
            calls: Mutex::default(),
        }
    }

    /// How many times the area method `name` was called.
    pub fn calls(&self, name: &str) -> usize {
        self.calls.lock().unwrap().get(name).copied().unwrap_or(0)
    }

    fn up(&self, name: &'static str) -> Result<(), StoreError> {
        *self.calls.lock().unwrap().entry(name).or_default() += 1;
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("connection refused".into()));
        }
        Ok(())
    }
}

/// Implements one area trait for `Flaky`: every call fails while down.
macro_rules! forward_when_up {
    ($trait:ident { $($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)* }) => {
        #[async_trait::async_trait]
        impl $trait for Flaky {
            $(async fn $name(&self, $($arg: $ty),*) -> Result<$ret, StoreError> {
                self.up(stringify!($name))?;
                self.inner.$name($($arg),*).await
            })*
        }
    };
}

#[async_trait::async_trait]
impl Database for Flaky {
    async fn migrate(&self) -> Result<(), StoreError> {
        self.inner.migrate().await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.up("ping")?;
        self.inner.ping().await
    }
    async fn config_version(&self) -> Result<i64, StoreError> {
        self.up("config_version")?;
        self.inner.config_version().await
    }
}

forward_when_up!(UserStore {
    update_user(id: &str, u: &NewUser) -> bool;
    insert_user(r: &UserRecord) -> User;
    insert_user_if_absent(r: &UserRecord) -> bool;
    find_user_for_login(key: &str) -> Option<User>;
    get_user(key: &str) -> Option<User>;
    list_users() -> Vec<User>;
    set_password_hash(id: &str, hash: &str) -> bool;
    set_enabled(key: &str, enabled: bool) -> bool;
    delete_user(key: &str) -> bool;
    get_user_by_id(id: &str) -> Option<User>;
    get_user_with_session(id: &str, session: &str) -> Option<(User, Option<SessionRecord>)>;
    get_refresh_with_holder(hash: &str) -> Option<RefreshHolder>;
    get_session_with_user(session: &str) -> Option<(SessionRecord, User)>;
    get_bearer_holder(session: &str, jti: &str) -> BearerHolder;
    find_session_by_cookie_with_user(hash: &str) -> Option<(SessionRecord, User)>;
    find_api_key_holder(hash: &str) -> Option<ApiKeyHolder>;
    find_api_key_holder_and_lock(hash: &str, ip: &str, now: i64) -> (Option<i64>, Option<ApiKeyHolder>);
});

forward_when_up!(ClientStore {
    update_client(c: &Client) -> bool;
    insert_client(c: &Client) -> ();
    insert_client_if_absent(c: &Client) -> bool;
    get_client(id: &str) -> Option<Client>;
    list_clients() -> Vec<Client>;
    delete_client(id: &str) -> bool;
});

forward_when_up!(MapperStore {
    insert_mapper(m: &MapperSpec) -> ();
    insert_mapper_if_absent(m: &MapperSpec) -> bool;
    list_mappers() -> Vec<MapperSpec>;
    delete_mapper(name: &str) -> bool;
});

forward_when_up!(GrantStore {
    insert_session(s: &SessionRecord) -> ();
    get_session(id: &str) -> Option<SessionRecord>;
    end_session(id: &str, now: i64) -> bool;
    insert_code(c: &CodeRecord) -> ();
    redeem_code(hash: &str, now: i64) -> CodeRedemption;
    set_code_family(hash: &str, family: &str) -> ();
    insert_refresh(t: &RefreshRecord) -> ();
    rotate_refresh(hash: &str, t: &RefreshRecord) -> RefreshClaim;
    get_refresh(hash: &str) -> Option<RefreshRecord>;
    revoke_family(family: &str, now: i64) -> u64;
    deny_jti(jti: &str, exp: i64) -> ();
    is_jti_denied(jti: &str) -> bool;
    purge_expired(table: Expiring, now: i64, limit: u32) -> u64;
});

forward_when_up!(LockoutStore {
    reserve_login_attempt(kind: FailureKind, key: &str, now: i64, policy: &LockPolicy, lease: i64, nonce: i64) -> Reservation;
    release_login_attempt(kind: FailureKind, key: &str, succeeded: bool) -> ();
    record_login_failure(kind: FailureKind, key: &str, now: i64, policy: &LockPolicy) -> LockState;
    login_lock(kind: FailureKind, key: &str, now: i64) -> Option<i64>;
    clear_login_failures(kind: FailureKind, key: &str) -> bool;
    list_lockouts(now: i64) -> Vec<Lockout>;
    purge_login_failures(now: i64, limit: u32) -> u64;
});

forward_when_up!(SigningKeyStore {
    list_signing_keys() -> Vec<StoredKey>;
    add_signing_key(k: &StoredKey, pins: &[(String, StoredKeyDates)]) -> bool;
    update_signing_key(kid: &str, dates: &StoredKeyDates, archived_at: Option<i64>) -> bool;
});

forward_when_up!(ConsoleStore {
    insert_console_session(r: &ConsoleSessionRecord) -> ();
    get_console_session(hash: &str) -> Option<ConsoleSessionRecord>;
    delete_console_session(hash: &str) -> bool;
    list_live_sessions(user: Option<&str>, now: i64, limit: u32) -> Vec<SessionSummary>;
});

forward_when_up!(ApiKeyStore {
    insert_api_key(k: &ApiKeyRecord) -> ();
    find_api_key(hash: &str) -> Option<ApiKeyRecord>;
    list_api_keys(user_id: Option<&str>) -> Vec<ApiKeyRecord>;
    delete_api_key(id: &str) -> Option<ApiKeyRecord>;
    touch_api_key(id: &str, now: i64) -> ();
    start_api_key_session(key_id: &str, replacing: Option<&str>, s: &SessionRecord) -> bool;
    extend_api_key_session(id: &str, now: i64, expires_at: i64) -> bool;
});

forward_when_up!(RealmSecretStore {
    realm_secret(name: &str, candidate: &str, now: i64) -> String;
});

forward_when_up!(RoleStore {
    insert_role(role: &Role, if_absent: bool) -> bool;
    list_roles() -> Vec<Role>;
    delete_role(role: &RoleRef) -> bool;
    grant_role(holder: &Holder, role: &RoleRef) -> bool;
    revoke_role(holder: &Holder, role: &RoleRef) -> bool;
    role_grants(holders: &[Holder]) -> Vec<RoleGrant>;
});
