//! `domino-idp client ...`: OAuth clients from the command line.
//! Secrets come from stdin (`--secret-stdin`) or are generated and shown
//! once; they are never taken from argv and never printed back.

use std::io::BufRead as _;

use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::{Failure, Outcome, open_store, print_json};
use crate::app::admin::{self, EditError};
use crate::app::clients::ClientError;
use crate::config::{Config, Secret};
use crate::domain::client::{Client, ClientSpec, GrantType, RedirectUri};

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

/// The scope flags `client add` and `client edit` share. On `add` an
/// absent flag means Keycloak's default for a new client; on `edit` it
/// leaves the list as it is.
#[derive(Debug, Args)]
pub struct ScopeFlags {
    /// Default client scope, applied to every token request (Keycloak's),
    /// repeatable or comma-separated; replaces the list (a new client's
    /// default: profile, email, roles, web-origins)
    #[arg(
        long = "default-scope",
        alias = "default-scopes",
        value_name = "SCOPE",
        value_delimiter = ','
    )]
    default_scopes: Vec<String>,
    /// No default client scopes (a request without `scope` then gets the
    /// user's scopes plus profile and email)
    #[arg(long, conflicts_with = "default_scopes")]
    no_default_scopes: bool,
    /// Optional client scope, granted only when asked for, repeatable or
    /// comma-separated; replaces the list (a new client's default: address,
    /// phone, microprofile-jwt)
    #[arg(
        long = "optional-scope",
        alias = "optional-scopes",
        value_name = "SCOPE",
        value_delimiter = ','
    )]
    optional_scopes: Vec<String>,
    /// No optional client scopes
    #[arg(long, conflicts_with = "optional_scopes")]
    no_optional_scopes: bool,
    /// The only scope this client may get for a user, repeatable; replaces
    /// the list (a new client's default: openid, profile, email and the
    /// user's own Keep scopes)
    #[arg(long = "allowed-scope", value_name = "SCOPE")]
    allowed_scopes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    client_id: String,
    #[command(flatten)]
    scopes: ScopeFlags,
    /// Remove the allowed-scopes bound
    #[arg(long, conflicts_with = "allowed_scopes")]
    any_allowed_scope: bool,
    /// Web origin browser apps may call from (Keycloak's webOrigins),
    /// repeatable; replaces the list: `+` for the redirect URIs' origins,
    /// `*` for any, or scheme://host[:port]
    #[arg(long = "web-origin", value_name = "ORIGIN")]
    web_origins: Vec<String>,
    /// No web origins (no browser origin may call)
    #[arg(long, conflicts_with = "web_origins")]
    no_web_origins: bool,
    /// Allowed redirect URI (exact match), repeatable; replaces the list
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uris: Vec<String>,
}

/// A list flag and its `--no-...` switch: `None` when neither was given.
fn list_edit(list: &[String], none: bool) -> Option<Vec<String>> {
    if none {
        Some(Vec::new())
    } else {
        (!list.is_empty()).then(|| list.to_vec())
    }
}

impl EditArgs {
    /// Whether the command names anything to change.
    fn changes_something(&self) -> bool {
        let f = &self.scopes;
        !(f.default_scopes.is_empty()
            && !f.no_default_scopes
            && f.optional_scopes.is_empty()
            && !f.no_optional_scopes
            && f.allowed_scopes.is_empty()
            && !self.any_allowed_scope
            && self.web_origins.is_empty()
            && !self.no_web_origins
            && self.redirect_uris.is_empty())
    }

    /// `client`'s spec with this command's changes.
    fn apply(&self, client: &Client) -> ClientSpec {
        let f = &self.scopes;
        let mut spec = ClientSpec {
            client_id: client.client_id.to_string(),
            secret: None,
            public: client.is_public(),
            name: client.name.clone(),
            redirect_uris: client
                .redirect_uris
                .iter()
                .map(ToString::to_string)
                .collect(),
            post_logout_redirect_uris: client
                .post_logout_redirect_uris
                .iter()
                .map(ToString::to_string)
                .collect(),
            grant_types: client.grant_types.clone(),
            default_scopes: client.default_scopes.clone(),
            optional_scopes: client.optional_scopes.clone(),
            allowed_scopes: client.allowed_scopes.clone(),
            web_origins: client.web_origins.clone(),
            // Role grants are kept in the store, not rewritten by an edit.
            service_account_roles: Vec::new(),
        };
        if let Some(list) = list_edit(&f.default_scopes, f.no_default_scopes) {
            spec.default_scopes = list;
        }
        if let Some(list) = list_edit(&f.optional_scopes, f.no_optional_scopes) {
            spec.optional_scopes = list;
        }
        if self.any_allowed_scope {
            spec.allowed_scopes = None;
        } else if !f.allowed_scopes.is_empty() {
            spec.allowed_scopes = Some(f.allowed_scopes.clone());
        }
        if let Some(list) = list_edit(&self.web_origins, self.no_web_origins) {
            spec.web_origins = list;
        }
        if !self.redirect_uris.is_empty() {
            spec.redirect_uris = self.redirect_uris.clone();
        }
        spec
    }
}

#[derive(Debug, Args)]
pub struct AddArgs {
    client_id: String,
    /// A public client (SPA, native app): no secret, PKCE required
    #[arg(long)]
    public: bool,
    /// Display name
    #[arg(long)]
    name: Option<String>,
    /// Allowed redirect URI (exact match), repeatable
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uris: Vec<String>,
    /// Allowed post-logout redirect URI, repeatable
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    post_logout_redirect_uris: Vec<String>,
    /// Allowed grant, repeatable (default: authorization_code, refresh_token, password)
    #[arg(long = "grant", value_name = "GRANT")]
    grants: Vec<Grant>,
    #[command(flatten)]
    scopes: ScopeFlags,
    /// Web origin browser apps may call from (Keycloak's webOrigins), repeatable:
    /// `+` for the redirect URIs' origins (the default), `*` for any, or scheme://host[:port]
    #[arg(long = "web-origin", value_name = "ORIGIN")]
    web_origins: Vec<String>,
    /// Read the secret from the first line of standard input instead of generating one
    #[arg(long, conflicts_with = "public")]
    secret_stdin: bool,
}

/// The grant names accepted by `--grant` (those of RFC 6749, and RFC 8693's
/// token exchange of an API key for a Domino Token).
#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
enum Grant {
    AuthorizationCode,
    RefreshToken,
    Password,
    ClientCredentials,
    #[value(alias = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
}

impl From<Grant> for GrantType {
    fn from(g: Grant) -> Self {
        match g {
            Grant::AuthorizationCode => GrantType::AuthorizationCode,
            Grant::RefreshToken => GrantType::RefreshToken,
            Grant::Password => GrantType::Password,
            Grant::ClientCredentials => GrantType::ClientCredentials,
            Grant::TokenExchange => GrantType::TokenExchange,
        }
    }
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

fn spec_from(args: &AddArgs) -> ClientSpec {
    let defaults = ClientSpec::default();
    let f = &args.scopes;
    ClientSpec {
        client_id: args.client_id.clone(),
        secret: None,
        public: args.public,
        name: args.name.clone(),
        redirect_uris: args.redirect_uris.clone(),
        post_logout_redirect_uris: args.post_logout_redirect_uris.clone(),
        grant_types: if args.grants.is_empty() {
            defaults.grant_types
        } else {
            args.grants.iter().copied().map(GrantType::from).collect()
        },
        default_scopes: list_edit(&f.default_scopes, f.no_default_scopes)
            .unwrap_or(defaults.default_scopes),
        optional_scopes: list_edit(&f.optional_scopes, f.no_optional_scopes)
            .unwrap_or(defaults.optional_scopes),
        allowed_scopes: (!f.allowed_scopes.is_empty()).then(|| f.allowed_scopes.clone()),
        web_origins: if args.web_origins.is_empty() {
            defaults.web_origins
        } else {
            args.web_origins.clone()
        },
        service_account_roles: Vec::new(),
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
            admin::remove_client(store.as_ref(), &client_id, &super::operator())
                .await
                .map_err(Failure::new)?;
            println!("removed client {client_id}");
        }
    }
    Ok(())
}
