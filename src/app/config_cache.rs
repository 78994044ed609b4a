//! The configuration a token reads (clients, mappers, role definitions and
//! the grants of groups and service accounts), cached in the process and
//! checked against the store's change counter once per token.
//!
//! The counter is one row the database's triggers bump in every transaction
//! that writes `clients`, `mappers`, `roles` or `role_grants`, whoever writes
//! (this instance, another one, the CLI, an import). A token reads the
//! counter first; when it moved, the snapshot is reloaded before the token
//! uses it. So a change committed before a token's counter read applies to
//! that token, on every instance: there is no staleness window. The counter
//! is read before the data, so a change racing a reload leaves a snapshot
//! at least as new as its label, and the next token reloads again.
//!
//! Users' own role grants stay per request (one statement keyed by the
//! user): they grow with the users, are per-user data, and a token needs
//! only its own user's.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::app::mappers;
use crate::domain::client::{Client, ClientId};
use crate::domain::mapper::Mapper;
use crate::domain::role::{Holder, Role, RoleRef, with_builtins};
use crate::store::{Store, StoreError};

/// One consistent-enough view of the configuration, labelled with the
/// counter read before it was loaded.
pub struct Snapshot {
    version: i64,
    clients: HashMap<ClientId, Client>,
    mappers: Vec<Mapper>,
    /// The stored roles and the built-in ones.
    roles: Vec<Role>,
    /// Direct grants of groups and service accounts (not users).
    grants: HashMap<Holder, Vec<RoleRef>>,
}

impl Snapshot {
    pub fn client(&self, client_id: &str) -> Option<&Client> {
        self.clients.get(client_id)
    }

    /// How the clients allow a browser page on `origin` (an `Origin`
    /// header) to call the endpoints browser apps use: the most any client
    /// allows (naming it allows credentials; `*` allows it without).
    pub fn origin_access(&self, origin: &str) -> Option<crate::domain::client::OriginAccess> {
        self.clients
            .values()
            .filter_map(|c| c.origin_access(origin))
            .max()
    }

    /// The mappers to apply, in order.
    pub fn mappers(&self) -> &[Mapper] {
        &self.mappers
    }

    /// Every role of the realm, built-in ones included.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// The direct grants of a group or a service account.
    pub fn grants_of(&self, holder: &Holder) -> &[RoleRef] {
        self.grants.get(holder).map_or(&[], Vec::as_slice)
    }
}

/// Held by the `Issuer`; holds exactly what the store holds (one snapshot).
#[derive(Default)]
pub struct ConfigCache {
    current: RwLock<Option<Arc<Snapshot>>>,
    /// One reload at a time: tokens arriving during one wait for it.
    reload: tokio::sync::Mutex<()>,
}

impl ConfigCache {
    /// The configuration as of now: one counter read, and a reload when the
    /// counter moved since the cached snapshot was loaded.
    pub async fn get(&self, store: &dyn Store, realm: &str) -> Result<Arc<Snapshot>, StoreError> {
        let version = store.config_version().await?;
        if let Some(snapshot) = self.cached(version) {
            return Ok(snapshot);
        }
        let _one = self.reload.lock().await;
        if let Some(snapshot) = self.cached(version) {
            return Ok(snapshot);
        }
        let snapshot = Arc::new(load(store, realm, version).await?);
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().is_none_or(|s| s.version <= version) {
            *current = Some(snapshot.clone());
        }
        Ok(snapshot)
    }

    /// The cached snapshot when it is at least as new as `version`.
    fn cached(&self, version: i64) -> Option<Arc<Snapshot>> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current.as_ref().filter(|s| s.version >= version).cloned()
    }
}

async fn load(store: &dyn Store, realm: &str, version: i64) -> Result<Snapshot, StoreError> {
    let clients = store
        .list_clients()
        .await?
        .into_iter()
        .map(|c| (c.client_id.clone(), c))
        .collect();
    let mappers = mappers::load(store).await?;
    let roles = with_builtins(realm, store.list_roles().await?);
    let mut grants: HashMap<Holder, Vec<RoleRef>> = HashMap::new();
    for grant in store.role_grants(&[]).await? {
        if !matches!(grant.holder, Holder::User(_)) {
            grants.entry(grant.holder).or_default().push(grant.role);
        }
    }
    Ok(Snapshot {
        version,
        clients,
        mappers,
        roles,
        grants,
    })
}
