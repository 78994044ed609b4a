//! `domino-idp keys ...` and `domino-idp token verify`.

use std::io::Read as _;

use clap::{Subcommand, ValueEnum};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Failure, Outcome};
use crate::config::Config;
use crate::keys::KeyRing;
use crate::realm::Realm;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List the signing keys with their state
    List,
    /// Print the public keys for offline consumers
    Export {
        /// jwks: the JWKS document; pem: the signing key's public key (Keep's keyFile)
        #[arg(long, value_enum, default_value = "jwks")]
        format: ExportFormat,
        /// Export this key instead of the active signer (pem only)
        #[arg(long)]
        kid: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Jwks,
    Pem,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Verify a JWT against this issuer's keys; exit 0 only when valid
    Verify {
        /// The JWT, or - to read it from stdin
        token: String,
        /// Expected issuer (default: this issuer)
        #[arg(long)]
        issuer: Option<String>,
        /// Expected audience (default: the configured audience)
        #[arg(long = "expect-audience")]
        expect_audience: Option<String>,
    },
}

fn load(config: &Config) -> Result<KeyRing, Failure> {
    KeyRing::load(&config.keys_dir).map_err(Failure::new)
}

pub async fn run_keys(cmd: KeysCommand, config: &Config) -> Outcome {
    let ring = load(config)?;
    match cmd {
        KeysCommand::List => {
            println!("{:<45} {:<10} {:<22} FILE", "KID", "STATE", "CREATED");
            for (i, key) in ring.keys().iter().enumerate() {
                let created = OffsetDateTime::from(key.created)
                    .replace_nanosecond(0)
                    .ok()
                    .and_then(|t| t.format(&Rfc3339).ok())
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{:<45} {:<10} {:<22} {}",
                    key.kid(),
                    if i == 0 { "active" } else { "published" },
                    created,
                    key.path.display()
                );
            }
        }
        KeysCommand::Export { format, kid } => match format {
            ExportFormat::Jwks => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&ring.jwks()).map_err(Failure::new)?
                );
            }
            ExportFormat::Pem => {
                let key = match &kid {
                    Some(kid) => ring
                        .keys()
                        .iter()
                        .find(|k| k.kid() == kid)
                        .ok_or_else(|| Failure::new(format!("no key with kid {kid:?}")))?,
                    None => ring.signer(),
                };
                print!("{}", key.public.pem());
            }
        },
    }
    Ok(())
}

pub async fn run_token(cmd: TokenCommand, config: &Config) -> Outcome {
    match cmd {
        TokenCommand::Verify {
            token,
            issuer,
            expect_audience,
        } => {
            let token = if token == "-" {
                let mut buf = String::new();
                std::io::stdin()
                    .read_to_string(&mut buf)
                    .map_err(|e| Failure::new(format!("cannot read the token from stdin: {e}")))?;
                buf.trim().to_owned()
            } else {
                token.trim().to_owned()
            };
            let ring = load(config)?;
            let issuer = issuer.unwrap_or_else(|| {
                Realm::issuer_for(&config.public_url_for(config.listen), &config.realm)
            });
            let audience = expect_audience.unwrap_or_else(|| config.audience.clone());
            let (kid, claims) = ring
                .verify(&token, Some(&issuer), Some(&audience), config.leeway)
                .map_err(|e| Failure::new(format!("invalid token: {e}")))?;
            println!(
                "{}",
                serde_json::to_string_pretty(&claims).map_err(Failure::new)?
            );
            eprintln!("valid: signed by kid {kid}, issuer {issuer}, audience {audience}");
            Ok(())
        }
    }
}
