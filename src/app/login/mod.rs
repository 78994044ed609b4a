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

mod reserved;

use std::net::{IpAddr, Ipv6Addr};

use crate::app::Issuer;
use crate::app::users::{self, LoginError};
use crate::config::{BruteForce, canonical_ip as canonical};
use crate::domain::user::{LoginName, Password, User, name_key};
use crate::store::{FailureKind, Store, StoreError};
use reserved::{Refusal, Reserved};

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

impl ClientIp {
    /// The address as audit events show it.
    pub fn shown(self) -> String {
        self.0
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    }

    /// The key of the address's brute-force counter (`ip_key`), when the
    /// protection is on and counts addresses.
    pub fn counter_key(self, settings: &BruteForce) -> Option<String> {
        self.0
            .filter(|_| settings.enabled && settings.ip_max_failures > 0)
            .map(ip_key)
    }
}

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

/// Whole seconds from `now` until `until` (Unix ms), at least one.
pub(crate) fn retry_after(until: i64, now: i64) -> u64 {
    u64::try_from(until.saturating_sub(now).saturating_add(999) / 1000)
        .unwrap_or(1)
        .max(1)
}

/// One password check.
pub struct Attempt<'a> {
    pub path: LoginPath,
    pub login: &'a LoginName,
    pub password: &'a Password,
    pub ip: ClientIp,
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
    let ip = attempt.ip.shown();
    // Each audit line of this attempt names its path, name and address.
    macro_rules! audit {
        ($event:literal, $($fields:tt)*) => {
            tracing::info!(target: "audit", event = $event, path, user_key, ip = %ip, $($fields)*)
        };
    }
    // Used only while the protection is on (with the reservations).
    let ip_key = attempt.ip.counter_key(settings);
    let locked = |scope: FailureKind, until: i64, now: i64, phase: &'static str| {
        let retry_after = retry_after(until, now);
        state.metrics.login(path, "locked");
        audit!(
            "login.locked",
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
            audit!("login.success", user_id = %user.id, "login succeeded");
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
            audit!(
                "login.failure",
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

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        let key = |address: &str| ip_key(address.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after(1_001, 0), 2);
        assert_eq!(retry_after(1_000, 0), 1);
        assert_eq!(retry_after(5, 0), 1);
    }
}
