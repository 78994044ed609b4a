//! `[brute_force]`: failure counters per login name and per client address,
//! with exponential back-off (see `crate::app::login`). Durations are seconds
//! unless the name says otherwise.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::{IpNet, Ipv4Net};
use serde::{Deserialize, Serialize};

use super::validate::in_range;
use crate::domain::lockout::LockPolicy;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BruteForce {
    pub enabled: bool,
    /// Failures of one login name before it is locked (Keycloak's "max login
    /// failures", whose default is 30).
    pub max_failures: u32,
    /// The first lockout; each further failure doubles it.
    pub wait_increment: u64,
    /// The longest lockout.
    pub max_wait: u64,
    /// Failures are forgotten after this long without a new one.
    pub failure_reset: u64,
    /// Two failures of one login name closer together than this lock it for
    /// `min_quick_login_wait` (0 turns the check off).
    pub quick_login_check_ms: u64,
    pub min_quick_login_wait: u64,
    /// Failures from one client address (IPv6: its /64) before it is locked,
    /// whatever names it tries (0 turns the per-address counter off).
    pub ip_max_failures: u32,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is
    /// believed. Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<ProxyNet>,
}

impl Default for BruteForce {
    fn default() -> Self {
        BruteForce {
            enabled: true,
            max_failures: 10,
            wait_increment: 60,
            max_wait: 900,
            failure_reset: 43_200,
            quick_login_check_ms: 1000,
            min_quick_login_wait: 60,
            ip_max_failures: 100,
            trusted_proxies: Vec::new(),
        }
    }
}

fn millis(seconds: u64) -> i64 {
    i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX)
}

impl BruteForce {
    /// How a failure moves a login name's counter.
    pub fn user_policy(&self) -> LockPolicy {
        LockPolicy {
            max_failures: self.max_failures,
            wait_increment_ms: millis(self.wait_increment),
            max_wait_ms: millis(self.max_wait),
            failure_reset_ms: millis(self.failure_reset),
            quick_check_ms: i64::try_from(self.quick_login_check_ms).unwrap_or(i64::MAX),
            quick_wait_ms: millis(self.min_quick_login_wait),
        }
    }

    /// How a failure moves a client address's counter. No quick-login check:
    /// people behind one NAT may well fail within the same second.
    pub fn ip_policy(&self) -> LockPolicy {
        LockPolicy {
            max_failures: self.ip_max_failures,
            quick_check_ms: 0,
            quick_wait_ms: 0,
            ..self.user_policy()
        }
    }

    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(ip))
    }

    /// Problems with these settings, each saying how to fix it.
    pub(super) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let max_wait_advice = format!(
            "use at least wait_increment ({}) and at most 2592000 seconds (default 900)",
            self.wait_increment
        );
        for (name, value, allowed, advice) in [
            (
                "max_failures",
                u64::from(self.max_failures),
                1..=10_000,
                "use between 1 and 10000 (default 10)",
            ),
            (
                "ip_max_failures",
                u64::from(self.ip_max_failures),
                0..=1_000_000,
                "use 0 (off) or at most 1000000 (default 100)",
            ),
            (
                "wait_increment",
                self.wait_increment,
                1..=86_400,
                "use between 1 and 86400 seconds (default 60)",
            ),
            (
                "max_wait",
                self.max_wait,
                self.wait_increment..=86_400 * 30,
                &max_wait_advice,
            ),
            (
                "failure_reset",
                self.failure_reset,
                1..=86_400 * 365,
                "use between 1 and 31536000 seconds (default 43200)",
            ),
            (
                "quick_login_check_ms",
                self.quick_login_check_ms,
                0..=60_000,
                "use 0 (off) or at most 60000 (default 1000)",
            ),
        ] {
            in_range(
                &mut problems,
                &format!("brute_force.{name}"),
                value,
                allowed,
                advice,
            );
        }
        if self.quick_login_check_ms > 0 && self.min_quick_login_wait > self.max_wait {
            problems.push(format!(
                "brute_force.min_quick_login_wait = {}: use at most max_wait ({}) (default 60)",
                self.min_quick_login_wait, self.max_wait
            ));
        }
        problems
    }
}

/// An address or CIDR range, e.g. `10.0.0.0/8` or `::1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProxyNet(IpNet);

impl ProxyNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&canonical_ip(ip))
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) as the IPv4 address they are.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

impl FromStr for ProxyNet {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "trusted_proxies entry {raw:?}: write an IP address or a CIDR range like 10.0.0.0/8"
            )
        };
        let trimmed = raw.trim();
        let net = match trimmed.parse::<IpNet>() {
            Ok(net) => net,
            Err(_) => IpNet::from(trimmed.parse::<IpAddr>().map_err(|_| bad())?),
        };
        // Mapped client addresses reach `contains` as IPv4, so a mapped range becomes one too.
        let net = match net {
            IpNet::V6(v6) => match (v6.addr().to_ipv4_mapped(), v6.prefix_len().checked_sub(96)) {
                (Some(v4), Some(prefix)) => IpNet::V4(Ipv4Net::new(v4, prefix).map_err(|_| bad())?),
                _ => net,
            },
            v4 => v4,
        };
        Ok(ProxyNet(net))
    }
}

impl TryFrom<String> for ProxyNet {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        raw.parse()
    }
}

impl From<ProxyNet> for String {
    fn from(net: ProxyNet) -> String {
        net.to_string()
    }
}

impl fmt::Display for ProxyNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(BruteForce::default().problems().is_empty());
    }

    /// A setting's name and what puts it out of its range.
    type Spoiled = (&'static str, fn(&mut BruteForce));

    /// Each setting out of its range is named, and nothing else is.
    #[test]
    fn each_bad_setting_is_named_alone() {
        let cases: [Spoiled; 10] = [
            ("max_failures", |b| b.max_failures = 0),
            ("max_failures", |b| b.max_failures = 10_001),
            ("ip_max_failures", |b| b.ip_max_failures = 1_000_001),
            ("wait_increment", |b| b.wait_increment = 0),
            ("max_wait", |b| (b.wait_increment, b.max_wait) = (120, 90)),
            ("max_wait", |b| b.max_wait = 86_400 * 30 + 1),
            ("failure_reset", |b| b.failure_reset = 0),
            ("failure_reset", |b| b.failure_reset = 86_400 * 365 + 1),
            ("quick_login_check_ms", |b| b.quick_login_check_ms = 60_001),
            ("min_quick_login_wait", |b| b.min_quick_login_wait = 901),
        ];
        for (name, spoil) in cases {
            let mut b = BruteForce::default();
            spoil(&mut b);
            let problems = b.problems();
            assert_eq!(problems.len(), 1, "{name}: {problems:?}");
            let named = format!("brute_force.{name} ");
            assert!(problems[0].contains(&named), "{name}: {problems:?}");
        }
    }

    /// With the quick check off, its wait is not checked.
    #[test]
    fn the_quick_wait_is_free_when_the_quick_check_is_off() {
        let mut b = BruteForce::default();
        (b.quick_login_check_ms, b.min_quick_login_wait) = (0, 901);
        assert!(b.problems().is_empty(), "{:?}", b.problems());
    }

    #[test]
    fn proxy_ranges_match() {
        let net: ProxyNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        let one: ProxyNet = "::1".parse().unwrap();
        assert!(one.contains("::1".parse().unwrap()));
        assert!(!one.contains("::2".parse().unwrap()));
        let all: ProxyNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("192.0.2.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<ProxyNet>().is_err());
        assert!("proxy.local".parse::<ProxyNet>().is_err());
        assert_eq!(net.to_string(), "10.0.0.0/8");
        let mapped: ProxyNet = "::ffff:10.0.0.0/104".parse().unwrap();
        assert!(mapped.contains("10.1.2.3".parse().unwrap()));
        assert_eq!(mapped.to_string(), "10.0.0.0/8");
        assert_eq!(one.to_string(), "::1/128");
    }
}
