//! Who is asking: the TCP peer, or what trusted proxies say in
//! `X-Forwarded-For`, as the brute-force counters' `ClientIp`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::app::Issuer;
use crate::app::login::ClientIp;
use crate::config::{BruteForce, canonical_ip as canonical};

impl FromRequestParts<Issuer> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Issuer,
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
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
}
