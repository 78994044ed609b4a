//! `domino-idp role ...`: realm and client roles and who holds them, from
//! the command line (the same operations as `[[roles]]`/`[[groups]]` and
//! the console: `app::roles`).

use clap::{Args, Subcommand};
use serde::Serialize;

use super::{Failure, Outcome, open_store, print_json};
use crate::app::admin;
use crate::app::roles::{self, HolderName, RoleError};
use crate::config::Config;
use crate::domain::role::{Role, RoleRef, RoleSpec};
use crate::store::RoleGrant;

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Add a realm role, or a client role with --client
    Add {
        name: String,
        /// The client owning the role (a client role)
        #[arg(long)]
        client: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// A role this one includes (`admin`, `app:reader`), repeatable
        #[arg(long = "composite", value_name = "ROLE")]
        composites: Vec<String>,
    },
    /// List the roles (built-in ones included) and, with --grants, who holds them
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
        /// Also list every direct grant
        #[arg(long)]
        grants: bool,
    },
    /// Remove a stored role and every grant of it (`admin`, `app:reader`)
    Remove { role: String },
    /// Give a role (`admin`, `realm:admin`, `app:reader`) to a user, a group or a client's service account
    Grant(GrantArgs),
    /// Take a directly held role back
    Revoke(GrantArgs),
}

#[derive(Debug, Args)]
pub struct GrantArgs {
    /// The role: `admin` or `realm:admin` (realm), `app:reader` (client `app`)
    role: String,
    /// A user, by username
    #[arg(long)]
    user: Option<String>,
    /// A group, by path (`/parent/child`); members of it and of its subgroups hold the role
    #[arg(long)]
    group: Option<String>,
    /// A client's service account (client_credentials tokens)
    #[arg(long)]
    client: Option<String>,
}

impl GrantArgs {
    fn holder(&self) -> Result<HolderName, Failure> {
        match (&self.user, &self.group, &self.client) {
            (Some(u), None, None) => Ok(HolderName::User(u.clone())),
            (None, Some(g), None) => Ok(HolderName::Group(g.clone())),
            (None, None, Some(c)) => Ok(HolderName::Client(c.clone())),
            _ => Err(Failure::usage("give one of --user, --group or --client")),
        }
    }
}

fn failure(e: RoleError) -> Failure {
    match e {
        RoleError::Invalid(_) => Failure::usage(e),
        RoleError::NotFound(_) | RoleError::Store(_) => Failure::new(e),
    }
}

fn parse_role(raw: &str) -> Result<RoleRef, Failure> {
    RoleRef::parse(raw).map_err(Failure::usage)
}

#[derive(Serialize)]
struct Listing<'a> {
    roles: &'a [Role],
    #[serde(skip_serializing_if = "Option::is_none")]
    grants: Option<&'a [RoleGrant]>,
}

pub async fn run(cmd: RoleCommand, config: &Config) -> Outcome {
    let realm = config.realm.as_str();
    match cmd {
        RoleCommand::Add {
            name,
            client,
            description,
            composites,
        } => {
            let spec = RoleSpec {
                name,
                client,
                description,
                composites,
            };
            Role::from_spec(&spec).map_err(Failure::usage)?;
            let store = open_store(config).await?;
            let role = admin::add_role(store.as_ref(), &spec, &super::operator())
                .await
                .map_err(failure)?;
            println!("added role {}", role.role);
        }
        RoleCommand::List { json, grants } => {
            let store = open_store(config).await?;
            let all = roles::list(store.as_ref(), realm).await.map_err(failure)?;
            let held = if grants {
                Some(roles::grants(store.as_ref()).await.map_err(failure)?)
            } else {
                None
            };
            if json {
                let listing = Listing {
                    roles: &all,
                    grants: held.as_deref(),
                };
                print_json(&listing)?;
            } else {
                println!("{:<40} COMPOSITES", "ROLE");
                for r in &all {
                    let composites: Vec<String> =
                        r.composites.iter().map(ToString::to_string).collect();
                    println!("{:<40} {}", r.role.to_string(), composites.join(","));
                }
                if let Some(held) = &held {
                    println!();
                    println!("{:<48} ROLE", "HOLDER");
                    for g in held {
                        println!("{:<48} {}", g.holder.to_string(), g.role);
                    }
                }
            }
        }
        RoleCommand::Remove { role } => {
            let role = parse_role(&role)?;
            let store = open_store(config).await?;
            admin::remove_role(store.as_ref(), &role, &super::operator())
                .await
                .map_err(failure)?;
            println!("removed role {role}");
        }
        RoleCommand::Grant(args) => {
            let role = parse_role(&args.role)?;
            let holder = args.holder()?;
            let store = open_store(config).await?;
            let (holder, added) =
                admin::grant_role(store.as_ref(), realm, &holder, &role, &super::operator())
                    .await
                    .map_err(failure)?;
            if added {
                println!("granted {role} to {holder}");
            } else {
                println!("{holder} already holds {role}");
            }
        }
        RoleCommand::Revoke(args) => {
            let role = parse_role(&args.role)?;
            let holder = args.holder()?;
            let store = open_store(config).await?;
            let holder = admin::revoke_role(store.as_ref(), &holder, &role, &super::operator())
                .await
                .map_err(failure)?;
            println!("revoked {role} from {holder}");
        }
    }
    Ok(())
}
