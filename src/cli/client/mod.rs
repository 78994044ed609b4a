//! `domino-idp client ...`: OAuth clients from the command line.
//! Secrets come from stdin (`--secret-stdin`) or are generated and shown
//! once; they are never taken from argv and never printed back. The flags
//! of `add` and `edit`, and the client spec they make, are in `args`.

mod args;

use std::io::BufRead as _;

use clap::Subcommand;
use serde::Serialize;

use super::{Failure, Outcome, open_store, print_json};
use crate::app::admin::{self, EditError, Removable};
use crate::app::clients::ClientError;
use crate::config::{Config, Secret};
use crate::domain::client::{Client, GrantType, RedirectUri};
use args::{AddArgs, EditArgs, spec_from};

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client (a confidential one gets a generated secret unless --secret-stdin)
    Add(AddArgs),
    /// List clients (secrets are never shown)
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Show one client (the secret is never shown)
    Show {
        client_id: String,
        /// Print JSON instead of lines
        #[arg(long)]
        json: bool,
    },
    /// Change a client's default, optional or allowed scopes
    Edit(EditArgs),
    /// Delete a client
    Remove { client_id: String },
}

/// A client as `list --json` shows it: everything but the secret hash.
#[derive(Debug, Serialize)]
struct ClientView<'a> {
    client_id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    name: Option<&'a str>,
    redirect_uris: &'a [RedirectUri],
    post_logout_redirect_uris: &'a [RedirectUri],
    grant_types: &'a [GrantType],
    default_scopes: &'a [String],
    optional_scopes: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_scopes: Option<&'a [String]>,
    web_origins: &'a [String],
    created_at: i64,
}

impl<'a> From<&'a Client> for ClientView<'a> {
    fn from(c: &'a Client) -> Self {
        ClientView {
            client_id: &c.client_id,
            kind: kind(c),
            name: c.name.as_deref(),
            redirect_uris: &c.redirect_uris,
            post_logout_redirect_uris: &c.post_logout_redirect_uris,
            grant_types: &c.grant_types,
            default_scopes: &c.default_scopes,
            optional_scopes: &c.optional_scopes,
            allowed_scopes: c.allowed_scopes.as_deref(),
            web_origins: &c.web_origins,
            created_at: c.created_at,
        }
    }
}

fn kind(c: &Client) -> &'static str {
    if c.is_public() {
        "public"
    } else {
        "confidential"
    }
}

/// The first line of stdin, without its line ending.
fn read_secret() -> Result<Secret, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::new(format!("cannot read the secret from stdin: {e}")))?;
    let trimmed = line.strip_suffix('\n').unwrap_or(&line);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    Ok(Secret::new(trimmed))
}

fn failure(e: ClientError) -> Failure {
    match e {
        ClientError::Invalid(_) => Failure::usage(e),
        ClientError::Store(_) => Failure::new(e),
    }
}

pub async fn run(cmd: ClientCommand, config: &Config) -> Outcome {
    match cmd {
        ClientCommand::Add(args) => {
            let mut spec = spec_from(&args);
            // Validate everything before opening the store or reading stdin.
            Client::from_spec(&spec).map_err(Failure::usage)?;
            if args.secret_stdin {
                spec.secret = Some(read_secret()?);
                Client::from_spec(&spec).map_err(Failure::usage)?;
            }
            let store = open_store(config).await?;
            let (client, generated) = admin::add_client(store.as_ref(), &spec, &super::operator())
                .await
                .map_err(failure)?;
            println!("added {} client {}", kind(&client), client.client_id);
            if let Some(secret) = generated {
                println!("client_secret: {secret}");
                println!(
                    "This secret is shown only once and cannot be recovered; store it now \
                     (remove and re-add the client to get a new one)."
                );
            }
        }
        ClientCommand::List { json } => {
            let store = open_store(config).await?;
            let all = store.list_clients().await.map_err(Failure::new)?;
            if json {
                let views: Vec<ClientView<'_>> = all.iter().map(ClientView::from).collect();
                print_json(&views)?;
            } else {
                println!(
                    "{:<32} {:<12} {:<48} REDIRECT_URIS",
                    "CLIENT_ID", "TYPE", "GRANTS"
                );
                for c in &all {
                    let grants: Vec<&str> = c.grant_types.iter().map(|g| g.as_str()).collect();
                    println!(
                        "{:<32} {:<12} {:<48} {}",
                        c.client_id,
                        kind(c),
                        grants.join(","),
                        if c.redirect_uris.is_empty() {
                            "-".to_owned()
                        } else {
                            c.redirect_uris.join(" ")
                        }
                    );
                }
            }
        }
        ClientCommand::Show { client_id, json } => {
            let store = open_store(config).await?;
            let client = store
                .get_client(&client_id)
                .await
                .map_err(Failure::new)?
                .ok_or_else(|| Failure::new(format!("no client with id {client_id:?}")))?;
            let view = ClientView::from(&client);
            if json {
                print_json(&view)?;
            } else {
                let grants: Vec<&str> = client.grant_types.iter().map(|g| g.as_str()).collect();
                println!("client_id       {}", client.client_id);
                println!("type            {}", kind(&client));
                println!("grants          {}", grants.join(" "));
                println!("redirect_uris   {}", client.redirect_uris.join(" "));
                println!("default_scopes  {}", client.default_scopes.join(" "));
                println!("optional_scopes {}", client.optional_scopes.join(" "));
                if let Some(allowed) = &client.allowed_scopes {
                    println!("allowed_scopes  {}", allowed.join(" "));
                }
            }
        }
        ClientCommand::Edit(args) => {
            if !args.changes_something() {
                return Err(Failure::usage(
                    "nothing to change: give --default-scope, --optional-scope, --allowed-scope, --web-origin or --redirect-uri (or their --no-/--any- forms)",
                ));
            }
            let store = open_store(config).await?;
            let existing = store
                .get_client(&args.client_id)
                .await
                .map_err(Failure::new)?
                .ok_or_else(|| Failure::new(format!("no client with id {:?}", args.client_id)))?;
            // The console's edit: the same checks and the same audit line.
            let spec = args.apply(&existing);
            let client = admin::edit_client(store.as_ref(), &spec, &super::operator())
                .await
                .map_err(|e| match e {
                    EditError::Invalid(_) => Failure::usage(e),
                    EditError::NotFound(_) | EditError::Store(_) => Failure::new(e),
                })?;
            println!("edited client {}", client.client_id);
        }
        ClientCommand::Remove { client_id } => {
            let store = open_store(config).await?;
            super::remove(store.as_ref(), Removable::Client, &client_id).await?;
        }
    }
    Ok(())
}
