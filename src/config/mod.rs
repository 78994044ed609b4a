//! Typed, layered configuration: built-in defaults < TOML file < `DOMINO_IDP_*`
//! environment < command-line flags. `load` fails fast with a message that names
//! the offending setting and says how to fix it.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::domain::client::ClientSpec;
use crate::domain::mapper::MapperSpec;
use crate::domain::role::{GroupSpec, RoleSpec};
pub use crate::domain::secret::Secret;
pub use crate::domain::token::SubjectKind;
use crate::domain::token::TokenPolicy;
use crate::domain::user::UserSpec;

mod brute_force;
mod load;
mod server;
mod validate;

pub use load::{ConfigError, Overrides};

pub use server::ServerSettings;

pub use brute_force::{BruteForce, ProxyNet, canonical_ip};

/// `url` with its password (if any) replaced, for output and messages.
pub fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("[redacted]"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

fn serialize_redacted_url<S: serde::Serializer>(url: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&redacted_url(url))
}

/// Where the signing keys are kept (`key_store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStoreKind {
    /// PEM files in `keys_dir`, coordinated by a file lock.
    Dir,
    /// Rows of the database, the private key encrypted.
    Database,
}

/// How log lines are written (`log_format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log aggregators.
    Json,
}

/// The whole configuration. Durations are whole seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub listen: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    pub realm: String,
    /// Where the realms are served, Keycloak's `KC_HTTP_RELATIVE_PATH`:
    /// `/auth` (the seeds' layout, Keycloak before 17) puts a realm at
    /// `/auth/realms/<realm>`, `/` (Keycloak 17 and later) at `/realms/<realm>`.
    /// Keep's `/auth` login stays where it is.
    pub http_relative_path: String,
    /// Shown with its password replaced (`check-config`, messages).
    #[serde(serialize_with = "serialize_redacted_url")]
    pub database_url: String,
    pub keys_dir: PathBuf,
    /// Where the signing keys live: `dir` (PEM files in `keys_dir`) or
    /// `database` (encrypted with `key_encryption_key`, shared by every
    /// instance on the database). Default: `dir` on SQLite, `database` on
    /// Postgres.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_store: Option<KeyStoreKind>,
    /// 32 bytes, base64: encrypts the private keys stored in the database
    /// (AES-256-GCM). Required when `key_store` is `database`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_encryption_key: Option<Secret>,
    pub audience: String,
    pub access_token_ttl: u64,
    pub max_jwt_duration: u64,
    pub leeway: u64,
    pub refresh_token_ttl: u64,
    pub subject: SubjectKind,
    pub jwks_max_age: u64,
    pub max_body_bytes: usize,
    /// Lifetime of a login session (browser cookie and refresh-token family).
    pub session_ttl: u64,
    /// Lifetime of an authorization code.
    pub code_ttl: u64,
    /// How long a new key is published before it signs; default: the JWKS
    /// `max-age` plus the reload interval plus a minute, so every instance
    /// publishes it and every cached JWKS has it before it signs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_rotation_lead: Option<u64>,
    /// Rotate the signing key automatically this often (0 = only by hand).
    pub key_rotation_period: u64,
    /// How often a running server re-reads `keys_dir` for rotations made by
    /// the CLI or another instance.
    pub key_reload_interval: u64,
    /// Failure counters and lockouts on every password check.
    pub brute_force: BruteForce,
    /// `[server]`: connection, header and time limits; shutdown grace.
    pub server: ServerSettings,
    /// `text`, or `json` (one object per line, audit lines included).
    pub log_format: LogFormat,
    /// Accept a seeded `password_hash` that costs more to check than the
    /// configured argon2 parameters. Off: such a user answers a wrong
    /// password slower than an unknown user, which tells that they exist
    /// (until their next login replaces the hash).
    pub allow_costlier_password_hashes: bool,
    /// What `GET /version` reports: a strict `X.Y.Z`. python-domino needs
    /// at least 4.1.0, its `agents` extra at least 6.2.0.
    pub domino_api_version: String,
    /// The group whose members `GET /v4/auth/principal` calls admins.
    pub admin_group: String,
    /// Create the built-in `domino-play` client at start when no client of
    /// that id exists (see docs/domino.md).
    pub builtin_domino_play: bool,
    /// Serve the developer start page at `/` and `<issuer>/` (endpoints, get
    /// a token, check a token). Off: `/` is a 404, for production.
    pub start_page: bool,
    /// Serve the admin console at `/admin`, with its built-in
    /// `admin-console` client (see docs/console.md).
    pub admin_console: bool,
    /// A folder of Keycloak realm exports (`*.json`) imported at every
    /// start, as Keycloak's `--import-realm` imports `data/import`: what
    /// exists is left as it is (see docs/keycloak.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keycloak_import_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserSpec>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientSpec>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mappers: Vec<MapperSpec>,
    /// `[[roles]]`: realm and client roles (docs/roles.md).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleSpec>,
    /// `[[groups]]`: the roles of a group path's members.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupSpec>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            realm: "DominoRealm".into(),
            http_relative_path: "/auth".into(),
            database_url: "sqlite://data/idp.db".into(),
            keys_dir: PathBuf::from("keys"),
            key_store: None,
            key_encryption_key: None,
            audience: "Domino".into(),
            access_token_ttl: 300,
            max_jwt_duration: 7200,
            leeway: 5,
            refresh_token_ttl: 1800,
            subject: SubjectKind::Dn,
            jwks_max_age: 300,
            max_body_bytes: 64 * 1024,
            session_ttl: 36_000,
            code_ttl: 60,
            key_rotation_lead: None,
            key_rotation_period: 0,
            key_reload_interval: 10,
            brute_force: BruteForce::default(),
            server: ServerSettings::default(),
            log_format: LogFormat::Text,
            allow_costlier_password_hashes: false,
            domino_api_version: "6.2.0".into(),
            admin_group: "admins".into(),
            builtin_domino_play: true,
            start_page: true,
            admin_console: true,
            keycloak_import_dir: None,
            users: Vec::new(),
            clients: Vec::new(),
            mappers: Vec::new(),
            roles: Vec::new(),
            groups: Vec::new(),
        }
    }
}

impl Config {
    /// The base URL tokens name: `public_url`, or `http://<addr>` when unset.
    /// The path before `/realms/<realm>`: `/auth`, or empty for `/`.
    pub fn realms_prefix(&self) -> &str {
        self.http_relative_path.trim_end_matches('/')
    }

    /// The issuer as the CLI names it (no server bound: `listen` stands in
    /// when `public_url` is not set).
    pub fn issuer(&self) -> String {
        crate::domain::token::issuer_url(
            &self.public_url_for(self.listen),
            self.realms_prefix(),
            &self.realm,
        )
    }

    pub fn public_url_for(&self, addr: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{addr}"),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://")
    }

    /// Where the keys live: `key_store`, else by backend (the database on
    /// Postgres, where several instances must share them; `keys_dir` on SQLite).
    pub fn key_store(&self) -> KeyStoreKind {
        self.key_store.unwrap_or(if self.is_postgres() {
            KeyStoreKind::Database
        } else {
            KeyStoreKind::Dir
        })
    }

    /// Seconds between a key's publication and its first signature.
    pub fn rotation_lead(&self) -> u64 {
        self.key_rotation_lead.unwrap_or(
            self.jwks_max_age
                .saturating_add(self.key_reload_interval)
                .saturating_add(60),
        )
    }

    /// How long a retired signer stays published: the longest a token it
    /// signed can live, plus the verifiers' leeway.
    pub fn retirement_delay(&self) -> u64 {
        self.max_jwt_duration.saturating_add(self.leeway)
    }

    /// Lifetime of an access token: `access_token_ttl` clamped to `max_jwt_duration`.
    pub fn effective_access_ttl(&self) -> u64 {
        self.access_token_ttl.min(self.max_jwt_duration)
    }

    /// The policy these settings set for tokens of `issuer`.
    pub fn token_policy(&self, issuer: String) -> TokenPolicy {
        TokenPolicy {
            issuer,
            audience: self.audience.clone(),
            access_token_ttl: self.effective_access_ttl(),
            max_jwt_duration: self.max_jwt_duration,
            subject: self.subject,
        }
    }
}

#[cfg(test)]
mod tests;
