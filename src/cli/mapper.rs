//! `domino-idp mapper ...` and `domino-idp claims preview`.

use clap::{Args, Subcommand};
use serde_json::Value;

use super::{Failure, Outcome, open_store};
use crate::app::mappers::{self, MapperError};
use crate::app::oidc::claims::ClaimContext;
use crate::app::oidc::scope;
use crate::config::Config;
use crate::domain::mapper::{JsonType, KEEP_CLIENT, MapperSpec, MapperType, Output, Property};
use crate::domain::user::name_key;
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
            mappers::create(store.as_ref(), &spec)
                .await
                .map_err(failure)?;
            println!("added mapper {}", spec.name);
            super::audit_admin("mapper.add", &spec.name);
            Ok(())
        }
        MapperCommand::List { json } => {
            let store = open_store(config).await?;
            let specs = store.list_mappers().await.map_err(Failure::new)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&specs).map_err(Failure::new)?
                );
                return Ok(());
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
            if !store.delete_mapper(&name).await.map_err(Failure::new)? {
                return Err(Failure::new(format!("no mapper named {name:?}")));
            }
            println!("removed mapper {name}");
            super::audit_admin("mapper.remove", &name);
            Ok(())
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
    let user = store
        .find_user_for_login(&name_key(&user))
        .await
        .map_err(Failure::new)?
        .ok_or_else(|| Failure::new(format!("no user {user:?}")))?;
    let client = match client.as_deref() {
        None | Some(KEEP_CLIENT) => None,
        Some(id) => Some(
            store
                .get_client(id)
                .await
                .map_err(Failure::new)?
                .ok_or_else(|| Failure::new(format!("no client {id:?}")))?,
        ),
    };
    let output = output.unwrap_or(if client.is_some() {
        Output::Access
    } else {
        Output::Keep
    });
    let (client_id, scopes) = match (&client, output) {
        (_, Output::Keep) => (
            KEEP_CLIENT.to_owned(),
            crate::domain::token::narrow_scopes(&user.scopes, requested.as_deref()),
        ),
        (Some(c), _) => (
            c.client_id.clone(),
            scope::for_user(c, &user, requested.as_deref()),
        ),
        (None, other) => {
            return Err(Failure::usage(format!(
                "--output {other} needs --client: it is what an OAuth client gets"
            )));
        }
    };
    let applied = scope::applied(client.as_ref(), &scopes);
    let roles = if applied.contains("roles") || applied.contains("microprofile-jwt") {
        Some(
            crate::app::roles::of_user(store.as_ref(), &config.realm, &user)
                .await
                .map_err(Failure::new)?,
        )
    } else {
        None
    };
    let issuer = config.issuer();
    let policy = config.token_policy(issuer);
    let mappers = mappers::load(store.as_ref()).await.map_err(Failure::new)?;
    let ctx = ClaimContext {
        policy: &policy,
        mappers: &mappers,
        client_id: &client_id,
        user: Some(&user),
        scopes: &scopes,
        applied: &applied,
        roles: roles.as_ref(),
        session: None,
        now: now(),
        lifetime: policy.lifetime(None),
    };
    let jti = uuid::Uuid::new_v4().to_string();
    let claims = match output {
        Output::Keep => ctx.keep(&jti),
        Output::Access => Some(ctx.access(&jti)),
        Output::Id => ctx.id(None, None, &jti),
        Output::Userinfo => Some(ctx.userinfo()),
        Output::Introspection => Some(ctx.introspection(ctx.access(&jti))),
    }
    .ok_or_else(|| Failure::new("no claims for this combination"))?;
    println!(
        "{}",
        serde_json::to_string_pretty(&claims).map_err(Failure::new)?
    );
    eprintln!(
        "preview: {output} claims of {} for client {client_id}; iat/exp/jti are this moment's, sid/auth_time/nonce/at_hash come from a real session",
        user.username
    );
    Ok(())
}
