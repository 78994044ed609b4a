//! `domino-idp apikey ...`: users' API keys from the command line. A key is
//! printed once, alone on the last line of `create`'s output (so scripts
//! can take `tail -n1`), and never again: only its digest is stored.

use clap::Subcommand;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Failure, Outcome, open_store, print_json};
use crate::app::apikeys::{self, ApiKeyError};
use crate::clock::{Clock as _, SystemClock};
use crate::config::Config;
use crate::store::ApiKeyRecord;

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key for a user; the key is printed once, on the last line
    Create {
        /// The user (username)
        user: String,
        /// What the key is for, e.g. ci or laptop (default: default)
        #[arg(long)]
        name: Option<String>,
        /// Seconds until the key expires (default: never)
        #[arg(long, value_name = "SECONDS")]
        expires_in: Option<u64>,
    },
    /// List API keys, of one user or of all (the keys themselves are never shown)
    List {
        /// Only this user's keys
        user: Option<String>,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API key at once, by its id (from `apikey list`)
    Revoke { id: String },
}

/// A key as `list --json` shows it: everything but the digest.
#[derive(Debug, Serialize)]
struct KeyView<'a> {
    id: &'a str,
    name: &'a str,
    username: &'a str,
    user_id: &'a str,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    expired: bool,
}

fn date(unix: Option<i64>, none: &str) -> String {
    unix.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| none.to_owned())
}

fn failure(e: ApiKeyError) -> Failure {
    match e {
        ApiKeyError::Invalid(_) => Failure::usage(e),
        ApiKeyError::NotFound(_) | ApiKeyError::Store(_) => Failure::new(e),
    }
}

pub async fn run(cmd: ApiKeyCommand, config: &Config) -> Outcome {
    let now = SystemClock.now();
    match cmd {
        ApiKeyCommand::Create {
            user,
            name,
            expires_in,
        } => {
            // Refuse bad input before opening (or creating) the store.
            crate::domain::apikey::parse_name(name.as_deref()).map_err(Failure::usage)?;
            crate::domain::apikey::expiry(now, expires_in).map_err(Failure::usage)?;
            let store = open_store(config).await?;
            let created = crate::app::admin::create_api_key(
                store.as_ref(),
                &user,
                name.as_deref(),
                expires_in,
                now,
                &super::operator(),
            )
            .await
            .map_err(failure)?;
            let key = &created.record;
            println!(
                "created API key {} ({:?}) for {user}, expires {}",
                key.id,
                key.name,
                date(key.expires_at, "never")
            );
            println!(
                "The key below is shown only once and cannot be recovered; store it now \
                 (revoke it and create another if it is lost)."
            );
            println!("{}", created.key);
        }
        ApiKeyCommand::List { user, json } => {
            let store = open_store(config).await?;
            let keys = apikeys::list(store.as_ref(), user.as_deref())
                .await
                .map_err(failure)?;
            let expired = |k: &ApiKeyRecord| k.expires_at.is_some_and(|at| at <= now);
            if json {
                let views: Vec<KeyView<'_>> = keys
                    .iter()
                    .map(|(k, username)| KeyView {
                        id: &k.id,
                        name: &k.name,
                        username,
                        user_id: &k.user_id,
                        created_at: k.created_at,
                        expires_at: k.expires_at,
                        last_used_at: k.last_used_at,
                        expired: expired(k),
                    })
                    .collect();
                print_json(&views)?;
            } else {
                println!(
                    "{:<36} {:<20} {:<24} {:<20} {:<20} LAST_USED",
                    "ID", "NAME", "USER", "CREATED", "EXPIRES"
                );
                for (k, username) in &keys {
                    let expires = if expired(k) {
                        format!("expired {}", date(k.expires_at, "-"))
                    } else {
                        date(k.expires_at, "never")
                    };
                    println!(
                        "{:<36} {:<20} {:<24} {:<20} {:<20} {}",
                        k.id,
                        k.name,
                        username,
                        date(Some(k.created_at), "-"),
                        expires,
                        date(k.last_used_at, "never")
                    );
                }
            }
        }
        ApiKeyCommand::Revoke { id } => {
            let store = open_store(config).await?;
            let key = crate::app::admin::revoke_api_key(store.as_ref(), &id, &super::operator())
                .await
                .map_err(Failure::new)?;
            println!("revoked API key {} ({:?})", key.id, key.name);
        }
    }
    Ok(())
}
