//! The flags of `client add` and `client edit`, and the client spec each
//! makes of them.

use clap::{Args, ValueEnum};

use crate::domain::client::{Client, ClientSpec, GrantType};

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
    pub(super) client_id: String,
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
    pub(super) fn changes_something(&self) -> bool {
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
    pub(super) fn apply(&self, client: &Client) -> ClientSpec {
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
    pub(super) secret_stdin: bool,
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

/// The spec `client add` registers: the flags, Keycloak's defaults for
/// what they leave out.
pub(super) fn spec_from(args: &AddArgs) -> ClientSpec {
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
