//! `domino-idp keys list|rotate|retire|export`.

use clap::{Subcommand, ValueEnum};

use super::{Failure, Outcome, print_json};
use crate::config::Config;
use crate::config::KeyStoreKind;
use crate::keys::lifecycle::format_time;
use crate::keys::{KeyHome, KeyState};

/// Longest `--lead` accepted, as for `key_rotation_lead`.
const MAX_LEAD: u64 = 86_400 * 30;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List the signing keys with their state (next, active, retiring, retired) and dates
    List,
    /// Add a new signing key: published in the JWKS now, signing after the lead time
    Rotate {
        /// Seconds between publishing the key and signing with it (default:
        /// key_rotation_lead, else jwks_max_age + key_reload_interval + 60). Shorter than
        /// jwks_max_age + key_reload_interval, a consumer holding a cached JWKS
        /// may meet a token whose kid it does not know yet.
        #[arg(long, value_name = "SECONDS")]
        lead: Option<u64>,
        /// Add the key even though another one is still waiting to sign
        #[arg(long)]
        force: bool,
    },
    /// Stop publishing a key now and move it to keys_dir/retired/ (tokens it signed stop verifying)
    Retire {
        /// The kid to retire (not the active signer); a kid may begin with `-`
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
    /// Print the public keys for offline consumers, or a Keep provider file
    Export {
        /// jwks: the JWKS document; pem: the signing key's public key (Keep's
        /// keyFile); keepconfig: a keepconfig.d file that makes Keep trust this issuer
        #[arg(long, value_enum, default_value = "jwks")]
        format: ExportFormat,
        /// Export this key instead of the active signer (pem only)
        #[arg(long, allow_hyphen_values = true)]
        kid: Option<String>,
        /// keepconfig: name the signing key's PEM file (`keyFile` + `kid`)
        /// instead of the JWKS URL; re-export after every rotation
        #[arg(long)]
        offline: bool,
        /// keepconfig --offline: the keepconfig.d folder the PEM is written to
        #[arg(long, value_name = "DIR", default_value = ".")]
        key_dir: std::path::PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Jwks,
    Pem,
    Keepconfig,
}

/// Where `config` keeps the keys; opens the database only when they are there.
pub(super) async fn home(config: &Config) -> Result<KeyHome, Failure> {
    let store = match config.key_store() {
        KeyStoreKind::Dir => None,
        KeyStoreKind::Database => Some(super::open_store(config).await?),
    };
    KeyHome::new(config, store).map_err(Failure::new)
}

pub async fn run_keys(cmd: KeysCommand, config: &Config) -> Outcome {
    let home = home(config).await?;
    let settings = home.settings().clone();
    match cmd {
        KeysCommand::List => list(&home).await,
        KeysCommand::Rotate { lead, force } => {
            let lead = lead.unwrap_or(settings.rotation_lead);
            if lead > MAX_LEAD {
                return Err(Failure::usage(format!(
                    "--lead {lead}: use at most {MAX_LEAD} seconds (30 days)"
                )));
            }
            let safe = config
                .jwks_max_age
                .saturating_add(config.key_reload_interval);
            if lead < safe {
                eprintln!(
                    "warning: a lead of {lead}s is shorter than jwks_max_age + key_reload_interval ({safe}s): \
                     consumers holding a cached JWKS may see the new kid before they know it"
                );
            }
            let done = home.rotate(lead, force).await.map_err(Failure::new)?;
            println!(
                "new key {} published; it signs from {}",
                done.kid,
                format_time(done.activates_at)
            );
            super::audit_admin("keys.rotate", &done.kid);
            if let Some((old, retires)) = &done.supersedes {
                println!(
                    "key {old} stops signing then and stays published until {}",
                    format_time(*retires)
                );
            }
            println!(
                "a running server picks this up within key_reload_interval ({}s)",
                config.key_reload_interval
            );
            Ok(())
        }
        KeysCommand::Retire { kid } => {
            let to = home.retire(&kid).await.map_err(Failure::new)?;
            super::audit_admin("keys.retire", &kid);
            println!("retired: no longer published once servers reload; {to}");
            Ok(())
        }
        KeysCommand::Export {
            format,
            kid,
            offline,
            key_dir,
        } => {
            let ring = home.load().await.map_err(Failure::new)?;
            match format {
                ExportFormat::Keepconfig => {
                    super::keepconfig::export(config, &ring, offline.then_some(key_dir.as_path()))?;
                }
                ExportFormat::Jwks => {
                    print_json(&ring.jwks())?;
                }
                ExportFormat::Pem => {
                    let key = match &kid {
                        Some(kid) => {
                            ring.keys().iter().find(|k| k.kid() == kid).ok_or_else(|| {
                                Failure::new(format!("no published key with kid {kid:?}"))
                            })?
                        }
                        None => ring.keys().first().ok_or_else(|| Failure::new("no key"))?,
                    };
                    print!("{}", key.public.pem());
                }
            }
            Ok(())
        }
    }
}

async fn list(home: &KeyHome) -> Outcome {
    let ring = home.load().await.map_err(Failure::new)?;
    let archived = home.archived().await.map_err(Failure::new)?;
    println!(
        "{:<44} {:<9} {:<21} {:<21} {:<21} FILE",
        "KID", "STATE", "CREATED", "ACTIVATES", "RETIRES"
    );
    let row = |kid: &str, state: KeyState, dates: [String; 3], file: &std::path::Path| {
        println!(
            "{kid:<44} {:<9} {:<21} {:<21} {:<21} {}",
            state.as_str(),
            dates[0],
            dates[1],
            dates[2],
            file.display()
        );
    };
    for entry in ring.entries() {
        let d = &entry.key.dates;
        row(
            entry.key.kid(),
            entry.status.state,
            [
                format_time(d.created),
                format_time(d.activates_at),
                entry.status.retires_at.map_or("-".into(), format_time),
            ],
            &entry.key.path,
        );
    }
    for key in &archived {
        let d = &key.dates;
        row(
            key.kid(),
            KeyState::Retired,
            [
                format_time(d.created),
                format_time(d.activates_at),
                d.retire_after.map_or("-".into(), format_time),
            ],
            &key.path,
        );
    }
    Ok(())
}
