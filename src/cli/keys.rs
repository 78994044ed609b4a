//! `domino-idp keys ...`.

use clap::{Subcommand, ValueEnum};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Failure, Outcome};
use crate::config::Config;
use crate::keys::KeyRing;

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

pub(super) fn load(config: &Config) -> Result<KeyRing, Failure> {
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
