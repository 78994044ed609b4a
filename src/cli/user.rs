//! `domino-idp user ...`: the password store from the command line.
//! Passwords come from a prompt or `--password-stdin`, never from argv.

use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Read as _};
use std::net::IpAddr;

use clap::{Args, Subcommand};

use super::{Failure, Outcome, open_store, print_json};
use crate::app::admin::{self, Removable};
use crate::app::login;
use crate::config::{Config, Secret};
use crate::domain::password::PasswordHasher;
use crate::domain::user::{
    AttributeValue, LoginName, NewUser, Password, ScopeList, UserSpec, name_key,
};
use crate::startup::hash_concurrency;
use crate::store::{FailureKind, Store};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user
    Add(AddArgs),
    /// List users
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Show one user as JSON
    Show { username: String },
    /// Set a user's password
    SetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Refuse all further logins for a user
    Disable { username: String },
    /// Allow a disabled user to log in again
    Enable { username: String },
    /// Delete a user
    Remove { username: String },
    /// Clear a brute-force lockout: a login name's (and, for a user, their
    /// email's), or a client address's with --ip
    #[command(arg_required_else_help = true)]
    Unlock {
        /// Login name (username or email); it need not exist
        name: Option<String>,
        /// Client address (an IPv6 address clears its /64)
        #[arg(long, value_name = "ADDR")]
        ip: Option<String>,
    },
    /// List the login names and client addresses locked now
    Lockouts {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    username: String,
    #[arg(long)]
    email: Option<String>,
    /// Common name (default: the username)
    #[arg(long)]
    cn: Option<String>,
    /// Organisation, the O= part of the Domino name
    #[arg(long)]
    org: Option<String>,
    /// Scopes, repeated or space-separated ("MAIL $DATA")
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// Attributes as name=value; repeat a name for several values
    #[arg(long = "attribute", value_name = "NAME=VALUE")]
    attributes: Vec<String>,
    /// Group membership, repeatable
    #[arg(long = "group")]
    groups: Vec<String>,
    /// Create the user disabled
    #[arg(long)]
    disabled: bool,
    /// Read the password from standard input instead of prompting
    #[arg(long)]
    password_stdin: bool,
}

fn read_password(from_stdin: bool) -> Result<Password, Failure> {
    let raw = if from_stdin {
        let mut buf = String::new();
        std::io::stdin()
            .read_to_string(&mut buf)
            .map_err(|e| Failure::new(format!("cannot read the password from stdin: {e}")))?;
        let trimmed = buf.strip_suffix('\n').unwrap_or(&buf);
        trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned()
    } else {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::new(
                "no terminal to prompt for a password: pipe it in with --password-stdin",
            ));
        }
        let first = rpassword::prompt_password("Password: ").map_err(Failure::new)?;
        let second = rpassword::prompt_password("Repeat password: ").map_err(Failure::new)?;
        if first != second {
            return Err(Failure::new("the passwords do not match"));
        }
        first
    };
    Password::parse(&raw).map_err(Failure::new)
}

fn spec_from(args: &AddArgs) -> Result<UserSpec, Failure> {
    let mut attributes: BTreeMap<String, AttributeValue> = BTreeMap::new();
    for pair in &args.attributes {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| Failure::new(format!("--attribute {pair:?}: write it as name=value")))?;
        let entry = attributes
            .entry(name.to_owned())
            .or_insert_with(|| AttributeValue::Many(Vec::new()));
        if let AttributeValue::Many(values) = entry {
            values.push(value.to_owned());
        }
    }
    Ok(UserSpec {
        username: args.username.clone(),
        email: args.email.clone(),
        cn: args.cn.clone(),
        org: args.org.clone(),
        scopes: ScopeList::Spaced(args.scopes.join(" ")),
        attributes,
        groups: args.groups.clone(),
        enabled: !args.disabled,
        ..Default::default()
    })
}

pub async fn run(cmd: UserCommand, config: &Config) -> Outcome {
    let store = open_store(config).await?;
    match cmd {
        UserCommand::Add(args) => {
            let mut spec = spec_from(&args)?;
            // Validate everything before asking for a password.
            NewUser::from_spec(&spec).map_err(Failure::new)?;
            let password = read_password(args.password_stdin)?;
            spec.password = Some(Secret::new(password.expose()));
            let user = NewUser::from_spec(&spec).map_err(Failure::new)?;
            let hasher = PasswordHasher::new(hash_concurrency())
                .await
                .map_err(Failure::new)?;
            let created = admin::add_user(store.as_ref(), &hasher, user, &super::operator())
                .await
                .map_err(Failure::new)?;
            println!("added user {} ({})", created.username, created.dn());
        }
        UserCommand::List { json } => {
            let all = store.list_users().await.map_err(Failure::new)?;
            if json {
                print_json(&all)?;
            } else {
                println!(
                    "{:<24} {:<32} {:<40} {:<8} SCOPES",
                    "USERNAME", "EMAIL", "DN", "ENABLED"
                );
                for u in all {
                    println!(
                        "{:<24} {:<32} {:<40} {:<8} {}",
                        u.username,
                        u.email.as_deref().unwrap_or("-"),
                        u.dn(),
                        if u.enabled { "yes" } else { "no" },
                        u.scopes.join(" ")
                    );
                }
            }
        }
        UserCommand::Show { username } => {
            let user = store
                .get_user(&name_key(&username))
                .await
                .map_err(Failure::new)?
                .ok_or_else(|| Failure::new(format!("no user named {username:?}")))?;
            // With the roles the user's tokens carry (their own, their
            // groups', composites expanded, the default roles).
            let roles = crate::app::roles::of_user(store.as_ref(), &config.realm, &user)
                .await
                .map_err(Failure::new)?;
            let mut shown = serde_json::to_value(&user).map_err(Failure::new)?;
            if let Some(fields) = shown.as_object_mut() {
                fields.insert(
                    "roles".into(),
                    serde_json::json!({ "realm": roles.realm, "clients": roles.clients }),
                );
            }
            print_json(&shown)?;
        }
        UserCommand::SetPassword {
            username,
            password_stdin,
        } => {
            if store
                .get_user(&name_key(&username))
                .await
                .map_err(Failure::new)?
                .is_none()
            {
                return Err(Failure::new(format!("no user named {username:?}")));
            }
            let password = read_password(password_stdin)?;
            let hasher = PasswordHasher::new(1).await.map_err(Failure::new)?;
            let user = admin::set_password(
                store.as_ref(),
                &hasher,
                &username,
                &password,
                &super::operator(),
            )
            .await
            .map_err(Failure::new)?;
            println!("password of {} changed", user.username);
        }
        UserCommand::Disable { username } => set_enabled(store.as_ref(), &username, false).await?,
        UserCommand::Enable { username } => set_enabled(store.as_ref(), &username, true).await?,
        UserCommand::Remove { username } => {
            super::remove(store.as_ref(), Removable::User, &username).await?;
        }
        UserCommand::Unlock { name, ip } => unlock(store.as_ref(), name, ip).await?,
        UserCommand::Lockouts { json } => lockouts(store.as_ref(), json).await?,
    }
    Ok(())
}

/// Clears the counters of a login name (plus the email of the user it names,
/// the other name they log in with) and of an address.
async fn unlock(store: &dyn Store, name: Option<String>, ip: Option<String>) -> Outcome {
    if let Some(name) = name {
        let key = LoginName::parse(&name)
            .map_err(Failure::new)?
            .key()
            .to_owned();
        let mut keys = vec![key.clone()];
        if let Some(user) = store.get_user(&key).await.map_err(Failure::new)?
            && let Some(email) = &user.email
        {
            keys.push(name_key(email));
        }
        let mut cleared = false;
        for key in keys {
            cleared |= login::clear(store, FailureKind::User, &key)
                .await
                .map_err(Failure::new)?;
        }
        println!(
            "{name}: {}",
            if cleared {
                "lockout and failure count cleared"
            } else {
                "no failures recorded"
            }
        );
    }
    if let Some(raw) = ip {
        let addr = raw
            .split_once('/')
            .map_or(raw.as_str(), |(addr, _)| addr)
            .parse::<IpAddr>()
            .map_err(|_| {
                Failure::usage(format!("--ip {raw:?}: give an IP address like 192.0.2.7"))
            })?;
        let key = login::ip_key(addr);
        let cleared = login::clear(store, FailureKind::Ip, &key)
            .await
            .map_err(Failure::new)?;
        println!(
            "{key}: {}",
            if cleared {
                "lockout and failure count cleared"
            } else {
                "no failures recorded"
            }
        );
    }
    Ok(())
}

async fn lockouts(store: &dyn Store, json: bool) -> Outcome {
    let now = crate::clock::Clock::now_ms(&crate::clock::SystemClock);
    let all = store.list_lockouts(now).await.map_err(Failure::new)?;
    if json {
        return print_json(&all);
    }
    println!(
        "{:<5} {:<40} {:>8} {:<22} RETRY-AFTER",
        "KIND", "KEY", "FAILURES", "LOCKED-UNTIL"
    );
    for l in all {
        let until = time::OffsetDateTime::from_unix_timestamp(l.locked_until / 1000)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| l.locked_until.to_string());
        println!(
            "{:<5} {:<40} {:>8} {:<22} {}s",
            l.kind.as_str(),
            l.key,
            l.failures,
            until,
            (l.locked_until - now + 999) / 1000
        );
    }
    Ok(())
}

async fn set_enabled(store: &dyn crate::store::Store, username: &str, enabled: bool) -> Outcome {
    admin::set_enabled(store, username, enabled, &super::operator())
        .await
        .map_err(Failure::new)?;
    let action = if enabled { "enabled" } else { "disabled" };
    println!("user {username} {action}");
    Ok(())
}
