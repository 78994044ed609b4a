//! `domino-idp token verify`: check a JWT the way a consumer would. The
//! checking lives in `crate::verify`; this is argument handling and output.

use std::io::Read as _;
use std::path::PathBuf;

use clap::{ArgGroup, Args, Subcommand};
use url::Url;

use super::{Failure, Outcome, print_json};
use crate::config::Config;
use crate::store::now;
use crate::verify::{Options, Source, verify_against};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Verify a JWT against one key source; exit 0 only when valid
    ///
    /// Without a source option the token is checked against this issuer's
    /// keys (keys_dir), issuer and audience. Exit codes: 0 valid, 1 invalid
    /// (the reason on stderr), 2 usage error or unusable source. `--leeway`
    /// and `--keys-dir` are the global settings.
    Verify(Box<VerifyArgs>),
    /// Revoke any token this issuer signed (a Keep token too), by the token or its jti
    ///
    /// The jti goes on the deny-list that userinfo and introspection check,
    /// on every instance, until the token expires. A resource server that
    /// verifies tokens offline against the JWKS (as Keep does) cannot learn
    /// of it: the token stays valid there until its `exp`.
    Revoke {
        /// The JWT, its jti, or - to read either from stdin
        token: String,
    },
}

#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("source")
        .args(["jwks", "issuer_url", "realm_url", "key", "providers"])
        .multiple(false)
))]
pub struct VerifyArgs {
    /// The JWT, or - to read it from stdin
    token: String,
    /// A JWKS document (e.g. …/protocol/openid-connect/certs)
    #[arg(long, value_name = "URL", value_parser = http_url)]
    jwks: Option<Url>,
    /// An OIDC issuer: discovery → jwks_uri; iss must be the discovered issuer
    #[arg(long, value_name = "URL", value_parser = http_url)]
    issuer_url: Option<Url>,
    /// A Keycloak realm URL (…/auth/realms/<realm>); iss must be the realm URL
    #[arg(long, value_name = "URL", value_parser = http_url)]
    realm_url: Option<Url>,
    /// A PEM public key (PUBLIC KEY, RSA PUBLIC KEY) or X.509 certificate: Keep's keyFile
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// A Keep-style provider directory (keepconfig.d): *.json files with a "jwt" object
    #[arg(long, value_name = "DIR")]
    providers: Option<PathBuf>,
    /// Expected issuer, overriding the one the source implies
    #[arg(long, value_name = "ISS")]
    issuer: Option<String>,
    /// Expected audience, repeatable (default: a provider's aud, else the configured one)
    #[arg(long = "expect-audience", value_name = "AUD")]
    expect_audience: Vec<String>,
    /// Print the verdict as JSON on stdout (the exit code is unchanged)
    #[arg(long)]
    json: bool,
}

fn http_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!("{other}: only http and https URLs can be fetched")),
    }
}

pub async fn run_token(cmd: TokenCommand, config: &Config) -> Outcome {
    match cmd {
        TokenCommand::Verify(args) => verify(*args, config).await,
        TokenCommand::Revoke { token } => revoke(&token, config).await,
    }
}

fn read_token(arg: String) -> Result<String, Failure> {
    if arg != "-" {
        return Ok(arg);
    }
    let mut buf = String::new();
    std::io::stdin()
        .read_to_string(&mut buf)
        .map_err(|e| Failure::usage(format!("cannot read the token from stdin: {e}")))?;
    Ok(buf.trim().to_owned())
}

/// What `token revoke` was given: the token's jti and expiry.
async fn revoked_jti(raw: &str, config: &Config) -> Result<(String, i64), Failure> {
    if raw.split('.').count() == 3 {
        let ring = super::keys::home(config)
            .await?
            .load()
            .await
            .map_err(Failure::new)?;
        let (_, claims) = ring
            .verify_signature(raw)
            .map_err(|e| Failure::new(format!("not a token of this issuer: {e}")))?;
        let jti = claims
            .get("jti")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| Failure::new("the token has no jti"))?;
        let exp = claims
            .get("exp")
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| Failure::new("the token has no exp"))?;
        return Ok((jti.to_owned(), exp));
    }
    if raw.is_empty() || raw.len() > 256 || !raw.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Failure::usage(
            "give a token, or a jti (up to 256 printable characters without spaces)",
        ));
    }
    // Without the token its expiry is unknown: deny for as long as any token lives.
    let longest = i64::try_from(config.max_jwt_duration).unwrap_or(i64::MAX);
    Ok((raw.to_owned(), now().saturating_add(longest)))
}

async fn revoke(arg: &str, config: &Config) -> Outcome {
    let raw = read_token(arg.to_owned())?;
    let (jti, exp) = revoked_jti(&raw, config).await?;
    let leeway = i64::try_from(config.leeway).unwrap_or(0);
    // Verifiers accept a token until exp + leeway; so does the deny-list.
    let until = exp.saturating_add(leeway);
    if until <= now() {
        println!("the token has expired already; nothing to revoke");
        return Ok(());
    }
    let store = super::open_store(config).await?;
    store.deny_jti(&jti, until).await.map_err(Failure::new)?;
    tracing::info!(target: "audit", event = "token.revoked", kind = "any", by = "cli", jti = %jti, "token revoked");
    println!(
        "revoked {jti}: inactive at userinfo and introspection until it expires; \
         resources that verify it offline (Keep) accept it until then"
    );
    Ok(())
}

async fn verify(args: VerifyArgs, config: &Config) -> Outcome {
    let token = read_token(args.token)?;
    let source = if let Some(url) = args.jwks {
        Source::Jwks(url)
    } else if let Some(url) = args.issuer_url {
        Source::IssuerUrl(url)
    } else if let Some(url) = args.realm_url {
        Source::RealmUrl(url)
    } else if let Some(path) = args.key {
        Source::KeyFile(path)
    } else if let Some(dir) = args.providers {
        Source::Providers(dir)
    } else {
        Source::Local {
            keys: super::keys::home(config).await?,
            issuer: config.issuer(),
        }
    };
    let opts = Options {
        issuer: args.issuer,
        audiences: args.expect_audience,
        default_audience: config.audience.clone(),
        leeway: config.leeway,
    };
    let verdict = verify_against(&token, &source, &opts)
        .await
        .map_err(Failure::usage)?;

    for warning in &verdict.warnings {
        eprintln!("warning: {warning}");
    }
    if args.json {
        print_json(&verdict.to_json())?;
    }
    match &verdict.result {
        Ok(verified) => {
            if !args.json {
                print_json(&verified.claims)?;
            }
            eprintln!("{}", verdict.valid_line().unwrap_or_default());
            Ok(())
        }
        Err(_) => Err(Failure::new(format!(
            "invalid token: {}",
            verdict.reason().unwrap_or_default()
        ))),
    }
}
