//! One way to build the app for every test: a temp directory holding the
//! database (a SQLite file, or with `IDP_TEST_POSTGRES_URL` a Postgres
//! database of its own) and the keys, a port-0 listener, real HTTP.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use domino_idp::app::Issuer;
use domino_idp::app::users;
use domino_idp::clock::TestClock;
use domino_idp::config::{Config, KeyStoreKind, Secret};
use domino_idp::domain::client::{ClientSpec, GrantType};
use domino_idp::domain::user::{NewUser, ScopeList, UserSpec};
use domino_idp::startup::Application;
use serde_json::Value;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use crate::errors::{expect_error, expect_oauth_error};
pub use crate::keys::{verify_with_jwks, verify_with_jwks_for};

pub const PASSWORD: &str = "correct horse battery staple";

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_domino-idp");

/// `domino-idp` run in `dir` with no `DOMINO_IDP_*` variable from the test's
/// environment, so only what the test sets reaches the config layers. On
/// Postgres it is pointed at `dir`'s database (see `database_url`), where a
/// server started by `spawn_in(dir, ..)` finds what the command wrote.
pub fn idp_command(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(BIN);
    cmd.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("DOMINO_IDP_") {
            cmd.env_remove(key);
        }
    }
    if postgres_server().is_some() {
        cmd.env("DOMINO_IDP_DATABASE_URL", database_url(dir));
        cmd.env("DOMINO_IDP_KEY_STORE", "dir");
    }
    cmd
}

/// The Postgres server the suite runs on (`IDP_TEST_POSTGRES_URL`, e.g.
/// postgres://postgres@127.0.0.1:5433/postgres; scripts/test.sh starts one),
/// or `None`: SQLite files.
pub fn postgres_server() -> Option<String> {
    std::env::var("IDP_TEST_POSTGRES_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

pub fn on_postgres() -> bool {
    postgres_server().is_some()
}

/// Where `dir`'s database URL is kept on Postgres, so every app and command
/// run on `dir` (a restart, the CLI beside a server) uses the same database.
const DATABASE_MARKER: &str = ".test-database-url";

/// The database of a test directory: `sqlite://DIR/data/idp.db`, or on
/// Postgres a database created for `dir` on first use. A directory that does
/// not exist gets the SQLite URL: nothing will open it.
pub fn database_url(dir: &Path) -> String {
    let sqlite = format!("sqlite://{}", dir.join("data/idp.db").display());
    let Some(server) = postgres_server() else {
        return sqlite;
    };
    if !dir.is_dir() {
        return sqlite;
    }
    // Two threads of one test (a server and a CLI loop) must not both create one.
    static CREATING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = CREATING.lock().unwrap_or_else(|e| e.into_inner());
    let marker = dir.join(DATABASE_MARKER);
    if let Ok(url) = std::fs::read_to_string(&marker) {
        return url;
    }
    let url = create_database(&server);
    std::fs::write(&marker, &url).expect("database marker written");
    url
}

/// Runs `f` on a runtime of its own, on a thread of its own, so that sync
/// code (a `Drop`, `config_in`) can wait for it inside or outside a runtime.
fn block_on_own_runtime<T: Send + 'static>(
    f: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    })
    .join()
    .expect("database thread")
}

/// Creates a database on the test server; returns its URL.
pub fn create_database(server: &str) -> String {
    use sqlx::Connection as _;
    let name = format!("idp_t_{}", uuid::Uuid::new_v4().simple());
    let (admin, create) = (server.to_owned(), format!("CREATE DATABASE {name}"));
    block_on_own_runtime(async move {
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("IDP_TEST_POSTGRES_URL {admin}: {e}"));
        sqlx::query(&create)
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        conn.close().await.ok();
    });
    let mut url = url::Url::parse(server).expect("IDP_TEST_POSTGRES_URL is a URL");
    url.set_path(&name);
    url.into()
}

/// A test directory's Postgres database, dropped (best effort) with this value.
struct TestDb {
    server: String,
    name: String,
}

impl TestDb {
    /// The database `dir` was given, to be dropped with the returned value.
    fn of(dir: &Path) -> Option<TestDb> {
        let server = postgres_server()?;
        let url = std::fs::read_to_string(dir.join(DATABASE_MARKER)).ok()?;
        let name = url::Url::parse(&url)
            .ok()?
            .path()
            .trim_start_matches('/')
            .to_owned();
        Some(TestDb { server, name })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        use sqlx::Connection as _;
        let (server, drop) = (
            self.server.clone(),
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        block_on_own_runtime(async move {
            if let Ok(mut conn) = sqlx::PgConnection::connect(&server).await {
                let _ = sqlx::query(&drop).execute(&mut conn).await;
                let _ = conn.close().await;
            }
        });
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub state: Issuer,
    /// The app's clock: move it instead of sleeping.
    pub clock: Arc<TestClock>,
    _tmp: Option<TempDir>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    /// Declared last: dropped after the server's handles.
    _db: Option<TestDb>,
}

/// A config whose files all live under `dir` (on Postgres: the database is
/// `dir`'s, the keys stay in `dir`).
pub fn config_in(dir: &Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        database_url: database_url(dir),
        keys_dir: dir.join("keys"),
        key_store: on_postgres().then_some(KeyStoreKind::Dir),
        ..Config::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_owned();
    let mut app = spawn_in(&dir, tweak).await;
    app._tmp = Some(tmp);
    app._db = TestDb::of(&dir);
    app
}

/// Starts the app on an existing directory (for restart tests).
pub async fn spawn_in(dir: &Path, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = config_in(dir);
    tweak(&mut config);
    config.validate().expect("test config is valid");
    let clock = Arc::new(TestClock::new());
    let app = Application::build_with_clock(config, clock.clone())
        .await
        .expect("app builds");
    let addr = app.local_addr();
    let state = app.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        state,
        clock,
        _tmp: None,
        stop: Some(stop),
        server: Some(server),
        _db: None,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn issuer(&self) -> String {
        format!("{}/auth/realms/DominoRealm", self.base)
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server ran");
        }
    }

    pub async fn add_user(&self, spec: UserSpec) {
        let user = NewUser::from_spec(&spec).expect("valid spec");
        users::create(self.state.store.as_ref(), &self.state.passwords, user)
            .await
            .expect("user created");
    }

    /// Doctor Notes of ProjectKeep, as in the Keep documentation.
    pub async fn add_doc(&self) {
        self.add_user(doc_spec()).await;
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/auth",
            &serde_json::json!({ "username": username, "password": password }),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// GET `path`; its body as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        self.get(path).await.json().await.unwrap()
    }

    pub async fn jwks(&self) -> Value {
        self.get("/auth/realms/DominoRealm/protocol/openid-connect/certs")
            .await
            .json()
            .await
            .expect("jwks json")
    }
}

pub const CLIENT_SECRET: &str = "play-secret-0123456789";
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// A confidential client allowed every grant, like Domino's `domino-play`.
pub fn play_client() -> ClientSpec {
    ClientSpec {
        client_id: "domino-play".into(),
        secret: Some(Secret::new(CLIENT_SECRET)),
        redirect_uris: vec![REDIRECT_URI.into()],
        post_logout_redirect_uris: vec!["http://127.0.0.1:9/signed-out".into()],
        grant_types: GrantType::ALL.to_vec(),
        default_scopes: vec![],
        ..ClientSpec::default()
    }
}

impl TestApp {
    /// `R/protocol/openid-connect/<endpoint>`.
    pub fn oidc(&self, endpoint: &str) -> String {
        format!("{}/protocol/openid-connect/{endpoint}", self.issuer())
    }

    /// A browser's CORS preflight from `origin` for a POST to the token
    /// endpoint.
    pub async fn token_preflight(&self, origin: &str) -> reqwest::Response {
        self.client
            .request(reqwest::Method::OPTIONS, self.oidc("token"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .expect("request sent")
    }

    /// Registers a client; returns the generated secret, if any.
    pub async fn add_client(&self, spec: ClientSpec) -> Option<String> {
        domino_idp::app::clients::create(self.state.store.as_ref(), &spec)
            .await
            .expect("client created")
            .1
    }

    /// Doctor Notes plus the `domino-play` client.
    pub async fn add_doc_and_play(&self) {
        self.add_doc().await;
        self.add_client(play_client()).await;
    }

    /// POSTs a form to an OIDC endpoint, with HTTP Basic when `basic` is given.
    pub async fn oidc_post(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> reqwest::Response {
        let mut req = self.client.post(self.oidc(endpoint)).form(form);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        req.send().await.expect("request sent")
    }

    /// A refresh grant at `domino-play`.
    pub async fn refresh_grant(&self, refresh_token: &str) -> reqwest::Response {
        self.oidc_post(
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await
    }

    /// A password grant for Doctor Notes at `domino-play`; returns the JSON body.
    pub async fn password_grant(&self, scope: &str) -> Value {
        let resp = self
            .oidc_post(
                "token",
                &[
                    ("grant_type", "password"),
                    ("username", "doc"),
                    ("password", PASSWORD),
                    ("scope", scope),
                ],
                Some(("domino-play", CLIENT_SECRET)),
            )
            .await;
        assert_eq!(resp.status(), 200, "password grant");
        resp.json().await.expect("token response")
    }
}

pub fn doc_spec() -> UserSpec {
    UserSpec {
        username: "doc".into(),
        password: Some(Secret::new(PASSWORD)),
        email: Some("doctor.notes@projectkeep.io".into()),
        cn: Some("Doctor Notes".into()),
        org: Some("ProjectKeep".into()),
        scopes: ScopeList::Spaced("MAIL $DATA".into()),
        ..Default::default()
    }
}
