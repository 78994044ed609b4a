//! `domino-idp agent` and `domino-idp proxy`: the Domino-run side
//! (`crate::domino`), configured the way a Domino run is: `DOMINO_API_HOST`,
//! `DOMINO_USER_API_KEY`, `DOMINO_TOKEN_FILE`; flags override. The API key
//! is read from the environment or a file, never from argv.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use url::Url;

use super::{Failure, Outcome};
use crate::config::Config;
use crate::domain::secret::Secret;
use crate::domino::agent::{self, AgentSettings};
use crate::domino::proxy::{self, Proxy};
use crate::domino::source::token_url;
use crate::domino::{TokenCache, TokenSource};
use crate::startup::shutdown_signal;

/// Where the Domino Token comes from.
#[derive(Debug, Args)]
pub struct Credentials {
    /// The API (and issuer) base URL, e.g. https://domino.example.com
    #[arg(long, env = "DOMINO_API_HOST", value_name = "URL")]
    api_host: Url,
    /// Read the API key from this file instead of DOMINO_USER_API_KEY
    #[arg(long, value_name = "FILE")]
    api_key_file: Option<PathBuf>,
    /// The token endpoint (default: <api host><http_relative_path>/realms/<realm>/protocol/openid-connect/token)
    #[arg(long, value_name = "URL")]
    token_url: Option<Url>,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    #[command(flatten)]
    credentials: Credentials,
    /// The token file to keep fresh
    #[arg(
        long,
        env = "DOMINO_TOKEN_FILE",
        value_name = "FILE",
        default_value = "/var/lib/domino/home/.api/token"
    )]
    token_file: PathBuf,
    /// Refresh this often, in seconds (default: at 80% of the token's life)
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    refresh_interval: Option<u64>,
    /// Write one token and exit (cron, an init container)
    #[arg(long)]
    once: bool,
}

#[derive(Debug, Args)]
pub struct ProxyArgs {
    #[command(flatten)]
    credentials: Credentials,
    /// Where the proxy listens; it hands out the user's token to whoever
    /// connects, so keep it on loopback
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8899")]
    proxy_listen: SocketAddr,
    /// Without an API key: read the token from this file (kept by `agent`)
    #[arg(long, env = "DOMINO_TOKEN_FILE", value_name = "FILE")]
    token_file: Option<PathBuf>,
}

fn http_client() -> Result<reqwest::Client, Failure> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(Failure::new)
}

fn api_key(credentials: &Credentials) -> Result<Option<Secret>, Failure> {
    let raw = match &credentials.api_key_file {
        Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
            Failure::usage(format!(
                "cannot read the API key from {}: {e}",
                path.display()
            ))
        })?),
        None => std::env::var("DOMINO_USER_API_KEY").ok(),
    };
    Ok(raw
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .map(Secret::new))
}

/// The API key exchange, or (`fallback`) the token file.
fn source(
    credentials: &Credentials,
    config: &Config,
    fallback: Option<PathBuf>,
) -> Result<TokenSource, Failure> {
    match (api_key(credentials)?, fallback) {
        (Some(api_key), _) => {
            let token_url = match &credentials.token_url {
                Some(url) => url.clone(),
                None => token_url(&credentials.api_host, config.realms_prefix(), &config.realm)
                    .map_err(Failure::usage)?,
            };
            Ok(TokenSource::Exchange {
                http: http_client()?,
                token_url,
                api_key,
            })
        }
        (None, Some(file)) => Ok(TokenSource::File(file)),
        (None, None) => Err(Failure::usage(
            "no credentials: set DOMINO_USER_API_KEY (or --api-key-file)",
        )),
    }
}

pub async fn run_agent(args: AgentArgs, config: &Config) -> Outcome {
    let source = source(&args.credentials, config, None)?;
    let settings = AgentSettings {
        token_file: args.token_file,
        refresh_interval: args.refresh_interval.map(Duration::from_secs),
        once: args.once,
    };
    agent::run(&source, &settings, shutdown_signal())
        .await
        .map_err(Failure::new)
}

pub async fn run_proxy(args: ProxyArgs, config: &Config) -> Outcome {
    let source = source(&args.credentials, config, args.token_file.clone())?;
    let proxy = Proxy::new(args.credentials.api_host, Arc::new(TokenCache::new(source)))
        .map_err(Failure::usage)?;
    let listener = tokio::net::TcpListener::bind(args.proxy_listen)
        .await
        .map_err(|e| Failure::new(format!("cannot listen on {}: {e}", args.proxy_listen)))?;
    let addr = listener.local_addr().map_err(Failure::new)?;
    if !addr.ip().is_loopback() {
        tracing::warn!(%addr, "the proxy hands the user's token to anyone who can connect: listen on loopback");
    }
    tracing::info!(upstream = %proxy.upstream(), "proxy listening on {addr}");
    let http = crate::server::http1(&config.server);
    proxy::serve(listener, proxy, http, shutdown_signal())
        .await
        .map_err(|e| Failure::new(format!("proxy error: {e}")))
}
