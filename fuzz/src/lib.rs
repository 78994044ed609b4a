//! Fixtures shared by the fuzz targets: one app (temp directory, SQLite,
//! a real key, cheap argon2) built once per fuzzing process.

use std::sync::{Arc, OnceLock};

use axum::Router;
use domino_idp::config::{Config, Secret};
use domino_idp::domain::client::{ClientSpec, GrantType};
use domino_idp::domain::mapper::MapperSpec;
use domino_idp::domain::password::PasswordHasher;
use domino_idp::domain::user::{ScopeList, UserSpec};
use domino_idp::keys::{KeyRing, KeySettings, rotate};
use domino_idp::app::Issuer;

pub const PASSWORD: &str = "correct horse battery staple";
pub const CLIENT_SECRET: &str = "fuzz-client-secret-0123";

pub struct Fixture {
    pub runtime: tokio::runtime::Runtime,
    pub state: Issuer,
    pub router: Router,
    /// Where the database and keys live; removed at exit.
    _dir: tempfile::TempDir,
}

/// The app, built on first use.
pub fn app() -> &'static Fixture {
    static APP: OnceLock<Fixture> = OnceLock::new();
    APP.get_or_init(build)
}

/// A config whose files live under `dir`, with a user, a client and mappers.
pub fn config(dir: &std::path::Path) -> Config {
    let mappers: Vec<MapperSpec> = serde_json::from_value(serde_json::json!([
        { "name": "dept", "type": "user-attribute", "claim": "org.dept", "attribute": "dept", "multivalued": true },
        { "name": "groups", "type": "group-membership", "claim": "groups" },
        { "name": "tenant", "type": "hardcoded", "claim": "tenant", "value": "acme" },
    ]))
    .unwrap_or_default();
    Config {
        listen: "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()),
        database_url: format!("sqlite://{}", dir.join("idp.db").display()),
        keys_dir: dir.join("keys"),
        users: vec![UserSpec {
            username: "doc".into(),
            password: Some(Secret::new(PASSWORD)),
            email: Some("doctor.notes@projectkeep.io".into()),
            cn: Some("Doctor Notes".into()),
            org: Some("ProjectKeep".into()),
            scopes: ScopeList::Spaced("MAIL $DATA".into()),
            groups: vec!["Admins".into()],
            ..Default::default()
        }],
        clients: vec![
            ClientSpec {
                client_id: "domino-play".into(),
                secret: Some(Secret::new(CLIENT_SECRET)),
                redirect_uris: vec!["http://127.0.0.1:9/callback".into()],
                grant_types: GrantType::ALL.to_vec(),
                ..ClientSpec::default()
            },
            ClientSpec {
                client_id: "spa".into(),
                public: true,
                redirect_uris: vec!["http://127.0.0.1:9/spa".into()],
                ..ClientSpec::default()
            },
        ],
        mappers,
        ..Config::default()
    }
}

fn build() -> Fixture {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(dir.path());
    config.validate().expect("fuzz config is valid");
    let state = runtime.block_on(async {
        let store = domino_idp::store::open(&config.database_url)
            .await
            .expect("store");
        store.migrate().await.expect("migrate");
        // Cheap argon2: the targets are after parsing bugs, not hashing.
        let params = argon2::Params::new(8, 1, 1, None).expect("params");
        let passwords = Arc::new(
            PasswordHasher::with_params(params, 2)
                .await
                .expect("hasher"),
        );
        domino_idp::app::users::seed(store.as_ref(), &passwords, &config.users)
            .await
            .expect("users");
        domino_idp::app::clients::seed(store.as_ref(), &config.clients)
            .await
            .expect("clients");
        domino_idp::app::mappers::seed(store.as_ref(), &config.mappers)
            .await
            .expect("mappers");
        let keys = ring(&config);
        Issuer::new(config, "http://idp.test", store, keys, passwords)
    });
    let router = domino_idp::build_router(state.clone());
    Fixture {
        runtime,
        state,
        router,
        _dir: dir,
    }
}

/// The key ring of `config.keys_dir`, created if empty.
pub fn ring(config: &Config) -> KeyRing {
    rotate::refresh(&KeySettings::from_config(config)).expect("keys")
}
