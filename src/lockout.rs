//! Brute-force protection, Keycloak-style, for every password check: Keep
//! `/auth`, the password grant and the login form all log in through
//! `authenticate` here.
//!
//! Two counters live in the store, so every instance on one database sees
//! them: one per login-name key (NFKC + lowercase, kept whether or not such
//! a user exists, so a lockout never tells who exists) and one per client
//! address. A locked counter is refused before argon2 runs, whether the
//! password is right or not. Success resets the login name's counter, never
//! the address's. Parallel guesses all pass the first check, so a success is
//! checked again afterwards and withheld if a lockout began meanwhile: at
//! most `max_failures` plus the guesses in flight are ever answered.
//!
//! Every outcome is an `audit` event: `login.success`, `login.failure`,
//! `login.locked`, and `lockout.cleared` from the CLI. Never a password.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::config::{BruteForce, canonical_ip as canonical};
use crate::domain::user::{LoginName, Password, User};
use crate::state::AppState;
use crate::store::{FailureKind, Store, StoreError};
use crate::users::{self, LoginError};

/// Which endpoint checked a password (the `path` of audit events and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginPath {
    Keep,
    PasswordGrant,
    LoginForm,
}

impl LoginPath {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginPath::Keep => "keep",
            LoginPath::PasswordGrant => "password_grant",
            LoginPath::LoginForm => "login_form",
        }
    }
}

/// The client's address: the TCP peer, or what trusted proxies say in
/// `X-Forwarded-For`. `None` when the server was not started with connect
/// info (then only the per-name counter applies).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(ClientIp(peer.map(|peer| {
            client_ip(peer, &parts.headers, &state.config.brute_force)
        })))
    }
}

/// Walks `X-Forwarded-For` from the right while the hop is a trusted proxy;
/// the first untrusted hop is the client. Entries left of it are the
/// client's to forge, so they are never read.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, settings: &BruteForce) -> IpAddr {
    let mut client = canonical(peer);
    if !settings.is_trusted_proxy(client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for hop in hops.iter().rev() {
        let hop = hop.trim();
        let Some(ip) = hop
            .parse::<IpAddr>()
            .ok()
            .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        else {
            break;
        };
        client = canonical(ip);
        if !settings.is_trusted_proxy(client) {
            break;
        }
    }
    client
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

/// One password check.
pub struct Attempt<'a> {
    pub path: LoginPath,
    pub login: &'a LoginName,
    pub password: &'a Password,
    pub ip: ClientIp,
}

pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    i64::try_from(now).unwrap_or(i64::MAX)
}

/// Whole seconds until `until`, at least one.
fn retry_after(until: i64, now: i64) -> u64 {
    u64::try_from(until.saturating_sub(now).saturating_add(999) / 1000)
        .unwrap_or(1)
        .max(1)
}

/// The later of the name's and the address's lockouts, if any.
async fn active_lock(
    store: &dyn Store,
    user_key: &str,
    ip_key: Option<&str>,
    now: i64,
) -> Result<Option<(FailureKind, i64)>, StoreError> {
    let mut lock = store
        .login_lock(FailureKind::User, user_key, now)
        .await?
        .map(|until| (FailureKind::User, until));
    if let Some(key) = ip_key
        && let Some(until) = store.login_lock(FailureKind::Ip, key, now).await?
        && lock.is_none_or(|(_, u)| until > u)
    {
        lock = Some((FailureKind::Ip, until));
    }
    Ok(lock)
}

/// Checks a login name and password under brute-force protection.
/// `LoginError::Locked` says when to retry; it is the same for names that
/// exist and names that do not.
pub async fn authenticate(state: &AppState, attempt: Attempt<'_>) -> Result<User, LoginError> {
    let settings = &state.config.brute_force;
    let store = state.store.as_ref();
    let path = attempt.path.as_str();
    let user_key = attempt.login.key();
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

    if settings.enabled {
        let now = now_ms();
        if let Some((scope, until)) = active_lock(store, user_key, ip_key.as_deref(), now).await? {
            return Err(locked(scope, until, now, "before_check"));
        }
    }
    match users::authenticate(store, &state.passwords, attempt.login, attempt.password).await {
        Ok(user) => {
            if settings.enabled {
                let now = now_ms();
                if let Some((scope, until)) =
                    active_lock(store, user_key, ip_key.as_deref(), now).await?
                {
                    return Err(locked(scope, until, now, "after_check"));
                }
                if let Err(e) = store
                    .clear_login_failures(FailureKind::User, user_key)
                    .await
                {
                    tracing::warn!(error = %e, user_key, "could not reset the login failure counter");
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
            if settings.enabled {
                let now = now_ms();
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
    use axum::http::HeaderValue;

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
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.9, 10.0.0.2"),
        );
        let untrusted = BruteForce::default();
        assert_eq!(
            client_ip(ip("10.0.0.1"), &headers, &untrusted),
            ip("10.0.0.1")
        );
        let trusted = BruteForce {
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            ..BruteForce::default()
        };
        // The rightmost untrusted hop; the forged 6.6.6.6 left of it is ignored.
        assert_eq!(
            client_ip(ip("10.0.0.1"), &headers, &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("garbage, 10.0.0.3"),
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), &headers, &trusted),
            ip("10.0.0.3")
        );
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after(1_001, 0), 2);
        assert_eq!(retry_after(1_000, 0), 1);
        assert_eq!(retry_after(5, 0), 1);
    }
}
