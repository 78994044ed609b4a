//! The issuer: everything the operations need (settings, token policy,
//! store, keys, password workers, realm documents, metrics, clock), built
//! once and cloned cheaply into each request: one reference count, since
//! axum clones the state for every middleware and handler that takes it.

use std::ops::Deref;
use std::sync::Arc;

use crate::app::config_cache::{ConfigCache, Snapshot};
use crate::app::gates::Gates;
use crate::app::oidc::refresh_token::RefreshKey;
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::password::PasswordHasher;
use crate::domain::token::TokenPolicy;
use crate::keys::{KeyRing, LiveKeys};
use crate::metrics::Metrics;
use crate::realm::Realm;
use crate::store::{Store, StoreError};

#[derive(Clone)]
pub struct Issuer(Arc<IssuerParts>);

/// What an `Issuer` holds; read through it (`issuer.store`, ...).
#[derive(Clone)]
pub struct IssuerParts {
    pub config: Arc<Config>,
    pub policy: Arc<TokenPolicy>,
    pub store: Arc<dyn Store>,
    /// The signing keys, swapped whole on rotation (see `keys::live`).
    pub keys: Arc<LiveKeys>,
    pub passwords: Arc<PasswordHasher>,
    pub realm: Arc<Realm>,
    pub metrics: Arc<Metrics>,
    /// Where every operation reads the time.
    pub clock: Arc<dyn Clock>,
    /// Per-account queues in front of the brute-force reservations.
    pub login_gates: Arc<Gates>,
    /// Per-API-key queues in front of the writes of a key's shared session
    /// (`app::apikeys::shared_session`): one at a time.
    pub key_sessions: Arc<Gates>,
    /// The refresh tokens' HMAC key, read from the store on first use.
    pub refresh_key: Arc<tokio::sync::OnceCell<RefreshKey>>,
    /// Clients, mappers and roles as the store holds them, checked against
    /// its change counter at each use (see `app::config_cache`).
    pub config_cache: Arc<ConfigCache>,
}

impl Issuer {
    /// `public_url` is the resolved base URL (the configured one, or the bound address).
    pub fn new(
        config: Config,
        public_url: &str,
        store: Arc<dyn Store>,
        keys: KeyRing,
        passwords: Arc<PasswordHasher>,
        clock: Arc<dyn Clock>,
    ) -> Issuer {
        let realm = Realm::new(
            public_url,
            config.realms_prefix(),
            &config.realm,
            config.jwks_max_age,
        );
        let documents = realm.documents(&keys);
        let keys = Arc::new(LiveKeys::new(keys, documents));
        let policy = config.token_policy(realm.issuer.clone());
        let config_cache = Arc::new(ConfigCache::new(store.clone(), &config.realm));
        Issuer(Arc::new(IssuerParts {
            config: Arc::new(config),
            policy: Arc::new(policy),
            store,
            keys,
            passwords,
            realm: Arc::new(realm),
            metrics: Arc::new(Metrics::new()),
            clock,
            login_gates: Arc::new(Gates::default()),
            key_sessions: Arc::new(Gates::default()),
            refresh_key: Arc::new(tokio::sync::OnceCell::new()),
            config_cache,
        }))
    }

    /// The same issuer over another store (tests put a failing store in).
    pub fn with_store(&self, store: Arc<dyn Store>) -> Issuer {
        let mut parts = (*self.0).clone();
        parts.config_cache = Arc::new(ConfigCache::new(store.clone(), &parts.config.realm));
        parts.store = store;
        Issuer(Arc::new(parts))
    }

    /// Clients, mappers and roles as of now: one read of the store's change
    /// counter, and a reload only when something changed. Read it once per
    /// token and pass it along.
    pub async fn configuration(&self) -> Result<Arc<Snapshot>, StoreError> {
        self.config_cache.get(self.clock.now_ms()).await
    }

    /// The configuration as of a change-counter `version` the caller read
    /// with its own data, after its request arrived (see `configuration`).
    pub async fn configuration_at(&self, version: i64) -> Result<Arc<Snapshot>, StoreError> {
        self.config_cache.at(version, self.clock.now_ms()).await
    }

    /// The configuration as some request of the last `max_age_ms` found it
    /// (no store round trip then): for answers clients cache anyway, such as
    /// CORS preflights; never for a token.
    pub async fn recent_configuration(&self, max_age_ms: i64) -> Result<Arc<Snapshot>, StoreError> {
        self.config_cache
            .get_recent(self.clock.now_ms(), max_age_ms)
            .await
    }
}

impl Deref for Issuer {
    type Target = IssuerParts;

    fn deref(&self) -> &IssuerParts {
        &self.0
    }
}
