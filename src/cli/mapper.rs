//! `domino-idp mapper ...` and `domino-idp claims preview`.

use clap::{Args, Subcommand};
use serde_json::Value;

use super::{Failure, Outcome, open_store, print_json};
use crate::app::admin::Removable;
use crate::app::mappers::{self, MapperError};
use crate::config::Config;
use crate::domain::mapper::{JsonType, MapperSpec, MapperType, Output, Property};
use crate::store::now;

#[derive(Debug, Subcommand)]
pub enum MapperCommand {
    /// Add a claim mapper (applied after the existing ones)
    Add(AddArgs),
    /// List the mappers in the order they apply
    List {
        /// Print JSON (the [[mappers]] format) instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Delete a mapper
    Remove { name: String },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    name: String,
    #[arg(long = "type", value_enum)]
    kind: MapperType,
    /// Claim name; dots nest (org.unit), \. is a literal dot
    #[arg(long)]
    claim: Option<String>,
    #[arg(long, value_enum, default_value = "string")]
    json_type: JsonType,
    /// hardcoded: the value (converted to --json-type)
    #[arg(long)]
    value: Option<String>,
    /// user-attribute: the attribute name
    #[arg(long)]
    attribute: Option<String>,
    /// user-attribute: every value, as an array
    #[arg(long)]
    multivalued: bool,
    /// user-property: which property
    #[arg(long, value_enum)]
    property: Option<Property>,
    /// group-membership: plain names instead of /full/paths
    #[arg(long)]
    no_full_path: bool,
    /// audience: the audience to add to `aud`
    #[arg(long)]
    audience: Option<String>,
    /// Output to add the claim to, repeatable (default: all)
    #[arg(long = "output", value_enum)]
    outputs: Vec<Output>,
    /// Only for this client, repeatable (`keep` = the Keep login; default: all)
    #[arg(long = "client")]
    clients: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ClaimsCommand {
    /// Print the claims a user would get, without signing anything
    Preview {
        /// Username or email
        #[arg(long)]
        user: String,
        /// OAuth client (default: the Keep login)
        #[arg(long)]
        client: Option<String>,
        /// Which claim set (default: access for a client, keep otherwise)
        #[arg(long, value_enum)]
        output: Option<Output>,
        /// Requested scope, as a client would send it
        #[arg(long)]
        scope: Option<String>,
    },
}

fn failure(e: MapperError) -> Failure {
    match e {
        MapperError::Invalid(why) => Failure::usage(why),
        MapperError::Store(e) => Failure::new(e),
    }
}

pub async fn run(cmd: MapperCommand, config: &Config) -> Outcome {
    match cmd {
        MapperCommand::Add(args) => {
            let spec = MapperSpec {
                name: args.name,
                kind: args.kind,
                claim: args.claim,
                json_type: args.json_type,
                value: args.value.map(Value::String),
                attribute: args.attribute,
                multivalued: args.multivalued,
                property: args.property,
                full_path: !args.no_full_path,
                audience: args.audience,
                outputs: if args.outputs.is_empty() {
                    Output::ALL.to_vec()
                } else {
                    args.outputs
                },
                clients: args.clients,
            };
            crate::domain::mapper::Mapper::from_spec(&spec).map_err(Failure::usage)?;
            let store = open_store(config).await?;
            crate::app::admin::add_mapper(store.as_ref(), &spec, &super::operator())
                .await
                .map_err(failure)?;
            println!("added mapper {}", spec.name);
            Ok(())
        }
        MapperCommand::List { json } => {
            let store = open_store(config).await?;
            let specs = store.list_mappers().await.map_err(Failure::new)?;
            if json {
                return print_json(&specs);
            }
            println!(
                "{:<24} {:<17} {:<24} {:<40} CLIENTS",
                "NAME", "TYPE", "CLAIM", "OUTPUTS"
            );
            for s in &specs {
                let kind = serde_json::to_value(s.kind).map_err(Failure::new)?;
                let outputs: Vec<String> = s.outputs.iter().map(Output::to_string).collect();
                println!(
                    "{:<24} {:<17} {:<24} {:<40} {}",
                    s.name,
                    kind.as_str().unwrap_or("?"),
                    s.claim.as_deref().unwrap_or("aud"),
                    outputs.join(","),
                    if s.clients.is_empty() {
                        "(all)".to_owned()
                    } else {
                        s.clients.join(",")
                    }
                );
            }
            Ok(())
        }
        MapperCommand::Remove { name } => {
            let store = open_store(config).await?;
            super::remove(store.as_ref(), Removable::Mapper, &name).await
        }
    }
}

pub async fn run_claims(cmd: ClaimsCommand, config: &Config) -> Outcome {
    let ClaimsCommand::Preview {
        user,
        client,
        output,
        scope: requested,
    } = cmd;
    let store = open_store(config).await?;
    let policy = config.token_policy(config.issuer());
    let preview = mappers::preview(
        store.as_ref(),
        &policy,
        &config.realm,
        &user,
        client.as_deref(),
        output,
        requested.as_deref(),
        now(),
    )
    .await
    .map_err(|e| match e {
        mappers::PreviewError::NeedsClient(other) => Failure::usage(format!(
            "--output {other} needs --client: it is what an OAuth client gets"
        )),
        e => Failure::new(e),
    })?;
    let (claims, output, client_id) = (preview.claims, preview.output, preview.client_id);
    let user = preview.username;
    print_json(&claims)?;
    eprintln!(
        "preview: {output} claims of {user} for client {client_id}; iat/exp/jti are this moment's, sid/auth_time/nonce/at_hash come from a real session"
    );
    Ok(())
}
