//! Brute-force protection, Keycloak-style, for every password check: Keep
//! `/auth`, the password grant and the login form all log in through
//! `authenticate` here.
//!
//! Two counters live in the store, so every instance on one database sees
//! them: one per login-name key (NFKC + lowercase, kept whether or not such
//! a user exists, so a lockout never tells who exists; a name that resolves
//! to a user counts on that user's counter) and one per client address.
//! Every attempt reserves its password check on both counters before argon2
//! runs (`Store::reserve_login_attempt`): a locked counter, or one whose
//! failures plus checks in flight reach its budget, refuses with 429 whether
//! the password is right or not, so parallel guesses get no more checks
//! than sequential ones. Success resets the login name's counter, never the
//! address's; a success is still withheld if a lockout began during its
//! check.
//!
//! Every outcome is an `audit` event: `login.success`, `login.failure`,
//! `login.locked`, and `lockout.cleared` from the CLI. Never a password.

use std::net::{IpAddr, Ipv6Addr};

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::app::Issuer;
use crate::app::users::{self, LoginError};
use crate::clock::Clock;
use crate::config::canonical_ip as canonical;
use crate::domain::user::{LoginName, Password, User, name_key};
use crate::store::{FailureKind, LockPolicy, Reservation, Store, StoreError};

/// Which endpoint checked a password (the `path` of audit events and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginPath {
    Keep,
    PasswordGrant,
    LoginForm,
    /// The start page's "Get a token" (`/`).
    StartPage,
}

impl LoginPath {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginPath::Keep => "keep",
            LoginPath::PasswordGrant => "password_grant",
            LoginPath::LoginForm => "login_form",
            LoginPath::StartPage => "start_page",
        }
    }
}

/// The client's address, as the HTTP layer found it (`http::client_ip`).
/// `None` when the server was not started with connect info (then only the
/// per-name counter applies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

/// The counter key of an address: IPv4 as is, IPv6 by its /64, the block
/// one subscriber gets, so rotating through it does not reset the count.
pub fn ip_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let net = Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64));
            format!("{net}/64")
        }
    }
}

/// One password check.
pub struct Attempt<'a> {
    pub path: LoginPath,
    pub login: &'a LoginName,
    pub password: &'a Password,
    pub ip: ClientIp,
}

/// Whole seconds until `until`, at least one.
fn retry_after(until: i64, now: i64) -> u64 {
    u64::try_from(until.saturating_sub(now).saturating_add(999) / 1000)
        .unwrap_or(1)
        .max(1)
}

/// How long a reservation holds at most: longer than any password check
/// waits in the argon2 queue, short enough that a crashed process's
/// reservations do not keep an account refusing logins for long.
pub const RESERVATION_LEASE_MS: i64 = 60_000;

/// In-process gates in front of the store's reservations: at most
/// `max_failures` attempts on one account go to the store at once from this
/// process, the others wait here in order. A burst on one account (50
/// parallel logins of one user, or an attacker's) then waits on a semaphore
/// instead of polling the database, and the argon2 workers stay busy. The
/// store's reservation still bounds the budget across instances.
#[derive(Default)]
pub struct LoginGates {
    gates: std::sync::Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// A place at an account's gate; dropping it lets the next attempt in.
pub struct Gate<'a> {
    gates: &'a LoginGates,
    key: String,
    semaphore: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
}

impl LoginGates {
    async fn enter(&self, key: &str, places: usize) -> Gate<'_> {
        let semaphore = {
            let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
            gates
                .entry(key.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(places.max(1))))
                .clone()
        };
        // The semaphore is never closed, so acquiring cannot fail.
        let permit = semaphore.clone().acquire_owned().await.ok();
        Gate {
            gates: self,
            key: key.to_owned(),
            semaphore,
            permit,
        }
    }

    /// Accounts with attempts in flight or waiting (for tests and metrics).
    pub fn open(&self) -> usize {
        self.gates.lock().map_or(0, |g| g.len())
    }
}

impl Drop for Gate<'_> {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut gates = self.gates.gates.lock().unwrap_or_else(|e| e.into_inner());
        // Only the map and this gate hold it: nobody else is in or waiting.
        if Arc::strong_count(&self.semaphore) == 2 {
            gates.remove(&self.key);
        }
    }
}

/// How long an attempt waits for a place while the budget is taken by
/// checks in flight, before it is refused with 429.
const BUSY_WAIT_MS: i64 = 10_000;

/// Why a reservation was refused, with when to retry (Unix ms).
struct Refusal {
    scope: FailureKind,
    until: i64,
}

/// The password checks an attempt holds: one place on its login name's
/// counter and one on its address's. Settled by recording the failure, by
/// `LockoutStore::settle_login_success` or by `released`; if
/// the request is dropped first (the client went away), the places are
/// given back without a failure, since nobody learnt the answer.
struct Reserved {
    store: Arc<dyn Store>,
    counters: Vec<(FailureKind, String)>,
}

impl Reserved {
    /// Takes a place on every counter, or none: a refusal gives back what
    /// was taken.
    async fn take(
        store: &Arc<dyn Store>,
        clock: &dyn Clock,
        counters: Vec<(FailureKind, String, LockPolicy)>,
        now: i64,
    ) -> Result<Result<Reserved, Refusal>, StoreError> {
        let mut held = Reserved {
            store: store.clone(),
            counters: Vec::new(),
        };
        let deadline = now.saturating_add(BUSY_WAIT_MS);
        for (kind, key, policy) in counters {
            let mut pause = 10;
            loop {
                let now = clock.now_ms();
                let nonce = i64::from_ne_bytes(uuid::Uuid::new_v4().as_u64_pair().0.to_ne_bytes());
                match store
                    .reserve_login_attempt(kind, &key, now, &policy, RESERVATION_LEASE_MS, nonce)
                    .await?
                {
                    Reservation::Granted => {
                        held.counters.push((kind, key));
                        break;
                    }
                    Reservation::Locked(until) => {
                        held.released().await;
                        return Ok(Err(Refusal { scope: kind, until }));
                    }
                    // Checks in flight fill the budget: wait for one to
                    // settle. Successes free their place and reset the
                    // count, so a burst of right passwords gets through;
                    // failures fill the budget and lock, which ends the wait.
                    Reservation::Busy if now < deadline => {
                        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                        pause = (pause * 2).min(100);
                    }
                    Reservation::Busy => {
                        held.released().await;
                        return Ok(Err(Refusal {
                            scope: kind,
                            until: now.saturating_add(1000),
                        }));
                    }
                }
            }
        }
        Ok(Ok(held))
    }

    /// Gives the places back without a failure (nor a reset: a success
    /// settles with `LockoutStore::settle_login_success`).
    async fn released(mut self) {
        for (kind, key) in std::mem::take(&mut self.counters) {
            if let Err(e) = self.store.release_login_attempt(kind, &key, false).await {
                tracing::warn!(error = %e, kind = kind.as_str(), "could not release a login reservation");
            }
        }
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        let counters = std::mem::take(&mut self.counters);
        if counters.is_empty() {
            return;
        }
        let store = self.store.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for (kind, key) in counters {
                    let _ = store.release_login_attempt(kind, &key, false).await;
                }
            });
        }
    }
}

/// Checks a login name and password under brute-force protection.
/// `LoginError::Locked` says when to retry; it is the same for names that
/// exist and names that do not.
///
/// The attempt reserves its check before argon2 runs, so with
/// `max_failures = N` at most N checks of one account run in a lock window
/// however many guesses arrive at once, on however many instances. A name
/// that resolves to a user counts on the user's counter (its username's
/// key), so the username and the email share one budget; an unknown name
/// has a counter of its own, which behaves the same.
pub async fn authenticate(state: &Issuer, attempt: Attempt<'_>) -> Result<User, LoginError> {
    let settings = &state.config.brute_force;
    let store = state.store.as_ref();
    let path = attempt.path.as_str();
    let found = store.find_user_for_login(attempt.login.key()).await?;
    let user_key = match &found {
        Some(user) => name_key(&user.username),
        None => attempt.login.key().to_owned(),
    };
    let user_key = user_key.as_str();
    let ip = attempt
        .ip
        .0
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let ip_key = attempt
        .ip
        .0
        .filter(|_| settings.ip_max_failures > 0)
        .map(ip_key);
    let locked = |scope: FailureKind, until: i64, now: i64, phase: &'static str| {
        let retry_after = retry_after(until, now);
        state.metrics.login(path, "locked");
        tracing::info!(
            target: "audit",
            event = "login.locked",
            path,
            user_key,
            ip = %ip,
            scope = scope.as_str(),
            retry_after,
            phase,
            "login refused: locked by brute-force protection"
        );
        LoginError::Locked { retry_after }
    };

    let _gate = if settings.enabled {
        let places = usize::try_from(settings.max_failures).unwrap_or(usize::MAX);
        Some(state.login_gates.enter(user_key, places).await)
    } else {
        None
    };
    let reserved = if settings.enabled {
        let now = state.clock.now_ms();
        let mut counters = vec![(
            FailureKind::User,
            user_key.to_owned(),
            settings.user_policy(),
        )];
        if let Some(key) = &ip_key {
            counters.push((FailureKind::Ip, key.clone(), settings.ip_policy()));
        }
        match Reserved::take(&state.store, state.clock.as_ref(), counters, now).await? {
            Ok(held) => Some(held),
            Err(Refusal { scope, until }) => {
                return Err(locked(scope, until, now, "before_check"));
            }
        }
    } else {
        None
    };
    match users::check_password(store, &state.passwords, found, attempt.password).await {
        Ok(user) => {
            if let Some(mut held) = reserved {
                let now = state.clock.now_ms();
                // Settling gives both places back in one statement (the
                // store's one writer commits once, not twice after two
                // reads). A lockout that began during the check (other
                // guesses' failures, here or on another instance) withholds
                // even a right answer, and then the name's count stays.
                let lock = store
                    .settle_login_success(user_key, ip_key.as_deref(), now)
                    .await?;
                // Settled: nothing left for `Drop` to give back (had the
                // statement failed, `Drop` would have).
                held.counters.clear();
                if let Some((scope, until)) = lock {
                    return Err(locked(scope, until, now, "after_check"));
                }
            }
            state.metrics.login(path, "success");
            tracing::info!(
                target: "audit",
                event = "login.success",
                path,
                user_key,
                ip = %ip,
                user_id = %user.id,
                "login succeeded"
            );
            Ok(user)
        }
        Err(LoginError::Refused) => {
            let (mut failures, mut ip_failures, mut started, mut locked_for) =
                (None, None, false, None);
            if let Some(mut held) = reserved {
                // Recording the failure also gives the reservation back.
                held.counters.clear();
                let now = state.clock.now_ms();
                let user = store
                    .record_login_failure(FailureKind::User, user_key, now, &settings.user_policy())
                    .await?;
                failures = Some(user.failures);
                started |= user.lock_started;
                let mut until = user.locked_until;
                if let Some(key) = &ip_key {
                    let by_ip = store
                        .record_login_failure(FailureKind::Ip, key, now, &settings.ip_policy())
                        .await?;
                    ip_failures = Some(by_ip.failures);
                    started |= by_ip.lock_started;
                    until = until.max(by_ip.locked_until);
                }
                locked_for = until.map(|u| retry_after(u, now));
            }
            state.metrics.login(path, "failure");
            if started {
                state.metrics.lockout();
            }
            tracing::info!(
                target: "audit",
                event = "login.failure",
                path,
                user_key,
                ip = %ip,
                failures,
                ip_failures,
                lockout_started = started,
                locked_for,
                "login failed: bad credentials"
            );
            Err(LoginError::Refused)
        }
        Err(other) => Err(other),
    }
}

/// Clears a counter from the CLI; false when there was nothing to clear.
pub async fn clear(store: &dyn Store, kind: FailureKind, key: &str) -> Result<bool, StoreError> {
    let cleared = store.clear_login_failures(kind, key).await?;
    if cleared {
        tracing::info!(
            target: "audit",
            event = "lockout.cleared",
            kind = kind.as_str(),
            key,
            by = "cli",
            "login failure counter cleared"
        );
    }
    Ok(cleared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(ip_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(ip_key(ip("2001:db8:1:2:bbbb::9")), "2001:db8:1:2::/64");
        assert_eq!(ip_key(ip("::ffff:192.0.2.7")), "192.0.2.7");
        assert_eq!(ip_key(ip("192.0.2.7")), "192.0.2.7");
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after(1_001, 0), 2);
        assert_eq!(retry_after(1_000, 0), 1);
        assert_eq!(retry_after(5, 0), 1);
    }
}
