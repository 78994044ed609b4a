//! Persistence behind small per-area traits (`UserStore`, `ClientStore`,
//! `MapperStore`, `GrantStore`, `LockoutStore`, `SigningKeyStore`,
//! `ApiKeyStore`, `RealmSecretStore`) that
//! `Store` composes; each backend implements each one directly, in the file
//! of that area, with its own migrations.

pub mod postgres;
mod rows;
mod shared;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::client::{Client, ClientId, RedirectUri};
pub use crate::domain::lockout::LockPolicy;
use crate::domain::mapper::MapperSpec;
use crate::domain::role::{Holder, Role, RoleRef};
use crate::domain::user::{NewUser, User};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A unique name is already taken.
    #[error("{0}")]
    Conflict(String),
    /// The backend could not be reached or failed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A stored row could not be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot open the store: {0}")]
    Open(String),
}

/// A login session: a browser's (with a cookie) or a direct grant's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Public id, sent as `session_state` and `sid`.
    pub id: String,
    /// Digest of the browser cookie; `None` for password-grant sessions.
    pub cookie_hash: Option<String>,
    pub user_id: String,
    pub auth_time: i64,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
}

/// A pending authorization code (stored under the digest of the code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub code_hash: String,
    pub client_id: ClientId,
    pub redirect_uri: RedirectUri,
    pub user_id: String,
    pub session_id: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub expires_at: i64,
}

/// What redeeming a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeRedemption {
    /// First use: the code is now spent.
    Redeemed(CodeRecord),
    /// Already spent (or expired); carries the refresh family it produced, if any.
    Spent {
        family_id: Option<String>,
    },
    Unknown,
}

/// One refresh token of a family (stored under the digest of the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub token_hash: String,
    pub family_id: String,
    pub session_id: String,
    pub client_id: ClientId,
    pub user_id: String,
    pub scope: String,
    pub auth_time: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshClaim {
    /// The token was live and is now spent: the caller issues its successor.
    Claimed(RefreshRecord),
    /// The token had already been rotated: a replay. The caller revokes the family.
    Replayed(RefreshRecord),
    /// Revoked or expired.
    Inactive,
    Unknown,
}

/// A refresh token with its user and its session, read in one statement.
#[derive(Debug, Clone)]
pub struct RefreshHolder {
    pub token: RefreshRecord,
    pub user: User,
    /// `None` when the session is not the user's (never, while the schema's
    /// foreign keys hold).
    pub session: Option<SessionRecord>,
}

/// A user to insert: the validated fields plus the password hash to store.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: NewUser,
    pub password_hash: String,
}

/// Which brute-force counter: a login name's or a client address's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureKind {
    User,
    Ip,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::User => "user",
            FailureKind::Ip => "ip",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "user" => Some(FailureKind::User),
            "ip" => Some(FailureKind::Ip),
            _ => None,
        }
    }
}

/// A counter right after a failure was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockState {
    /// Consecutive failures within `failure_reset`, this one included.
    pub failures: u32,
    /// When the lockout ends, if one is in force.
    pub locked_until: Option<i64>,
    /// This failure started or lengthened the lockout.
    pub lock_started: bool,
}

/// What reserving a password check found (see `crate::app::login`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The check may run; it must be settled by a failure or a release.
    Granted,
    /// The counter is locked until then (Unix milliseconds).
    Locked(i64),
    /// Failures plus checks in flight fill the budget: try again shortly.
    Busy,
}

impl Reservation {
    /// From a reservation statement's `RETURNING (grant_nonce = nonce), locked_until`.
    pub(crate) fn from_row(won: bool, locked_until: i64, now_ms: i64) -> Reservation {
        if won {
            Reservation::Granted
        } else if locked_until > now_ms {
            Reservation::Locked(locked_until)
        } else {
            Reservation::Busy
        }
    }
}

/// A counter that is locked now, for the CLI.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lockout {
    pub kind: FailureKind,
    pub key: String,
    pub failures: u32,
    /// Unix milliseconds.
    pub last_failure: i64,
    pub locked_until: i64,
}

/// A signing key's dates, in Unix seconds (see `keys::lifecycle::KeyDates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredKeyDates {
    pub created: i64,
    pub activates_at: i64,
    pub superseded_at: Option<i64>,
    pub retire_after: Option<i64>,
}

/// A signing key kept in the database (`key_store = "database"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    /// 1 for the first key, one more for each key added after it: two
    /// processes that rotate at once pick the same number and one loses.
    pub generation: i64,
    /// The PKCS#8 private key, encrypted (`keys::sealed`).
    pub sealed_private_key: Vec<u8>,
    /// The key's self-signed certificate (DER), for the JWKS `x5c`.
    pub certificate: Vec<u8>,
    pub dates: StoredKeyDates,
    /// When the key was taken out of the published set for good.
    pub archived_at: Option<i64>,
}

/// A user's API key (stored under the digest of the key, never the key).
/// The columns line up in both backends, so one `FromRow` serves both.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiKeyRecord {
    /// Public id: what `apikey list` shows and `apikey revoke` takes.
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub key_hash: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    /// Kept to the minute (see `ApiKeyStore::touch_api_key`).
    pub last_used_at: Option<i64>,
}

/// An API key found by its digest, read in one statement with its user and
/// the login session its exchanged Domino Tokens share.
#[derive(Debug, Clone)]
pub struct ApiKeyHolder {
    pub key: ApiKeyRecord,
    pub user: User,
    /// The session the key names (`api_keys.session_id`), whether or not it
    /// still exists: what `ApiKeyStore::start_api_key_session` replaces.
    pub session_id: Option<String>,
    /// That session, when it still exists (live, ended or expired).
    pub session: Option<SessionRecord>,
}

/// A web-console sign-in (`/admin`), bound to the realm login session it
/// came from. Kept under the digest of its cookie.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsoleSessionRecord {
    pub cookie_hash: String,
    /// The realm session (`sessions.id`): ending it ends this one.
    pub session_id: String,
    pub user_id: String,
    /// The CSRF token every console form of this session must echo.
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A live login session as the console lists it: the session, and what its
/// latest refresh token says (the client, when it was last refreshed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub session: SessionRecord,
    pub client_id: Option<String>,
    pub last_refresh: Option<i64>,
}

/// Reaching the database at all: migrations and the readiness check.
#[async_trait]
pub trait Database: Send + Sync {
    /// Applies the backend's embedded migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Cheap reachability check for `/health/ready`.
    async fn ping(&self) -> Result<(), StoreError>;
    /// The change counter of clients, mappers, roles and role grants: one
    /// row, bumped by triggers in every transaction that writes them (see
    /// `app::config_cache`). Read once per token.
    async fn config_version(&self) -> Result<i64, StoreError>;
}

/// Users and their password hashes.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a user; `Conflict` when the username or email is taken.
    async fn insert_user(&self, record: &UserRecord) -> Result<User, StoreError>;
    /// Inserts a user unless the username is taken; true when inserted.
    /// Safe when several processes seed at once.
    async fn insert_user_if_absent(&self, record: &UserRecord) -> Result<bool, StoreError>;
    /// The user whose username or email has this key; usernames win.
    async fn find_user_for_login(&self, login_key: &str) -> Result<Option<User>, StoreError>;
    async fn get_user(&self, username_key: &str) -> Result<Option<User>, StoreError>;
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;
    /// Replaces the password hash; false when the user does not exist.
    async fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<bool, StoreError>;
    async fn set_enabled(&self, username_key: &str, enabled: bool) -> Result<bool, StoreError>;
    /// Replaces a user's email, cn, org, scopes, attributes and groups with
    /// `user`'s (its username, credential and enabled flag are ignored);
    /// false when there is no such user, `Conflict` when the email is taken.
    async fn update_user(&self, user_id: &str, user: &NewUser) -> Result<bool, StoreError>;
    async fn delete_user(&self, username_key: &str) -> Result<bool, StoreError>;
    async fn get_user_by_id(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// The user by id and, in the same statement, the session `session_id`
    /// when it exists (a refresh or a code checks both; one round trip).
    async fn get_user_with_session(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<(User, Option<SessionRecord>)>, StoreError>;
    /// A refresh token with its user and session in one statement (the
    /// refresh grant's one read); `None` when the token is unknown.
    async fn get_refresh_with_holder(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshHolder>, StoreError>;
    /// The session `session_id` with its user, in one statement (a bearer
    /// token's holder: userinfo, introspection, the Domino API).
    async fn get_session_with_user(
        &self,
        session_id: &str,
    ) -> Result<Option<(SessionRecord, User)>, StoreError>;
    /// The API key with this digest (expired or not), its user and its
    /// session, in one statement (`X-Domino-Api-Key`, the token exchange).
    async fn find_api_key_holder(&self, key_hash: &str)
    -> Result<Option<ApiKeyHolder>, StoreError>;
}

/// OAuth clients.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Inserts a client; `Conflict` when the id is taken.
    async fn insert_client(&self, client: &Client) -> Result<(), StoreError>;
    /// Inserts a client unless the id is taken; true when inserted.
    async fn insert_client_if_absent(&self, client: &Client) -> Result<bool, StoreError>;
    async fn get_client(&self, client_id: &str) -> Result<Option<Client>, StoreError>;
    async fn list_clients(&self) -> Result<Vec<Client>, StoreError>;
    /// Replaces every field of the stored client of `client.client_id` but
    /// its creation time (the secret digest included); false when absent.
    async fn update_client(&self, client: &Client) -> Result<bool, StoreError>;
    /// Removes a client and everything issued to it.
    async fn delete_client(&self, client_id: &str) -> Result<bool, StoreError>;
}

/// Claim mappers, in the order they apply.
#[async_trait]
pub trait MapperStore: Send + Sync {
    /// Inserts a mapper; `Conflict` when the name is taken.
    async fn insert_mapper(&self, spec: &MapperSpec) -> Result<(), StoreError>;
    /// Inserts a mapper unless the name is taken; true when inserted.
    async fn insert_mapper_if_absent(&self, spec: &MapperSpec) -> Result<bool, StoreError>;
    async fn list_mappers(&self) -> Result<Vec<MapperSpec>, StoreError>;
    async fn delete_mapper(&self, name: &str) -> Result<bool, StoreError>;
}

/// Sessions, authorization codes, refresh tokens and the access-token deny-list.
#[async_trait]
pub trait GrantStore: Send + Sync {
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    async fn get_session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError>;
    async fn find_session_by_cookie(
        &self,
        cookie_hash: &str,
    ) -> Result<Option<SessionRecord>, StoreError>;
    /// Ends a session and revokes every refresh token bound to it, atomically.
    async fn end_session(&self, id: &str, now: i64) -> Result<bool, StoreError>;

    // --- authorization codes ---
    async fn insert_code(&self, code: &CodeRecord) -> Result<(), StoreError>;
    /// Spends a code exactly once, even when two requests race for it.
    async fn redeem_code(&self, code_hash: &str, now: i64) -> Result<CodeRedemption, StoreError>;
    /// Records which refresh family a redeemed code produced (for reuse detection).
    async fn set_code_family(&self, code_hash: &str, family_id: &str) -> Result<(), StoreError>;

    // --- refresh tokens ---
    async fn insert_refresh(&self, token: &RefreshRecord) -> Result<(), StoreError>;
    /// Spends the live refresh token `presented` of `successor`'s family and
    /// stores `successor` in the same transaction: both happen or neither,
    /// exactly once even when two requests race. The successor is born
    /// revoked when its family was revoked or its session ended meanwhile.
    /// Anything but `Claimed` stored nothing.
    async fn rotate_refresh(
        &self,
        presented: &str,
        successor: &RefreshRecord,
    ) -> Result<RefreshClaim, StoreError>;
    async fn get_refresh(&self, token_hash: &str) -> Result<Option<RefreshRecord>, StoreError>;
    /// Revokes every token of a family; returns how many were live.
    async fn revoke_family(&self, family_id: &str, now: i64) -> Result<u64, StoreError>;

    // --- access-token deny-list ---
    async fn deny_jti(&self, jti: &str, expires_at: i64) -> Result<(), StoreError>;
    async fn is_jti_denied(&self, jti: &str) -> Result<bool, StoreError>;
    /// Deletes expired codes, sessions, refresh tokens and deny-list entries,
    /// and login-failure counters that no longer count.
    async fn purge_expired(&self, now: i64) -> Result<u64, StoreError>;
}

/// Brute-force counters (times in Unix milliseconds).
#[async_trait]
pub trait LockoutStore: Send + Sync {
    /// Reserves one password check against a counter, atomically across
    /// instances: granted only while the counter is unlocked and its live
    /// failures plus the checks in flight stay under `policy.max_failures`.
    /// A grant holds for `lease_ms` at most (a crashed process's grants
    /// lapse); `nonce` identifies this reservation in the statement's result.
    async fn reserve_login_attempt(
        &self,
        kind: FailureKind,
        key: &str,
        now_ms: i64,
        policy: &LockPolicy,
        lease_ms: i64,
        nonce: i64,
    ) -> Result<Reservation, StoreError>;
    /// Ends a granted reservation without a failure; `succeeded` also resets
    /// the failure count (a successful login).
    async fn release_login_attempt(
        &self,
        kind: FailureKind,
        key: &str,
        succeeded: bool,
    ) -> Result<(), StoreError>;
    /// Ends the reservations of a check whose password was right: one on the
    /// login name's counter `user_key` and, with `ip_key`, one on the
    /// address's. If either counter is locked at `now_ms` (a lockout began
    /// during the check), the success is withheld: both places are given
    /// back without a reset, and the later lockout is returned. Otherwise the
    /// name's failures reset (never the address's). The stores do it in one
    /// statement (one commit, one round trip, where a login used to spend two
    /// reads and two commits); this default is the same in four steps.
    async fn settle_login_success(
        &self,
        user_key: &str,
        ip_key: Option<&str>,
        now_ms: i64,
    ) -> Result<Option<(FailureKind, i64)>, StoreError> {
        let mut lock = self
            .login_lock(FailureKind::User, user_key, now_ms)
            .await?
            .map(|until| (FailureKind::User, until));
        if let Some(key) = ip_key
            && let Some(until) = self.login_lock(FailureKind::Ip, key, now_ms).await?
            && lock.is_none_or(|(_, u)| until > u)
        {
            lock = Some((FailureKind::Ip, until));
        }
        self.release_login_attempt(FailureKind::User, user_key, lock.is_none())
            .await?;
        if let Some(key) = ip_key {
            self.release_login_attempt(FailureKind::Ip, key, false)
                .await?;
        }
        Ok(lock)
    }
    /// Counts one failure and computes the lockout, atomically, so instances
    /// sharing the database count every failure exactly once. Ends one
    /// reservation of the counter, if it has any.
    async fn record_login_failure(
        &self,
        kind: FailureKind,
        key: &str,
        now_ms: i64,
        policy: &LockPolicy,
    ) -> Result<LockState, StoreError>;
    /// When the lockout of this counter ends, if one is in force at `now_ms`.
    async fn login_lock(
        &self,
        kind: FailureKind,
        key: &str,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError>;
    /// Forgets a counter and its lockout; false when there was none.
    async fn clear_login_failures(&self, kind: FailureKind, key: &str) -> Result<bool, StoreError>;
    /// The counters locked at `now_ms`, longest lockout first.
    async fn list_lockouts(&self, now_ms: i64) -> Result<Vec<Lockout>, StoreError>;
}

/// Signing keys kept in the database (`key_store = "database"`).
#[async_trait]
pub trait SigningKeyStore: Send + Sync {
    /// Every stored key, archived ones included, oldest generation first.
    async fn list_signing_keys(&self) -> Result<Vec<StoredKey>, StoreError>;
    /// Adds `key` and sets the `pins` (kid, dates) of existing keys, in one
    /// transaction. False, with nothing written, when `key.generation` is
    /// taken: another process added a key since the caller looked.
    async fn add_signing_key(
        &self,
        key: &StoredKey,
        pins: &[(String, StoredKeyDates)],
    ) -> Result<bool, StoreError>;
    /// Replaces a key's dates and archive time; false when there is no such key.
    async fn update_signing_key(
        &self,
        kid: &str,
        dates: &StoredKeyDates,
        archived_at: Option<i64>,
    ) -> Result<bool, StoreError>;
}

/// API keys. A user's keys go with the user (foreign key cascade).
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Inserts a key; `Conflict` when its id or digest is taken or its user
    /// is gone.
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;
    /// The key with this digest, expired or not.
    async fn find_api_key(&self, key_hash: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// One user's keys, or every key, oldest first.
    async fn list_api_keys(&self, user_id: Option<&str>) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// Deletes a key and ends the session its exchanges share, in one
    /// transaction (their Domino Tokens stop working at once); returns what
    /// the key was, `None` when there was no such key.
    async fn delete_api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// Records a use at `now`, unless one was recorded in the minute before:
    /// a busy key costs one write a minute, not one per request. Callers
    /// skip the call when the use they read is that recent
    /// (`domain::apikey::use_worth_recording`).
    async fn touch_api_key(&self, id: &str, now: i64) -> Result<(), StoreError>;
    /// Inserts `session` and makes it the key's shared session, in one
    /// transaction, if the key still names `replacing` (`None`: no session):
    /// false, and nothing written, when the key is gone or another exchange
    /// replaced it first.
    async fn start_api_key_session(
        &self,
        key_id: &str,
        replacing: Option<&str>,
        session: &SessionRecord,
    ) -> Result<bool, StoreError>;
    /// Moves a live session's expiry to `expires_at`; false when it has
    /// ended or expired by `now` (or is gone).
    async fn extend_api_key_session(
        &self,
        session_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, StoreError>;
}

/// Secrets of the realm that never leave the issuer (the refresh tokens'
/// HMAC key): created once per database, so every instance shares them.
#[async_trait]
pub trait RealmSecretStore: Send + Sync {
    /// The secret called `name`: the stored one, or `candidate`, stored now
    /// if there was none. Instances starting at once all get the same one.
    async fn realm_secret(
        &self,
        name: &str,
        candidate: &str,
        now: i64,
    ) -> Result<String, StoreError>;
}

/// Realm and client roles and who holds them (see `domain::role`). The
/// built-in roles (`default-roles-<realm>` ...) are not stored unless
/// replaced.
#[async_trait]
pub trait RoleStore: Send + Sync {
    /// Inserts a role; `Conflict` when it exists (unless `if_absent`, which
    /// answers false instead). True when inserted.
    async fn insert_role(&self, role: &Role, if_absent: bool) -> Result<bool, StoreError>;
    /// Every stored role, realm roles first, then by client and name.
    async fn list_roles(&self) -> Result<Vec<Role>, StoreError>;
    /// Deletes a role and every grant of it; false when there was none.
    async fn delete_role(&self, role: &RoleRef) -> Result<bool, StoreError>;
    /// Grants a role; false when the holder had it already.
    async fn grant_role(&self, holder: &Holder, role: &RoleRef) -> Result<bool, StoreError>;
    /// Revokes a role; false when the holder did not have it.
    async fn revoke_role(&self, holder: &Holder, role: &RoleRef) -> Result<bool, StoreError>;
    /// The grants of these holders, or every grant when `holders` is empty.
    async fn role_grants(&self, holders: &[Holder]) -> Result<Vec<RoleGrant>, StoreError>;
}

/// A role held directly by a user, a group or a client's service account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoleGrant {
    pub holder: Holder,
    pub role: RoleRef,
}

/// The web console's sign-ins, and the session listing its pages show.
#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// Inserts a console session; `Conflict` when its realm session or user is gone.
    async fn insert_console_session(&self, record: &ConsoleSessionRecord)
    -> Result<(), StoreError>;
    async fn get_console_session(
        &self,
        cookie_hash: &str,
    ) -> Result<Option<ConsoleSessionRecord>, StoreError>;
    async fn delete_console_session(&self, cookie_hash: &str) -> Result<bool, StoreError>;
    /// Login sessions neither ended nor expired at `now`, of one user or of
    /// all, newest first, at most `limit`.
    async fn list_live_sessions(
        &self,
        user_id: Option<&str>,
        now: i64,
        limit: u32,
    ) -> Result<Vec<SessionSummary>, StoreError>;
}

/// Everything the issuer keeps: each backend implements every area trait
/// directly, in the file of that area; code that needs one area asks for
/// that trait alone.
pub trait Store:
    Database
    + UserStore
    + ClientStore
    + MapperStore
    + GrantStore
    + LockoutStore
    + SigningKeyStore
    + ApiKeyStore
    + RealmSecretStore
    + RoleStore
    + ConsoleStore
    + 'static
{
}

impl<T> Store for T where
    T: Database
        + UserStore
        + ClientStore
        + MapperStore
        + GrantStore
        + LockoutStore
        + SigningKeyStore
        + ApiKeyStore
        + RealmSecretStore
        + RoleStore
        + ConsoleStore
        + 'static
{
}

/// Opens the store a `database_url` names.
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(database_url).await?))
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::open(database_url).await?))
    } else {
        Err(StoreError::Open(format!(
            "unsupported database_url {:?}; use sqlite://PATH or postgres://USER@HOST/DB",
            crate::config::redacted_url(database_url)
        )))
    }
}

/// Row bookkeeping times (created_at, updated_at); the operations pass
/// their own `now` from the issuer's clock.
pub(crate) fn now() -> i64 {
    use crate::clock::Clock as _;
    crate::clock::SystemClock.now()
}

#[cfg(test)]
pub(crate) mod rotation_scenario;

/// One `#[tokio::test]` per named scenario of `scenarios`, each against a
/// fresh store from `$fresh` (an `async fn() -> Option<(store, guard)>`;
/// `None` skips the test, the guard lives as long as the store).
#[cfg(test)]
macro_rules! scenario_tests {
    ($fresh:path: $($scenario:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $scenario() {
                let Some((store, _guard)) = $fresh().await else {
                    return;
                };
                $crate::store::scenarios::$scenario(std::sync::Arc::new(store)).await;
            }
        )+
    };
}
#[cfg(test)]
pub(crate) use scenario_tests;

/// Scenarios both backends' tests run against their own store.
#[cfg(test)]
pub(crate) mod scenarios {
    use super::*;

    const POLICY: LockPolicy = LockPolicy {
        max_failures: 3,
        wait_increment_ms: 1000,
        max_wait_ms: 5000,
        failure_reset_ms: 60_000,
        quick_check_ms: 0,
        quick_wait_ms: 0,
    };

    async fn reserve(store: &dyn Store, key: &str, now: i64, nonce: i64) -> Reservation {
        store
            .reserve_login_attempt(FailureKind::User, key, now, &POLICY, 10_000, nonce)
            .await
            .unwrap()
    }

    fn key(id: &str, user_id: &str, key_hash: &str) -> ApiKeyRecord {
        ApiKeyRecord {
            id: id.into(),
            user_id: user_id.into(),
            name: format!("key {id}"),
            key_hash: key_hash.into(),
            created_at: 1_000,
            expires_at: None,
            last_used_at: None,
        }
    }

    async fn user(store: &dyn Store, name: &str) -> User {
        let spec = crate::domain::user::UserSpec {
            username: name.into(),
            ..Default::default()
        };
        let user = NewUser::from_spec(&spec).unwrap();
        store
            .insert_user(&UserRecord {
                user,
                password_hash: "x".into(),
            })
            .await
            .unwrap()
    }

    /// A user read with one of their sessions in one statement: the
    /// session when it is theirs, none when it is missing or another's, no
    /// user when the user is missing; a NUL names nothing.
    pub(crate) async fn a_user_is_read_with_their_session(store: Arc<dyn Store>) {
        let s = store.as_ref();
        let doc = user(s, "doc").await;
        let nurse = user(s, "nurse").await;
        let session = SessionRecord {
            id: "s1".into(),
            cookie_hash: Some("c1".into()),
            user_id: doc.id.clone(),
            auth_time: 1_000,
            expires_at: 9_000,
            ended_at: None,
        };
        s.insert_session(&session).await.unwrap();
        let (found, with) = s
            .get_user_with_session(&doc.id, "s1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((found.username.as_str(), with), ("doc", Some(session)));
        let (found, with) = s
            .get_user_with_session(&doc.id, "s2")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((found.id, with), (doc.id.clone(), None));
        let (_, with) = s
            .get_user_with_session(&nurse.id, "s1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(with, None, "another user's session");
        assert!(
            s.get_user_with_session("nobody", "s1")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            s.get_user_with_session("a\0", "s1")
                .await
                .unwrap()
                .is_none()
        );
        let (_, with) = s
            .get_user_with_session(&doc.id, "s\0")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(with, None);
    }

    /// The change counter moves with every write of clients, mappers, roles
    /// and role grants, and not with other writes.
    pub(crate) async fn the_config_version_moves_with_the_configuration(store: Arc<dyn Store>) {
        use crate::domain::role::{Holder, Role, RoleRef, RoleSpec};
        let s = store.as_ref();
        let mut last = s.config_version().await.unwrap();
        let mut moved = |now: i64, what: &str| {
            assert!(now > last, "{what}: {now} after {last}");
            last = now;
        };
        let doc = user(s, "doc").await;
        let client = crate::domain::client::Client::from_spec(&crate::domain::client::ClientSpec {
            client_id: "app".into(),
            grant_types: vec![crate::domain::client::GrantType::ClientCredentials],
            ..Default::default()
        })
        .unwrap()
        .0;
        s.insert_client(&client).await.unwrap();
        moved(s.config_version().await.unwrap(), "client added");
        let mapper: crate::domain::mapper::MapperSpec = serde_json::from_value(
            serde_json::json!({"name": "team", "type": "hardcoded", "claim": "team", "value": "x"}),
        )
        .unwrap();
        s.insert_mapper(&mapper).await.unwrap();
        moved(s.config_version().await.unwrap(), "mapper added");
        let role = Role::from_spec(&RoleSpec {
            name: "auditor".into(),
            ..Default::default()
        })
        .unwrap();
        s.insert_role(&role, false).await.unwrap();
        moved(s.config_version().await.unwrap(), "role added");
        let holder = Holder::User(doc.id.clone());
        s.grant_role(&holder, &RoleRef::realm("auditor"))
            .await
            .unwrap();
        moved(s.config_version().await.unwrap(), "role granted");
        s.revoke_role(&holder, &RoleRef::realm("auditor"))
            .await
            .unwrap();
        moved(s.config_version().await.unwrap(), "role revoked");
        s.delete_mapper("team").await.unwrap();
        moved(s.config_version().await.unwrap(), "mapper removed");
        s.delete_client("app").await.unwrap();
        moved(s.config_version().await.unwrap(), "client removed");
        user(s, "nurse").await;
        assert_eq!(
            s.config_version().await.unwrap(),
            last,
            "a user is not configuration"
        );
    }

    /// API keys: found by digest, listed per user, touched at most once a
    /// minute, deleted once, and gone with their user.
    pub(crate) async fn api_keys_live_and_die_with_their_user(store: Arc<dyn Store>) {
        let s = store.as_ref();
        let doc = user(s, "doc").await;
        let nurse = user(s, "nurse").await;
        s.insert_api_key(&key("k1", &doc.id, "h1")).await.unwrap();
        s.insert_api_key(&ApiKeyRecord {
            created_at: 2_000,
            expires_at: Some(9_000),
            ..key("k2", &doc.id, "h2")
        })
        .await
        .unwrap();
        s.insert_api_key(&key("k3", &nurse.id, "h3")).await.unwrap();
        for (taken, what) in [
            (key("k1", &doc.id, "h9"), "id"),
            (key("k9", &doc.id, "h1"), "digest"),
        ] {
            assert!(
                matches!(s.insert_api_key(&taken).await, Err(StoreError::Conflict(_))),
                "a taken {what}"
            );
        }
        assert!(matches!(
            s.insert_api_key(&key("k8", "no-such-user", "h8")).await,
            Err(StoreError::Conflict(_))
        ));
        let found = s.find_api_key("h2").await.unwrap().unwrap();
        assert_eq!((found.id.as_str(), found.expires_at), ("k2", Some(9_000)));
        assert_eq!(s.find_api_key("nope").await.unwrap(), None);
        assert_eq!(s.find_api_key("h\0").await.unwrap(), None);
        let ids = |keys: Vec<ApiKeyRecord>| keys.into_iter().map(|k| k.id).collect::<Vec<_>>();
        assert_eq!(
            ids(s.list_api_keys(Some(&doc.id)).await.unwrap()),
            ["k1", "k2"]
        );
        assert_eq!(ids(s.list_api_keys(None).await.unwrap()).len(), 3);
        // Used: recorded; used again within the minute: not rewritten.
        s.touch_api_key("k1", 5_000).await.unwrap();
        s.touch_api_key("k1", 5_030).await.unwrap();
        assert_eq!(
            s.find_api_key("h1").await.unwrap().unwrap().last_used_at,
            Some(5_000)
        );
        s.touch_api_key("k1", 5_060).await.unwrap();
        assert_eq!(
            s.find_api_key("h1").await.unwrap().unwrap().last_used_at,
            Some(5_060)
        );
        // The key with its user and its shared session, in one read; the
        // session is replaced only from the one the key named.
        let found = s.find_api_key_holder("h2").await.unwrap().unwrap();
        assert_eq!(
            (found.key.id.as_str(), found.user.id.as_str()),
            ("k2", doc.id.as_str())
        );
        assert_eq!((found.session_id, found.session), (None, None));
        assert!(s.find_api_key_holder("nope").await.unwrap().is_none());
        assert!(s.find_api_key_holder("h\0").await.unwrap().is_none());
        let session = |id: &str| SessionRecord {
            id: id.into(),
            cookie_hash: None,
            user_id: doc.id.clone(),
            auth_time: 5_000,
            expires_at: 6_000,
            ended_at: None,
        };
        assert!(
            s.start_api_key_session("k2", None, &session("ks1"))
                .await
                .unwrap()
        );
        assert!(
            !s.start_api_key_session("k2", None, &session("ks2"))
                .await
                .unwrap(),
            "lost the race"
        );
        assert_eq!(s.get_session("ks2").await.unwrap(), None, "nothing written");
        assert!(
            !s.start_api_key_session("k9", None, &session("ks2"))
                .await
                .unwrap(),
            "no such key"
        );
        let found = s.find_api_key_holder("h2").await.unwrap().unwrap();
        assert_eq!(found.session_id.as_deref(), Some("ks1"));
        assert_eq!(found.session, Some(session("ks1")));
        let (joined, owner) = s.get_session_with_user("ks1").await.unwrap().unwrap();
        assert_eq!((joined, owner.id), (session("ks1"), doc.id.clone()));
        assert!(s.get_session_with_user("nope").await.unwrap().is_none());
        assert!(s.extend_api_key_session("ks1", 5_500, 9_000).await.unwrap());
        assert!(
            !s.extend_api_key_session("ks1", 9_000, 9_500).await.unwrap(),
            "expired"
        );
        assert!(
            s.start_api_key_session("k2", Some("ks1"), &session("ks2"))
                .await
                .unwrap()
        );
        // Revoked once, and its session ends with it.
        let gone = s.delete_api_key("k2").await.unwrap().unwrap();
        assert!(
            s.get_session("ks2")
                .await
                .unwrap()
                .unwrap()
                .ended_at
                .is_some()
        );
        assert!(
            s.get_session("ks1")
                .await
                .unwrap()
                .unwrap()
                .ended_at
                .is_none()
        );
        assert_eq!(gone.user_id, doc.id);
        assert_eq!(s.delete_api_key("k2").await.unwrap(), None);
        assert_eq!(s.find_api_key("h2").await.unwrap(), None);
        // The user's removal takes their keys, and only theirs.
        assert!(s.delete_user("doc").await.unwrap());
        assert_eq!(s.find_api_key("h1").await.unwrap(), None);
        assert_eq!(ids(s.list_api_keys(None).await.unwrap()), ["k3"]);
    }

    /// Back-off doubles from `max_failures` on up to the cap; the other kind
    /// is a separate counter; a quiet `failure_reset` starts the count again;
    /// a key Postgres cannot hold as text still gets a counter.
    pub(crate) async fn back_off_doubles_up_to_the_cap_and_resets(store: Arc<dyn Store>) {
        let s = store.as_ref();
        let user = FailureKind::User;
        let mut t = 1_000_000;
        for expected in 1..=2 {
            let st = s
                .record_login_failure(user, "doc", t, &POLICY)
                .await
                .unwrap();
            assert_eq!((st.failures, st.locked_until), (expected, None));
            t += 10;
        }
        // 3rd failure: 1 s; 4th: 2 s; 5th: 4 s; 6th: capped at 5 s.
        for (n, wait) in [(3, 1000), (4, 2000), (5, 4000), (6, 5000), (7, 5000)] {
            let st = s
                .record_login_failure(user, "doc", t, &POLICY)
                .await
                .unwrap();
            assert_eq!(st.failures, n);
            assert_eq!(st.locked_until, Some(t + wait), "failure {n}");
            assert!(st.lock_started);
            assert_eq!(s.login_lock(user, "doc", t).await.unwrap(), Some(t + wait));
            assert_eq!(s.login_lock(user, "doc", t + wait).await.unwrap(), None);
            t += wait;
        }
        assert_eq!(
            s.login_lock(FailureKind::Ip, "doc", t - 1).await.unwrap(),
            None
        );
        assert_eq!(s.list_lockouts(t - 1).await.unwrap().len(), 1);
        t += POLICY.failure_reset_ms + 1;
        let st = s
            .record_login_failure(user, "doc", t, &POLICY)
            .await
            .unwrap();
        assert_eq!((st.failures, st.locked_until), (1, None));
        assert!(s.clear_login_failures(user, "doc").await.unwrap());
        assert!(!s.clear_login_failures(user, "doc").await.unwrap());
        // The first failure can lock already.
        let once = LockPolicy {
            max_failures: 1,
            ..POLICY
        };
        let st = s
            .record_login_failure(user, "x\0y", t, &once)
            .await
            .unwrap();
        assert_eq!((st.failures, st.locked_until), (1, Some(t + 1000)));
        assert_eq!(s.login_lock(user, "x\0y", t).await.unwrap(), Some(t + 1000));
    }

    /// Two failures within `quick_check` lock for `quick_wait`; the longer of
    /// two lockouts wins; counters that neither lock nor count are purged.
    pub(crate) async fn quick_failures_lock_and_old_rows_are_purged(store: Arc<dyn Store>) {
        let s = store.as_ref();
        let quick = LockPolicy {
            quick_check_ms: 500,
            quick_wait_ms: 3000,
            ..POLICY
        };
        let ip = FailureKind::Ip;
        let st = s
            .record_login_failure(ip, "192.0.2.1", 10_000, &quick)
            .await
            .unwrap();
        assert_eq!(st.locked_until, None);
        let st = s
            .record_login_failure(ip, "192.0.2.1", 10_100, &quick)
            .await
            .unwrap();
        assert_eq!(st.locked_until, Some(13_100));
        // The third failure earns 1 s of back-off; the quick-login lockout is longer and wins.
        let st = s
            .record_login_failure(ip, "192.0.2.1", 10_200, &quick)
            .await
            .unwrap();
        assert_eq!(st.locked_until, Some(13_200));
        let lockouts = s.list_lockouts(10_300).await.unwrap();
        assert_eq!(lockouts[0].key, "192.0.2.1");
        assert_eq!(lockouts[0].failures, 3);
        // `purge_expired` takes seconds: 10 s keeps the counter, 71 s (past
        // its last failure plus failure_reset) removes it.
        assert_eq!(s.purge_expired(10).await.unwrap(), 0);
        assert_eq!(s.purge_expired(71).await.unwrap(), 1);
    }

    /// Instances starting together each offer a secret: all get one and
    /// the same, and it never changes afterwards.
    pub(crate) async fn realm_secret_is_created_once(store: Arc<dyn Store>) {
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .realm_secret("test", &format!("candidate-{i}"), 1_000)
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut seen = Vec::new();
        for t in tasks {
            seen.push(t.await.unwrap());
        }
        assert!(seen.iter().all(|s| *s == seen[0]), "{seen:?}");
        assert!(seen[0].starts_with("candidate-"));
        assert_eq!(
            store.realm_secret("test", "later", 2_000).await.unwrap(),
            seen[0]
        );
        assert_eq!(
            store.realm_secret("other", "later", 2_000).await.unwrap(),
            "later"
        );
    }

    /// A right password settles both its reservations at once: the name's
    /// failures reset and its places are free again, the address's failures
    /// stay. A lockout of either counter that began during the check
    /// withholds the success (the later one is returned) and resets nothing.
    pub(crate) async fn a_success_settles_both_counters(store: Arc<dyn Store>) {
        let s = store.as_ref();
        let (user, ip, addr) = (FailureKind::User, FailureKind::Ip, "192.0.2.7");
        let reserve_ip = |now: i64, nonce: i64| async move {
            s.reserve_login_attempt(ip, addr, now, &POLICY, 10_000, nonce)
                .await
                .unwrap()
        };
        let t = 2_000_000;
        for i in 0..2 {
            s.record_login_failure(user, "doc", t + i, &POLICY)
                .await
                .unwrap();
            s.record_login_failure(ip, addr, t + i, &POLICY)
                .await
                .unwrap();
        }
        // Two failures of three: one place left on each counter.
        assert_eq!(reserve(s, "doc", t + 10, 1).await, Reservation::Granted);
        assert_eq!(reserve_ip(t + 10, 2).await, Reservation::Granted);
        assert_eq!(reserve(s, "doc", t + 10, 3).await, Reservation::Busy);
        assert_eq!(
            s.settle_login_success("doc", Some(addr), t + 11)
                .await
                .unwrap(),
            None
        );
        // The name's whole budget is back; the address's place is free but
        // its two failures still count.
        for nonce in 4..7 {
            assert_eq!(reserve(s, "doc", t + 12, nonce).await, Reservation::Granted);
        }
        assert_eq!(reserve(s, "doc", t + 12, 7).await, Reservation::Busy);
        assert_eq!(reserve_ip(t + 12, 8).await, Reservation::Granted);
        assert_eq!(reserve_ip(t + 12, 9).await, Reservation::Busy);
        for _ in 0..3 {
            s.release_login_attempt(user, "doc", false).await.unwrap();
        }
        s.release_login_attempt(ip, addr, false).await.unwrap();

        // The address locks during the check: the success is withheld and
        // the name keeps its failures.
        for i in 0..2 {
            s.record_login_failure(user, "doc", t + 20 + i, &POLICY)
                .await
                .unwrap();
        }
        assert_eq!(reserve(s, "doc", t + 22, 10).await, Reservation::Granted);
        assert_eq!(reserve_ip(t + 22, 11).await, Reservation::Granted);
        let other = s
            .record_login_failure(ip, addr, t + 23, &POLICY)
            .await
            .unwrap();
        assert_eq!(other.locked_until, Some(t + 1_023));
        assert_eq!(
            s.settle_login_success("doc", Some(addr), t + 24)
                .await
                .unwrap(),
            Some((ip, t + 1_023))
        );
        assert_eq!(reserve(s, "doc", t + 25, 12).await, Reservation::Granted);
        assert_eq!(reserve(s, "doc", t + 25, 13).await, Reservation::Busy);

        // The name itself locked (no address): withheld, nothing reset.
        let st = s
            .record_login_failure(user, "doc", t + 30, &POLICY)
            .await
            .unwrap();
        assert_eq!(st.locked_until, Some(t + 1_030));
        assert_eq!(
            s.settle_login_success("doc", None, t + 31).await.unwrap(),
            Some((user, t + 1_030))
        );
        let st = s
            .record_login_failure(user, "doc", t + 1_031, &POLICY)
            .await
            .unwrap();
        assert_eq!(st.failures, 4);
        // Counters that do not exist: nothing to settle, nothing locked.
        assert_eq!(
            s.settle_login_success("nobody", Some("198.51.100.1"), t)
                .await
                .unwrap(),
            None
        );
    }

    /// 40 reservations at once on `max_failures = 3`: exactly 3 granted.
    /// Failures keep the budget spent, a lock refuses, a lapsed lease frees
    /// its places, and a success gives the whole budget back.
    pub(crate) async fn reservations_bound_the_checks(store: Arc<dyn Store>) {
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move { reserve(store.as_ref(), "doc", 1_000_000, i + 1).await })
            })
            .collect();
        let mut granted = 0;
        for t in tasks {
            match t.await.unwrap() {
                Reservation::Granted => granted += 1,
                other => assert_eq!(other, Reservation::Busy),
            }
        }
        assert_eq!(granted, 3);
        let s = store.as_ref();
        // Two fail, one is given back: one place is free again.
        s.record_login_failure(FailureKind::User, "doc", 1_000_001, &POLICY)
            .await
            .unwrap();
        s.record_login_failure(FailureKind::User, "doc", 1_000_002, &POLICY)
            .await
            .unwrap();
        s.release_login_attempt(FailureKind::User, "doc", false)
            .await
            .unwrap();
        assert_eq!(
            reserve(s, "doc", 1_000_003, 100).await,
            Reservation::Granted
        );
        assert_eq!(reserve(s, "doc", 1_000_003, 101).await, Reservation::Busy);
        // Its failure is the third: locked.
        let st = s
            .record_login_failure(FailureKind::User, "doc", 1_000_004, &POLICY)
            .await
            .unwrap();
        assert_eq!(st.locked_until, Some(1_001_004));
        assert_eq!(
            reserve(s, "doc", 1_000_005, 102).await,
            Reservation::Locked(1_001_004)
        );
        // After the lockout, one guess at a time.
        assert_eq!(
            reserve(s, "doc", 1_001_005, 103).await,
            Reservation::Granted
        );
        assert_eq!(reserve(s, "doc", 1_001_005, 104).await, Reservation::Busy);
        // A reservation never settled (a crashed process) lapses with its lease.
        assert_eq!(
            reserve(s, "doc", 1_011_006, 105).await,
            Reservation::Granted
        );
        // A success resets the failures: the whole budget is back.
        s.release_login_attempt(FailureKind::User, "doc", true)
            .await
            .unwrap();
        for nonce in 106..108 {
            assert_eq!(
                reserve(s, "doc", 1_011_007, nonce).await,
                Reservation::Granted
            );
        }
        // Other keys are other counters.
        assert_eq!(
            reserve(s, "nurse", 1_011_007, 200).await,
            Reservation::Granted
        );
    }
}
