//! Prometheus metrics (OpenMetrics text at `GET /metrics`): requests and
//! latency per endpoint, login outcomes, tokens issued per grant, lockouts,
//! refresh-token reuse, revocations and the signing key's age. Label values
//! come from fixed sets (route templates, outcome names), never from input,
//! so the number of series stays bounded.

use std::collections::HashSet;
use std::sync::{PoisonError, RwLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Every label value is a `&'static str` from a fixed set, so counting
/// allocates nothing: the series' keys are built on the stack.
type Labels = [(&'static str, &'static str); 1];
type PairLabels = [(&'static str, &'static str); 2];
type HistogramMaker = fn() -> Histogram;

/// A request's series: its route template, method and status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

/// The route templates seen so far, each leaked once: there are as many as
/// the router has routes (plus `unmatched`), so the set is bounded, and a
/// request's labels borrow from it instead of allocating.
static ROUTES: RwLock<Option<HashSet<&'static str>>> = RwLock::new(None);

/// `route` as a `&'static str`, for `Metrics::request`. Only for route
/// templates (and `unmatched`), never a raw path: each distinct value is
/// kept for the life of the process.
pub fn route_label(route: &str) -> &'static str {
    let known = ROUTES.read().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = known.as_ref().and_then(|set| set.get(route)) {
        return found;
    }
    drop(known);
    let mut known = ROUTES.write().unwrap_or_else(PoisonError::into_inner);
    let set = known.get_or_insert_with(HashSet::new);
    if let Some(found) = set.get(route) {
        return found;
    }
    let leaked: &'static str = Box::leak(route.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

fn latency_histogram() -> Histogram {
    // 0.25 ms .. ~4 s: from a cached JWKS to an argon2 queue under load.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<Labels, Histogram, HistogramMaker>,
    logins: Family<PairLabels, Counter>,
    tokens: Family<Labels, Counter>,
    lockouts: Counter,
    refresh_reuse: Counter,
    revocations: Family<Labels, Counter>,
    key_age: Gauge<i64, std::sync::atomic::AtomicI64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("domino_idp");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency =
            Family::<Labels, Histogram, HistogramMaker>::new_with_constructor(latency_histogram);
        let logins = Family::<PairLabels, Counter>::default();
        let tokens = Family::<Labels, Counter>::default();
        let lockouts = Counter::default();
        let refresh_reuse = Counter::default();
        let revocations = Family::<Labels, Counter>::default();
        let key_age = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by route template, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route template",
            latency.clone(),
        );
        registry.register(
            "logins",
            "Password checks by path (keep, password_grant, login_form) and outcome (success, failure, locked)",
            logins.clone(),
        );
        registry.register(
            "tokens_issued",
            "Access tokens issued by grant (keep, password, client_credentials, refresh_token, authorization_code)",
            tokens.clone(),
        );
        registry.register(
            "lockouts",
            "Accounts or client addresses locked by brute-force protection",
            lockouts.clone(),
        );
        registry.register(
            "refresh_token_reuse",
            "Replays of a rotated refresh token (each revoked a family)",
            refresh_reuse.clone(),
        );
        registry.register(
            "revocations",
            "Tokens revoked by kind (access, refresh)",
            revocations.clone(),
        );
        registry.register(
            "signing_key_age_seconds",
            "Seconds since the active signing key was created",
            key_age.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            logins,
            tokens,
            lockouts,
            refresh_reuse,
            revocations,
            key_age,
        }
    }

    /// `route`: from `route_label`.
    pub fn request(&self, route: &'static str, method: &'static str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&[("route", route)])
            .observe(seconds);
    }

    /// `path`: keep | password_grant | login_form; `outcome`: success | failure | locked.
    pub fn login(&self, path: &'static str, outcome: &'static str) {
        self.logins
            .get_or_create(&[("path", path), ("outcome", outcome)])
            .inc();
    }

    pub fn token_issued(&self, grant: &'static str) {
        self.tokens.get_or_create(&[("grant", grant)]).inc();
    }

    pub fn lockout(&self) {
        self.lockouts.inc();
    }

    pub fn refresh_reuse(&self) {
        self.refresh_reuse.inc();
    }

    /// `kind`: access | refresh.
    pub fn revocation(&self, kind: &'static str) {
        self.revocations.get_or_create(&[("kind", kind)]).inc();
    }

    /// The text exposition, with the key age as of now.
    pub fn render(&self, signing_key_age_seconds: i64) -> String {
        self.key_age.set(signing_key_age_seconds);
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "metrics could not be encoded");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_what_was_counted() {
        let m = Metrics::new();
        m.request("/auth", "POST", 200, 0.02);
        m.login("keep", "success");
        m.token_issued("keep");
        let text = m.render(42);
        assert!(text.contains(
            r#"domino_idp_http_requests_total{route="/auth",method="POST",status="200"} 1"#
        ));
        assert!(text.contains(r#"domino_idp_logins_total{path="keep",outcome="success"} 1"#));
        assert!(text.contains(r#"domino_idp_tokens_issued_total{grant="keep"} 1"#));
        assert!(text.contains("domino_idp_signing_key_age_seconds 42"));
        assert!(text.contains("domino_idp_http_request_duration_seconds_bucket"));
    }
}
