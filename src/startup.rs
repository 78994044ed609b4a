//! Turning a `Config` into a running server: open and migrate the store,
//! seed users and clients (and the built-in `domino-play`), load or create
//! keys, bind, and serve until told to stop,
//! with background tasks that purge expired grants and follow key rotation.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use tokio::net::TcpListener;

use crate::app::Issuer;
use crate::app::{clients, housekeeping, keycloak, mappers, roles, users};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::domain::password::PasswordHasher;
use crate::keys::{KeyHome, live};
use crate::store::Store;
use crate::{http, server, store};

/// How many argon2 computations may run at once: one per core.
pub fn hash_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: Issuer,
    key_home: KeyHome,
}

impl Application {
    /// The application on the system clock.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// The application reading the time from `clock` (tests move it).
    pub async fn build_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        let store = store::open(&config.database_url).await.with_context(|| {
            format!(
                "opening database_url {:?}",
                crate::config::redacted_url(&config.database_url)
            )
        })?;
        store.migrate().await.context("migrating the database")?;
        let passwords = Arc::new(PasswordHasher::new(hash_concurrency()).await?);
        let seeded = users::seed(store.as_ref(), &passwords, &config.users)
            .await
            .context("seeding [[users]]")?;
        if seeded > 0 {
            tracing::info!(count = seeded, "seeded users from the config file");
        }
        let seeded = clients::seed(store.as_ref(), &config.clients)
            .await
            .context("seeding [[clients]]")?;
        if seeded > 0 {
            tracing::info!(count = seeded, "seeded clients from the config file");
        }
        if config.builtin_domino_play {
            clients::ensure_builtin(store.as_ref())
                .await
                .context("creating the built-in domino-play client")?;
        }
        let seeded = mappers::seed(store.as_ref(), &config.mappers)
            .await
            .context("seeding [[mappers]]")?;
        if seeded > 0 {
            tracing::info!(count = seeded, "seeded mappers from the config file");
        }
        let holders: Vec<(roles::HolderName, Vec<String>)> = config
            .users
            .iter()
            .map(|u| (roles::HolderName::User(u.username.clone()), u.roles.clone()))
            .chain(config.clients.iter().map(|c| {
                (
                    roles::HolderName::Client(c.client_id.clone()),
                    c.service_account_roles.clone(),
                )
            }))
            .filter(|(_, names)| !names.is_empty())
            .collect();
        let seeded = roles::seed(
            store.as_ref(),
            &config.realm,
            &config.roles,
            &config.groups,
            &holders,
        )
        .await
        .context("seeding [[roles]] and role grants")?;
        if seeded > 0 {
            tracing::info!(count = seeded, "seeded roles from the config file");
        }
        if let Some(dir) = &config.keycloak_import_dir {
            import_keycloak_dir(store.as_ref(), &passwords, &config, dir).await?;
        }
        let key_home = KeyHome::new(&config, Some(store.clone()))?;
        let keys = key_home
            .refresh()
            .await
            .with_context(|| format!("loading keys from {}", key_home.describe()))?;
        let listener = TcpListener::bind(config.listen).await.with_context(|| {
            format!(
                "cannot listen on {}: free the port or choose another with --listen / DOMINO_IDP_LISTEN",
                config.listen
            )
        })?;
        let addr = listener.local_addr()?;
        let public_url = config.public_url_for(addr);
        if config.public_url.is_none() && addr.ip().is_unspecified() {
            tracing::warn!(
                %public_url,
                "listening on all interfaces without public_url: tokens will name an issuer clients cannot reach; set public_url"
            );
        }
        if config.admin_console {
            clients::ensure_admin_console(store.as_ref(), &public_url)
                .await
                .context("creating the built-in admin-console client")?;
        }
        let state = Issuer::new(config, &public_url, store, keys, passwords, clock);
        let router = http::build_router(state.clone());
        Ok(Application {
            listener,
            router,
            state,
            key_home,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn state(&self) -> &Issuer {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests
    /// finish for up to `server.shutdown_grace` (see `crate::server`).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let housekeeping = tokio::spawn(housekeeping::run(
            self.state.store.clone(),
            self.state.clock.clone(),
        ));
        let realm = self.state.realm.clone();
        let key_watch = tokio::spawn(live::watch(
            self.state.keys.clone(),
            self.key_home,
            move |ring| realm.documents(ring),
        ));
        let limits = self.state.config.server.clone();
        let served = server::serve(self.listener, self.router, &limits, shutdown).await;
        housekeeping.abort();
        key_watch.abort();
        served
    }
}

/// Imports every `*.json` realm export in `dir`, in name order, as
/// Keycloak's `--import-realm` does. A file of another realm is skipped
/// with a warning (a Keycloak export folder holds the master realm too);
/// a file that is not an export stops start-up. Confidential clients whose
/// secret is masked are skipped: a secret generated here would be lost.
async fn import_keycloak_dir(
    store: &dyn Store,
    passwords: &PasswordHasher,
    config: &Config,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading keycloak_import_dir {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let options = keycloak::ImportOptions::default();
        match keycloak::import(store, passwords, config, &text, &options).await {
            Ok(report) => {
                tracing::info!(
                    file = %file.display(),
                    users_created = report.users.created,
                    clients_created = report.clients.created,
                    mappers_created = report.mappers.created,
                    findings = report.findings.len(),
                    "imported Keycloak realm export"
                );
                for finding in &report.findings {
                    tracing::info!(file = %file.display(), "{finding}");
                }
            }
            Err(keycloak::KeycloakError::RealmMismatch { found, .. }) => {
                tracing::warn!(file = %file.display(), realm = %found, "Keycloak export of another realm skipped");
            }
            Err(e) => {
                return Err(anyhow::anyhow!(e))
                    .with_context(|| format!("importing {}", file.display()));
            }
        }
    }
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; draining in-flight requests");
}
