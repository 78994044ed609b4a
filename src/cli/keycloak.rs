//! `domino-idp import keycloak FILE` and `domino-idp export keycloak`: a
//! Keycloak realm export in and out (see docs/keycloak.md). The import's
//! report goes to stdout; client secrets come from a file, never argv.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{Failure, Outcome, open_store};
use crate::app::keycloak::{self, ImportOptions};
use crate::config::{Config, Secret};
use crate::domain::password::PasswordHasher;
use crate::startup::hash_concurrency;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a Keycloak realm export (JSON); existing users, clients and mappers are left as they are
    Keycloak(ImportArgs),
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write the users, clients and mappers as a Keycloak realm export (JSON)
    Keycloak(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The realm export, as `kc.sh export --realm R --file FILE` or the admin console writes it
    file: PathBuf,
    /// Secrets of confidential clients, one `client-id=secret` per line (Keycloak's exports mask them)
    #[arg(long, value_name = "FILE")]
    client_secrets: Option<PathBuf>,
    /// Skip confidential clients the export and --client-secrets give no secret for, instead of generating one
    #[arg(long)]
    no_generated_secrets: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to this file (created with mode 0600: it holds password hashes) instead of stdout
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// `client-id=secret` lines; blank lines and `#` comments are skipped.
fn read_secrets(path: &Path) -> Result<BTreeMap<String, Secret>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))?;
    let mut secrets = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, secret) = line.split_once('=').ok_or_else(|| {
            Failure::usage(format!(
                "{} line {}: write client-id=secret",
                path.display(),
                n + 1
            ))
        })?;
        secrets.insert(id.trim().to_owned(), Secret::new(secret.trim()));
    }
    Ok(secrets)
}

pub async fn run_import(cmd: ImportCommand, config: &Config) -> Outcome {
    let ImportCommand::Keycloak(args) = cmd;
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", args.file.display())))?;
    let options = ImportOptions {
        client_secrets: match &args.client_secrets {
            Some(path) => read_secrets(path)?,
            None => BTreeMap::new(),
        },
        generate_secrets: !args.no_generated_secrets,
    };
    let store = open_store(config).await?;
    let hasher = PasswordHasher::new(hash_concurrency())
        .await
        .map_err(Failure::new)?;
    let report = keycloak::import(store.as_ref(), &hasher, config, &text, &options)
        .await
        .map_err(|e| match e {
            keycloak::KeycloakError::Parse(_) | keycloak::KeycloakError::RealmMismatch { .. } => {
                Failure::usage(format!("{}: {e}", args.file.display()))
            }
            other => Failure::new(other),
        })?;
    super::audit_admin("keycloak.import", &args.file.display().to_string());
    for line in report.lines() {
        println!("{line}");
    }
    if !report.generated_secrets.is_empty() {
        println!("generated client secrets (shown once; Keycloak's export had them masked):");
        for (id, secret) in &report.generated_secrets {
            println!("  {id}={secret}");
        }
    }
    Ok(())
}

pub async fn run_export(cmd: ExportCommand, config: &Config) -> Outcome {
    let ExportCommand::Keycloak(args) = cmd;
    let store = open_store(config).await?;
    let (realm, notes) = keycloak::export(store.as_ref(), config)
        .await
        .map_err(Failure::new)?;
    let text = serde_json::to_string_pretty(&realm).map_err(Failure::new)?;
    for note in &notes {
        eprintln!("note: {note}");
    }
    match args.out {
        None => println!("{text}"),
        Some(path) => {
            write_private(&path, &text)
                .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("wrote realm {} to {}", config.realm, path.display());
        }
    }
    Ok(())
}

/// Writes `text` to a file only its owner can read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")
}
