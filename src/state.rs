//! Everything a handler needs, built once and cloned cheaply into each request.

use std::sync::Arc;

use crate::config::Config;
use crate::domain::password::PasswordHasher;
use crate::domain::token::TokenPolicy;
use crate::keys::KeyRing;
use crate::realm::Realm;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub policy: Arc<TokenPolicy>,
    pub store: Arc<dyn Store>,
    pub keys: Arc<KeyRing>,
    pub passwords: Arc<PasswordHasher>,
    pub realm: Arc<Realm>,
}

impl AppState {
    /// `public_url` is the resolved base URL (the configured one, or the bound address).
    pub fn new(
        config: Config,
        public_url: &str,
        store: Arc<dyn Store>,
        keys: Arc<KeyRing>,
        passwords: Arc<PasswordHasher>,
    ) -> AppState {
        let realm = Realm::new(public_url, &config.realm, &keys);
        let policy = TokenPolicy {
            issuer: realm.issuer.clone(),
            audience: config.audience.clone(),
            access_token_ttl: config.effective_access_ttl(),
            max_jwt_duration: config.max_jwt_duration,
            subject: config.subject,
        };
        AppState {
            config: Arc::new(config),
            policy: Arc::new(policy),
            store,
            keys,
            passwords,
            realm: Arc::new(realm),
        }
    }
}
