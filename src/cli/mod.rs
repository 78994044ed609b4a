//! The command line: `serve`, `migrate`, `user`, `client`, `keys`, `token`,
//! `import`/`export keycloak`, `check-config`.

mod apikey;
mod bench;
mod client;
mod domino;
mod keepconfig;
mod keycloak;
mod keys;
mod mapper;
mod role;
mod token;
mod user;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::layer::{Layered, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer, Registry, reload};

use crate::app::admin::{self, Removable};
use crate::config::{Config, LogFormat, Overrides};
use crate::startup::{Application, shutdown_signal};
use crate::store::{self, Store};

#[derive(Debug, Parser)]
#[command(
    name = "domino-idp",
    version,
    about = "A small token issuer and OpenID Connect provider"
)]
pub struct Cli {
    /// TOML configuration file
    #[arg(long, global = true, env = "DOMINO_IDP_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub overrides: Overrides,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (defaults: 127.0.0.1:8080, ./data/idp.db, ./keys)
    Serve,
    /// Create or upgrade the database schema, then exit
    Migrate,
    /// Manage users of the password store
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage claim mappers
    #[command(subcommand)]
    Mapper(mapper::MapperCommand),
    /// Inspect the claims tokens would carry
    #[command(subcommand)]
    Claims(mapper::ClaimsCommand),
    /// Manage OAuth clients
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Manage realm and client roles and who holds them
    #[command(subcommand)]
    Role(role::RoleCommand),
    /// Manage users' API keys (X-Domino-Api-Key)
    #[command(subcommand)]
    Apikey(apikey::ApiKeyCommand),
    /// Inspect and export the signing keys
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Work with tokens
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Keep a Domino Token file fresh (DOMINO_API_HOST, DOMINO_USER_API_KEY, DOMINO_TOKEN_FILE)
    Agent(domino::AgentArgs),
    /// The Domino API proxy: adds the Domino Token to every request it forwards
    Proxy(domino::ProxyArgs),
    /// Import a realm export from another identity provider (Keycloak)
    #[command(subcommand)]
    Import(keycloak::ImportCommand),
    /// Export the realm in another identity provider's format (Keycloak)
    #[command(subcommand)]
    Export(keycloak::ExportCommand),
    /// Load and validate the configuration, then print the effective settings
    CheckConfig,
    /// Measure the signing and argon2 ceilings on this machine (for bench/)
    #[command(subcommand, hide = true)]
    Bench(bench::BenchCommand),
}

/// A failed command: what to tell the operator and which exit code to use.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: u8,
}

impl Failure {
    pub fn new(message: impl std::fmt::Display) -> Self {
        Failure {
            message: message.to_string(),
            code: 1,
        }
    }
    fn usage(message: impl std::fmt::Display) -> Self {
        Failure {
            message: message.to_string(),
            code: 2,
        }
    }
}

type Outcome = Result<(), Failure>;

/// Prints `value` as pretty JSON on stdout (a command's `--json` output).
fn print_json(value: &impl serde::Serialize) -> Outcome {
    println!(
        "{}",
        serde_json::to_string_pretty(value).map_err(Failure::new)?
    );
    Ok(())
}

type Filtered = Layered<EnvFilter, Registry>;
type LogWriter = Box<dyn Layer<Filtered> + Send + Sync>;

/// How log lines are written, decided here only: on stderr, filtered by
/// `RUST_LOG` (default `info`), as text until the configuration is loaded,
/// then in its `log_format`.
pub struct Logs(reload::Handle<LogWriter, Filtered>);

impl Logs {
    /// Installs the process's subscriber. Call once, first thing.
    pub fn init() -> Logs {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
        let (writer, handle) = reload::Layer::new(log_writer(LogFormat::Text));
        tracing_subscriber::registry()
            .with(filter)
            .with(writer)
            .init();
        Logs(handle)
    }

    fn set_format(&self, format: LogFormat) {
        if let Err(e) = self.0.reload(log_writer(format)) {
            eprintln!("warning: cannot switch the log format to {format:?}: {e}");
        }
    }
}

fn log_writer(format: LogFormat) -> LogWriter {
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match format {
        LogFormat::Text => layer.with_ansi(std::io::stderr().is_terminal()).boxed(),
        LogFormat::Json => layer.json().boxed(),
    }
}

pub fn run(cli: Cli, logs: &Logs) -> ExitCode {
    // Printed, not logged: a bad `log_format` must still be readable.
    let config = match Config::load(cli.config.as_deref(), &cli.overrides) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: configuration is invalid:");
            for problem in &e.problems {
                eprintln!("  - {problem}");
            }
            return ExitCode::from(2);
        }
    };
    logs.set_format(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .event_interval(EVENT_INTERVAL)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

/// How many task polls a runtime worker makes between two looks at the
/// sockets (tokio's default is 61). A signature is a poll of a millisecond
/// or so on a signer task (`keys::turns`), which goes to the back of its
/// worker's queue after each one and so keeps the worker from ever running
/// dry, the other moment it looks. At 61, a request that arrived waited
/// behind up to 61 polls, a few dozen signatures, before it joined the
/// signatures' queue; at 16 it waits behind a few. 8 served the signatures
/// no better and cost the cheap paths' p99 (the JWKS's) about 0.4 ms
/// (docs/performance.md, "Signatures in turns").
pub const EVENT_INTERVAL: u32 = 16;

async fn dispatch(command: Command, config: Config) -> Outcome {
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            open_store(&config).await?;
            println!(
                "database {} is up to date",
                crate::config::redacted_url(&config.database_url)
            );
            Ok(())
        }
        Command::User(cmd) => user::run(cmd, &config).await,
        Command::Client(cmd) => client::run(cmd, &config).await,
        Command::Role(cmd) => role::run(cmd, &config).await,
        Command::Apikey(cmd) => apikey::run(cmd, &config).await,
        Command::Mapper(cmd) => mapper::run(cmd, &config).await,
        Command::Claims(cmd) => mapper::run_claims(cmd, &config).await,
        Command::Keys(cmd) => keys::run_keys(cmd, &config).await,
        Command::Token(cmd) => token::run_token(cmd, &config).await,
        Command::Agent(args) => domino::run_agent(args, &config).await,
        Command::Proxy(args) => domino::run_proxy(args, &config).await,
        Command::Bench(cmd) => bench::run(cmd, &config).await,
        Command::Import(cmd) => keycloak::run_import(cmd, &config).await,
        Command::Export(cmd) => keycloak::run_export(cmd, &config).await,
        Command::CheckConfig => {
            let text = toml::to_string(&config).map_err(Failure::new)?;
            println!("# configuration OK; effective settings (secrets redacted):\n{text}");
            Ok(())
        }
    }
}

async fn serve(config: Config) -> Outcome {
    let app = Application::build(config)
        .await
        .map_err(|e| Failure::new(format!("{e:#}")))?;
    let addr = app.local_addr();
    tracing::info!(
        issuer = %app.state().realm.issuer,
        kid = %app.state().keys.signer().kid(),
        "listening on {addr}"
    );
    app.run_until(shutdown_signal())
        .await
        .map_err(|e| Failure::new(format!("server error: {e}")))?;
    tracing::info!("stopped");
    Ok(())
}

/// The audit line of an administrative change made from the command line.
pub(crate) fn audit_admin(action: &str, subject: &str) {
    admin::audit(action, subject, &operator());
}

/// `user remove`, `client remove` and `mapper remove`: removes the one
/// `key` names and says so.
async fn remove(store: &dyn Store, what: Removable, key: &str) -> Result<(), Failure> {
    admin::remove(store, what, key, &operator())
        .await
        .map_err(Failure::new)?;
    println!("removed {what} {key}");
    Ok(())
}

/// Who runs the command, as the audit lines name the operator.
pub(crate) fn operator() -> String {
    std::env::var("USER").unwrap_or_default()
}

/// Opens and migrates the configured store (CLI commands work on a fresh directory).
async fn open_store(config: &Config) -> Result<Arc<dyn Store>, Failure> {
    let store = store::open(&config.database_url)
        .await
        .map_err(Failure::usage)?;
    store.migrate().await.map_err(Failure::new)?;
    Ok(store)
}
