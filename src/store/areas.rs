//! The per-area traits `Store` composes, one for each area of what the
//! issuer keeps; code that needs one area asks for that trait alone.

use async_trait::async_trait;

use super::{
    ApiKeyHolder, ApiKeyRecord, BearerHolder, CodeRecord, CodeRedemption, ConsoleSessionRecord,
    Expiring, FailureKind, LockPolicy, LockState, Lockout, RefreshClaim, RefreshHolder,
    RefreshRecord, Reservation, RoleGrant, SessionHolder, SessionRecord, SessionSummary,
    StoreError, StoredKey, StoredKeyDates, UserRecord,
};
use crate::domain::client::Client;
use crate::domain::mapper::MapperSpec;
use crate::domain::role::{Holder, Role, RoleRef};
use crate::domain::user::{NewUser, User};

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
    ) -> Result<Option<SessionHolder>, StoreError>;
    /// A bearer token's state in one statement (userinfo, introspection,
    /// the Domino API): whether `jti` is denied, and the session
    /// `session_id` with its user. Only a token whose session is gone
    /// costs a second read, to tell a revoked one.
    async fn get_bearer_holder(
        &self,
        session_id: &str,
        jti: &str,
    ) -> Result<BearerHolder, StoreError>;
    /// The session whose browser cookie has this digest, with its user, in
    /// one statement (the authorization endpoint's signed-in check).
    async fn find_session_by_cookie_with_user(
        &self,
        cookie_hash: &str,
    ) -> Result<Option<SessionHolder>, StoreError>;
    /// The API key with this digest (expired or not), its user and its
    /// session, in one statement (`X-Domino-Api-Key`, the token exchange).
    async fn find_api_key_holder(&self, key_hash: &str)
    -> Result<Option<ApiKeyHolder>, StoreError>;
    /// `LockoutStore::login_lock` of the address's counter `ip_key` at
    /// `now_ms` and `find_api_key_holder(key_hash)`, in one statement: the
    /// reads of an API key checked from an address brute-force protection
    /// counts (one round trip where there were two).
    async fn find_api_key_holder_and_lock(
        &self,
        key_hash: &str,
        ip_key: &str,
        now_ms: i64,
    ) -> Result<(Option<i64>, Option<ApiKeyHolder>), StoreError>;
}

/// OAuth clients.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Inserts a client; `Conflict` when the id is taken.
    async fn insert_client(&self, client: &Client) -> Result<(), StoreError> {
        taken_is_conflict(self.insert_client_if_absent(client).await, || {
            format!("a client with id {:?} already exists", client.client_id)
        })
    }
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

/// An insert-if-absent that found the key taken, as `Conflict(message)`.
fn taken_is_conflict(
    inserted: Result<bool, StoreError>,
    message: impl FnOnce() -> String,
) -> Result<(), StoreError> {
    match inserted? {
        true => Ok(()),
        false => Err(StoreError::Conflict(message())),
    }
}

/// Claim mappers, in the order they apply.
#[async_trait]
pub trait MapperStore: Send + Sync {
    /// Inserts a mapper; `Conflict` when the name is taken.
    async fn insert_mapper(&self, spec: &MapperSpec) -> Result<(), StoreError> {
        taken_is_conflict(self.insert_mapper_if_absent(spec).await, || {
            format!("a mapper named {:?} already exists", spec.name)
        })
    }
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
    /// Deletes at most `limit` rows of `table` expired at `now`; returns
    /// how many. Housekeeping (`app::housekeeping`) calls it until a call
    /// deletes fewer, table by table: one statement a call, so that no
    /// purge holds the writer for long.
    async fn purge_expired(&self, table: Expiring, now: i64, limit: u32)
    -> Result<u64, StoreError>;
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
    /// Deletes at most `limit` counters that at `now_ms` neither lock nor
    /// count any more; returns how many (as `GrantStore::purge_expired`).
    async fn purge_login_failures(&self, now_ms: i64, limit: u32) -> Result<u64, StoreError>;
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
