//! API keys: creating, listing and revoking them (the CLI), and checking a
//! presented one (`X-Domino-Api-Key`, the token exchange).
//!
//! A failed check counts on the client address's brute-force counter, the
//! one password checks use (`app::login`), and a locked address is refused
//! before any lookup. The per-name counter does not apply: a key names no
//! user until it is found. Checks are not reserved ahead as password checks
//! are: one costs a digest and a lookup, not an argon2 run, and a 256-bit
//! key is not found by guessing however many guesses run at once.
//!
//! Audit events: `apikey.created`, `apikey.revoked`, `apikey.refused`.
//! Never the key, nor its digest.

use crate::app::Issuer;
use crate::app::login::{ClientIp, retry_after};
use crate::domain::user::{User, name_key};
use crate::domain::{apikey, opaque};
use crate::store::{ApiKeyHolder, ApiKeyRecord, FailureKind, SessionRecord, Store, StoreError};

pub use crate::app::ChangeError as ApiKeyError;

/// A key just created: the record, and the key itself, to be shown once.
pub struct CreatedKey {
    pub record: ApiKeyRecord,
    pub key: String,
}

/// Creates a key for `username`, valid from `now` for `expires_in` seconds
/// (`None`: until revoked).
pub async fn create(
    store: &dyn Store,
    username: &str,
    name: Option<&str>,
    expires_in: Option<u64>,
    now: i64,
) -> Result<CreatedKey, ApiKeyError> {
    let name = apikey::parse_name(name)?;
    let expires_at = apikey::expiry(now, expires_in)?;
    let user = store
        .get_user(&name_key(username))
        .await?
        .ok_or_else(|| ApiKeyError::NotFound(format!("no user named {username:?}")))?;
    let key = apikey::generate();
    let record = ApiKeyRecord {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user.id.clone(),
        name,
        key_hash: opaque::digest(&key),
        created_at: now,
        expires_at,
        last_used_at: None,
    };
    store.insert_api_key(&record).await?;
    audit(
        "apikey.created",
        "API key created",
        &record,
        record.expires_at,
    );
    Ok(CreatedKey { record, key })
}

/// The keys of `username` (every key when `None`), each with its user's name.
pub async fn list(
    store: &dyn Store,
    username: Option<&str>,
) -> Result<Vec<(ApiKeyRecord, String)>, ApiKeyError> {
    match username {
        Some(username) => {
            let user = store
                .get_user(&name_key(username))
                .await?
                .ok_or_else(|| ApiKeyError::NotFound(format!("no user named {username:?}")))?;
            let keys = store.list_api_keys(Some(&user.id)).await?;
            Ok(keys
                .into_iter()
                .map(|k| (k, user.username.clone()))
                .collect())
        }
        None => {
            let users = store.list_users().await?;
            let keys = store.list_api_keys(None).await?;
            Ok(keys
                .into_iter()
                .map(|k| {
                    let owner = users
                        .iter()
                        .find(|u| u.id == k.user_id)
                        .map_or_else(|| k.user_id.clone(), |u| u.username.clone());
                    (k, owner)
                })
                .collect())
        }
    }
}

/// Revokes a key at once; `None` when there is no key with this id.
pub async fn revoke(store: &dyn Store, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
    let revoked = store.delete_api_key(id).await?;
    if let Some(key) = &revoked {
        audit("apikey.revoked", "API key revoked", key, None);
    }
    Ok(revoked)
}

/// The audit line of a key's creation or revocation: the key, its name and
/// its user, and `expires_at` where the line gives it (creation; `None` is
/// left out of the line).
fn audit(event: &str, message: &str, key: &ApiKeyRecord, expires_at: Option<i64>) {
    tracing::info!(
        target: "audit",
        event,
        key_id = %key.id,
        name = %key.name,
        user_id = %key.user_id,
        expires_at,
        "{message}"
    );
}

/// Why a presented key was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum KeyRefusal {
    /// Unknown, malformed, expired or revoked, or its user is disabled or
    /// gone: callers answer all of these alike.
    #[error("the API key is invalid, expired or revoked, or its user is disabled")]
    Refused,
    /// The client address is locked by brute-force protection.
    #[error("too many failed attempts from this address; try again later")]
    Locked { retry_after: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The user a valid key belongs to, the key's id, and the session its
/// exchanges share as read with it (for `shared_session`).
pub struct KeyHolder {
    pub user: User,
    pub key_id: String,
    key_hash: String,
    session: Option<SessionRecord>,
}

/// Checks a presented key: its user, if the key is live and the user
/// enabled. A refusal counts on the address's brute-force counter.
pub async fn authenticate(
    state: &Issuer,
    presented: &str,
    ip: ClientIp,
) -> Result<KeyHolder, KeyRefusal> {
    let settings = &state.config.brute_force;
    let store = state.store.as_ref();
    let counter = ip.counter_key(settings);
    let address = ip.shown();
    let hash = apikey::digest(presented);
    // The address's lockout and the key, in one read when there are both.
    let now_ms = state.clock.now_ms();
    let (locked, found) = match (&counter, &hash) {
        (Some(counter), Some(hash)) => {
            store
                .find_api_key_holder_and_lock(hash, counter, now_ms)
                .await?
        }
        (Some(counter), None) => (
            store.login_lock(FailureKind::Ip, counter, now_ms).await?,
            None,
        ),
        (None, Some(hash)) => (None, store.find_api_key_holder(hash).await?),
        (None, None) => (None, None),
    };
    if let Some(until) = locked {
        let retry_after = retry_after(until, now_ms);
        state.metrics.login("api_key", "locked");
        tracing::info!(
            target: "audit",
            event = "apikey.refused",
            reason = "locked",
            ip = %address,
            retry_after,
            "API key refused: the address is locked by brute-force protection"
        );
        return Err(KeyRefusal::Locked { retry_after });
    }
    let now = state.clock.now();
    let (reason, key_id) = match hash {
        None => ("malformed", None),
        Some(hash) => match found {
            None => ("unknown", None),
            Some(found) if found.key.expires_at.is_some_and(|at| at <= now) => {
                ("expired", Some(found.key.id))
            }
            Some(found) if found.user.enabled => {
                // A hot key costs no write: its use is kept to the minute.
                if apikey::use_worth_recording(found.key.last_used_at, now) {
                    store.touch_api_key(&found.key.id, now).await?;
                }
                return Ok(KeyHolder {
                    user: found.user,
                    key_id: found.key.id,
                    key_hash: hash,
                    session: found.session,
                });
            }
            Some(found) => ("user_disabled", Some(found.key.id)),
        },
    };
    let mut failures = None;
    let mut locked_for = None;
    if let Some(key) = &counter {
        let now_ms = state.clock.now_ms();
        let st = store
            .record_login_failure(FailureKind::Ip, key, now_ms, &settings.ip_policy())
            .await?;
        failures = Some(st.failures);
        locked_for = st.locked_until.map(|until| retry_after(until, now_ms));
        if st.lock_started {
            state.metrics.lockout();
        }
    }
    state.metrics.login("api_key", "failure");
    tracing::info!(
        target: "audit",
        event = "apikey.refused",
        reason,
        key_id = key_id.as_deref(),
        ip = %address,
        ip_failures = failures,
        locked_for,
        "API key refused"
    );
    Err(KeyRefusal::Refused)
}

/// How many times an exchange re-reads its key when another exchange
/// replaced the key's session first (each replacement ends the race for
/// every exchange that read the old one).
const SESSION_ATTEMPTS: usize = 3;

/// The login session a key's exchanged tokens share: the key's own while it
/// is live for at least `needed` more seconds (a token lives that long),
/// extended when it is live but shorter, else a new one the key then names.
/// One session per key rather than one per exchange: a hot key's exchanges
/// write nothing, and revoking the key ends the session (`delete_api_key`)
/// and so every token it issued. A new or extended session lasts
/// `session_ttl`, at least twice `needed`, so that extending is rare.
pub async fn shared_session(
    state: &Issuer,
    holder: &KeyHolder,
    needed: u64,
) -> Result<SessionRecord, KeyRefusal> {
    let store = state.store.as_ref();
    let needed = i64::try_from(needed).unwrap_or(i64::MAX);
    let ttl = i64::try_from(state.config.session_ttl)
        .unwrap_or(i64::MAX)
        .max(needed.saturating_mul(2));
    // Lives at least as long as a token of it: reused as it is.
    let lasts = |s: &SessionRecord, now: i64| s.expires_at >= now.saturating_add(needed);
    let now = state.clock.now();
    if let Some(live) = holder
        .session
        .as_ref()
        .filter(|s| s.is_live(now) && lasts(s, now))
    {
        return Ok(live.clone());
    }
    // A write is needed. One exchange of a key at a time writes from this
    // process; those that queued behind it read what it wrote, so a burst
    // of first exchanges of a new key makes one write, not one each
    // (docs/performance.md, "A new key's first burst").
    let _gate = state.key_sessions.enter(&holder.key_id, 1).await;
    let found = reread(store, holder, state.clock.now()).await?;
    let mut linked = found.session_id;
    let mut session = found.session;
    for _ in 0..SESSION_ATTEMPTS {
        let now = state.clock.now();
        if let Some(live) = session.filter(|s| s.is_live(now)) {
            if lasts(&live, now) {
                return Ok(live);
            }
            let expires_at = now.saturating_add(ttl);
            if store
                .extend_api_key_session(&live.id, now, expires_at)
                .await?
            {
                return Ok(SessionRecord { expires_at, ..live });
            }
        }
        let fresh = SessionRecord {
            id: uuid::Uuid::new_v4().to_string(),
            cookie_hash: None,
            user_id: holder.user.id.clone(),
            auth_time: now,
            expires_at: now.saturating_add(ttl),
            ended_at: None,
        };
        if store
            .start_api_key_session(&holder.key_id, linked.as_deref(), &fresh)
            .await?
        {
            return Ok(fresh);
        }
        // Another instance's exchange replaced the session first, or the
        // key was revoked or its user disabled meanwhile: read it again.
        let found = reread(store, holder, now).await?;
        linked = found.session_id;
        session = found.session;
    }
    Err(KeyRefusal::Store(StoreError::Unavailable(
        "the API key's session kept changing under concurrent exchanges".into(),
    )))
}

/// The key as it stands now: refused when it was revoked, expired or its
/// user disabled since it was checked.
async fn reread(
    store: &dyn Store,
    holder: &KeyHolder,
    now: i64,
) -> Result<ApiKeyHolder, KeyRefusal> {
    store
        .find_api_key_holder(&holder.key_hash)
        .await?
        .filter(|f| f.user.enabled && f.key.expires_at.is_none_or(|at| at > now))
        .ok_or(KeyRefusal::Refused)
}
