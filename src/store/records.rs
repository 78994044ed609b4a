//! What the store keeps and returns: the records of each area, the
//! outcomes of its atomic operations, and its error. A record whose columns
//! line up with its fields in both backends (TEXT, 64-bit integers, blobs)
//! derives `FromRow` itself; `rows` has the rows that need a conversion.

use crate::domain::client::{ClientId, RedirectUri};
use crate::domain::role::{Holder, RoleRef};
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
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
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

impl SessionRecord {
    /// Neither ended nor expired at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.ended_at.is_none() && self.expires_at > now
    }
}

/// A pending authorization code (stored under the digest of the code).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CodeRecord {
    pub code_hash: String,
    #[sqlx(try_from = "String")]
    pub client_id: ClientId,
    #[sqlx(try_from = "String")]
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

/// One refresh token of a family (stored under the digest of the token);
/// read from a row by `store::rows` (one mapping for sqlx and rusqlite).
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

/// A session with its user, read in one statement (a bearer token's
/// holder, a browser's SSO cookie).
pub type SessionHolder = (SessionRecord, User);

/// What the store says of a bearer token: its `jti` on the deny-list, or
/// the session it names with its user, read together
/// (`UserStore::get_bearer_holder`).
#[derive(Debug, Clone)]
pub enum BearerHolder {
    /// The token was revoked.
    Denied,
    Session(Box<SessionHolder>),
    /// Not revoked, but its session (with its user) does not exist.
    NoSession,
}

/// A refresh token with its user and its session, read in one statement.
#[derive(Debug, Clone)]
pub struct RefreshHolder {
    pub token: RefreshRecord,
    pub user: User,
    /// `None` when the session is not the user's (never, while the schema's
    /// foreign keys hold).
    pub session: Option<SessionRecord>,
    /// The configuration's change counter, read in the same statement
    /// (`Database::config_version`).
    pub config_version: i64,
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

/// The tables of grants that expire, in the order housekeeping purges them
/// (`GrantStore::purge_expired`): a session after its codes and tokens, so
/// that deleting it does not cascade into rows a chunk did not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiring {
    /// The access-token deny-list (`revoked_tokens`).
    DeniedTokens,
    AuthCodes,
    RefreshTokens,
    Sessions,
}

impl Expiring {
    pub const ALL: [Expiring; 4] = [
        Expiring::DeniedTokens,
        Expiring::AuthCodes,
        Expiring::RefreshTokens,
        Expiring::Sessions,
    ];
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredKeyDates {
    pub created: i64,
    pub activates_at: i64,
    pub superseded_at: Option<i64>,
    pub retire_after: Option<i64>,
}

/// A signing key kept in the database (`key_store = "database"`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredKey {
    pub kid: String,
    /// 1 for the first key, one more for each key added after it: two
    /// processes that rotate at once pick the same number and one loses.
    pub generation: i64,
    /// The PKCS#8 private key, encrypted (`keys::sealed`).
    pub sealed_private_key: Vec<u8>,
    /// The key's self-signed certificate (DER), for the JWKS `x5c`.
    pub certificate: Vec<u8>,
    #[sqlx(flatten)]
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
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionSummary {
    #[sqlx(flatten)]
    pub session: SessionRecord,
    pub client_id: Option<String>,
    pub last_refresh: Option<i64>,
}

/// A role held directly by a user, a group or a client's service account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoleGrant {
    pub holder: Holder,
    pub role: RoleRef,
}
