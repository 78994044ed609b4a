//! Liveness and readiness.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn live_and_ready() {
    let app = spawn_app().await;
    let live = app.get("/health/live").await;
    assert_eq!(live.status(), 200);
    assert_eq!(live.json::<Value>().await.unwrap()["status"], "UP");
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "UP");
    assert_eq!(body["checks"][0]["name"], "store");
    assert_eq!(
        body["checks"][1]["data"]["active_kid"],
        app.state.keys.signer().kid()
    );
}

/// The real store with a switch that makes it unreachable, to stand in for a
/// database that went away (tests/api/pg_outage.rs stops a real Postgres).
struct Flaky {
    inner: Arc<dyn Store>,
    down: AtomicBool,
}

impl Flaky {
    fn up(&self) -> Result<(), StoreError> {
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
                self.up()?;
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
        self.up()?;
        self.inner.ping().await
    }
    async fn config_version(&self) -> Result<i64, StoreError> {
        self.up()?;
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

#[tokio::test]
async fn ready_goes_red_and_logins_get_503_when_the_store_is_down() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let flaky = Arc::new(Flaky {
        inner: app.state.store.clone(),
        down: AtomicBool::new(false),
    });
    let state = app.state.with_store(flaky.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, domino_idp::build_router(state)).await });
    let client = reqwest::Client::new();
    let status = |path: &'static str| {
        let req = client.get(format!("{base}{path}")).send();
        async move { req.await.unwrap().status() }
    };
    let login = || {
        client
            .post(format!("{base}/auth"))
            .json(&serde_json::json!({"username": "doc", "password": PASSWORD}))
            .send()
    };
    assert_eq!(status("/health/ready").await, 200);
    flaky.down.store(true, Ordering::SeqCst);
    let ready = client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "DOWN");
    assert_eq!(body["checks"][0]["status"], "DOWN");
    let token = client
        .post(format!(
            "{base}/auth/realms/DominoRealm/protocol/openid-connect/token"
        ))
        .basic_auth("domino-play", Some(CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.headers()["retry-after"], "5");
    expect_oauth_error(token, 503, "temporarily_unavailable").await;
    let resp = login().await.unwrap();
    assert_eq!(resp.headers()["retry-after"], "5");
    let err = expect_error(resp, 503).await;
    assert!(
        !err["message"]
            .as_str()
            .unwrap()
            .contains("connection refused"),
        "{err}"
    );
    assert_eq!(status("/health/live").await, 200);
    flaky.down.store(false, Ordering::SeqCst);
    assert_eq!(status("/health/ready").await, 200);
    assert_eq!(login().await.unwrap().status(), 200);
}
