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
//! Reads of the counter are shared between concurrent tokens, never reused
//! across time: a token waits for a read that *started after it arrived*
//! (`CounterReads`), so the guarantee above holds unchanged, while fifty
//! tokens arriving during one read share the next one instead of making
//! fifty.
//!
//! Users' own role grants are per-user data that grows with the users, so
//! they are not loaded with the rest: a snapshot remembers the grants of
//! each user it served a token for (up to `MAX_USERS_REMEMBERED`), read on
//! that user's first token. The counter moves with every change of a grant
//! too, so what a snapshot remembers was read after the snapshot's own
//! counter read: never older than the snapshot.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::oneshot;

use crate::app::mappers;
use crate::domain::client::{Client, ClientId, OriginTable};
use crate::domain::mapper::Mapper;
use crate::domain::role::{Holder, Role, RoleRef, with_builtins};
use crate::store::{Store, StoreError};

/// One consistent-enough view of the configuration, labelled with the
/// counter read before it was loaded.
pub struct Snapshot {
    version: i64,
    clients: HashMap<ClientId, Client>,
    /// What the clients allow each web origin.
    origins: OriginTable,
    mappers: Vec<Mapper>,
    /// The stored roles and the built-in ones.
    roles: Vec<Role>,
    /// Direct grants of groups and service accounts (not users).
    grants: HashMap<Holder, Vec<RoleRef>>,
    /// Users' own grants, as read for their tokens under this snapshot.
    user_grants: Mutex<HashMap<String, Arc<[RoleRef]>>>,
}

/// How many users' grants one snapshot remembers (a few hundred bytes
/// each); beyond that, tokens read them per request.
const MAX_USERS_REMEMBERED: usize = 10_000;

impl Snapshot {
    pub fn client(&self, client_id: &str) -> Option<&Client> {
        self.clients.get(client_id)
    }

    /// How the clients allow a browser page on `origin` (an `Origin`
    /// header) to call the endpoints browser apps use: the most any client
    /// allows (naming it allows credentials; `*` allows it without).
    pub fn origin_access(&self, origin: &str) -> Option<crate::domain::client::OriginAccess> {
        self.origins.access(origin)
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

    /// A user's own grants, when a token of this snapshot read them already.
    pub fn user_grants(&self, user_id: &str) -> Option<Arc<[RoleRef]>> {
        let remembered = self.user_grants.lock().unwrap_or_else(|e| e.into_inner());
        remembered.get(user_id).cloned()
    }

    /// Remembers a user's own grants, read after this snapshot was labelled.
    pub fn remember_user_grants(&self, user_id: &str, grants: Arc<[RoleRef]>) {
        let mut remembered = self.user_grants.lock().unwrap_or_else(|e| e.into_inner());
        if remembered.len() < MAX_USERS_REMEMBERED {
            remembered.insert(user_id.to_owned(), grants);
        }
    }
}

/// Held by the `Issuer`; holds exactly what its store holds for its realm
/// (one snapshot).
pub struct ConfigCache {
    store: Arc<dyn Store>,
    realm: String,
    current: RwLock<Option<Arc<Snapshot>>>,
    /// One reload at a time: tokens arriving during one wait for it.
    reload: tokio::sync::Mutex<()>,
    counter: Arc<CounterReads>,
    /// When (Unix ms) a request that found the cached snapshot current
    /// arrived: the snapshot was the store's configuration then.
    confirmed_ms: AtomicI64,
}

impl ConfigCache {
    pub fn new(store: Arc<dyn Store>, realm: &str) -> ConfigCache {
        ConfigCache {
            store,
            realm: realm.to_owned(),
            current: RwLock::default(),
            reload: tokio::sync::Mutex::default(),
            counter: Arc::default(),
            confirmed_ms: AtomicI64::default(),
        }
    }

    /// The configuration as of now: a counter read that started after this
    /// call, and a reload when the counter moved since the cached snapshot
    /// was loaded.
    /// `now_ms` is when the caller asked (Unix ms, from the issuer's clock).
    pub async fn get(&self, now_ms: i64) -> Result<Arc<Snapshot>, StoreError> {
        let version = self.counter.read(&self.store).await?;
        self.at(version, now_ms).await
    }

    /// The configuration as of `version`, a counter read the caller made
    /// itself after its request arrived (in the statement that read its own
    /// data, as a refresh grant does): the cached snapshot when it is at
    /// least that new, else a reload.
    pub async fn at(&self, version: i64, now_ms: i64) -> Result<Arc<Snapshot>, StoreError> {
        if let Some(snapshot) = self.cached(version, now_ms) {
            return Ok(snapshot);
        }
        let _one = self.reload.lock().await;
        if let Some(snapshot) = self.cached(version, now_ms) {
            return Ok(snapshot);
        }
        let snapshot = Arc::new(load(self.store.as_ref(), &self.realm, version).await?);
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().is_none_or(|s| s.version <= version) {
            *current = Some(snapshot.clone());
            self.confirmed_ms.fetch_max(now_ms, Ordering::Relaxed);
        }
        Ok(snapshot)
    }

    /// The cached snapshot when a request that arrived at most `max_age_ms`
    /// before `now_ms` found it current; otherwise `get`. For answers a
    /// client caches anyway (a CORS preflight: browsers keep it for its
    /// `Access-Control-Max-Age`), never for a token.
    pub async fn get_recent(
        &self,
        now_ms: i64,
        max_age_ms: i64,
    ) -> Result<Arc<Snapshot>, StoreError> {
        let fresh = self.confirmed_ms.load(Ordering::Relaxed) >= now_ms.saturating_sub(max_age_ms);
        if fresh {
            let current = self.current.read().unwrap_or_else(|e| e.into_inner());
            if let Some(snapshot) = current.as_ref() {
                return Ok(snapshot.clone());
            }
        }
        self.get(now_ms).await
    }

    /// The cached snapshot when it is at least as new as `version`, which a
    /// read that began by `now_ms` returned: it is then current as of then.
    fn cached(&self, version: i64, now_ms: i64) -> Option<Arc<Snapshot>> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        let snapshot = current.as_ref().filter(|s| s.version >= version).cloned();
        if snapshot.is_some() {
            self.confirmed_ms.fetch_max(now_ms, Ordering::Relaxed);
        }
        snapshot
    }
}

/// Reads of the change counter, shared by the callers that wait at the same
/// time. A caller joins the batch of the *next* read: one that starts after
/// it joined. One read runs at a time, in a task of its own (a caller that
/// goes away cannot strand the others); when it returns, everyone who joined
/// while it ran is served by the following read.
#[derive(Default)]
struct CounterReads {
    state: Mutex<Waiting>,
}

#[derive(Default)]
struct Waiting {
    /// A read task is running (it takes `next` before each read).
    running: bool,
    next: Vec<oneshot::Sender<Result<i64, StoreError>>>,
}

impl CounterReads {
    async fn read(self: &Arc<Self>, store: &Arc<dyn Store>) -> Result<i64, StoreError> {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.next.push(tx);
            !std::mem::replace(&mut state.running, true)
        };
        if start {
            let (reads, store) = (self.clone(), store.clone());
            tokio::spawn(async move { reads.serve(store.as_ref()).await });
        }
        rx.await.unwrap_or_else(|_| {
            Err(StoreError::Unavailable(
                "the change counter's read was cancelled".into(),
            ))
        })
    }

    /// Reads for each batch in turn until nobody waits.
    async fn serve(&self, store: &dyn Store) {
        loop {
            let batch = {
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                if state.next.is_empty() {
                    state.running = false;
                    return;
                }
                std::mem::take(&mut state.next)
            };
            let version = store.config_version().await;
            for waiter in batch {
                // A waiter that went away needs no answer.
                let _ = waiter.send(version.clone());
            }
        }
    }
}

async fn load(store: &dyn Store, realm: &str, version: i64) -> Result<Snapshot, StoreError> {
    let clients: HashMap<ClientId, Client> = store
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
    let origins = OriginTable::of(clients.values());
    Ok(Snapshot {
        version,
        origins,
        clients,
        mappers,
        roles,
        grants,
        user_grants: Mutex::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::ClientSpec;

    async fn add_client(store: &Arc<dyn Store>, id: &str) {
        let (client, _) = Client::from_spec(&ClientSpec {
            client_id: id.into(),
            public: true,
            redirect_uris: vec!["http://127.0.0.1:9/cb".into()],
            ..ClientSpec::default()
        })
        .unwrap();
        store.insert_client(&client).await.unwrap();
    }

    /// Whether the snapshot a preflight reads at `at_ms` (with a second's
    /// age allowed) has the client `id`.
    async fn recent_has(cache: &ConfigCache, at_ms: i64, id: &str) -> bool {
        let recent = cache.get_recent(at_ms, 1_000).await.unwrap();
        recent.client(id).is_some()
    }

    /// A preflight may be answered from the snapshot some request found
    /// current within the last second; a token's read sees every change.
    #[tokio::test]
    async fn a_recent_snapshot_serves_within_its_age_and_a_token_never_waits() {
        let Some((store, _dir)) = crate::store::sqlite::testdb::fresh().await else {
            return;
        };
        let store: Arc<dyn Store> = Arc::new(store);
        let cache = ConfigCache::new(store.clone(), "R");
        let t = 1_800_000_000_000;
        assert!(cache.get(t).await.unwrap().client("late").is_none());

        add_client(&store, "late").await;
        assert!(
            !recent_has(&cache, t + 999, "late").await,
            "within the second: the snapshot"
        );
        let token = cache.get(t + 999).await.unwrap();
        assert!(
            token.client("late").is_some(),
            "a token's read sees the change"
        );
        assert!(
            recent_has(&cache, t + 1_000, "late").await,
            "the reload is the snapshot now"
        );

        add_client(&store, "later").await;
        assert!(
            recent_has(&cache, t + 3_000, "later").await,
            "past its age the snapshot is read again"
        );
    }
}
