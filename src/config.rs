//! Typed, layered configuration: built-in defaults < TOML file < `DOMINO_IDP_*`
//! environment < command-line flags. `load` fails fast with a message that names
//! the offending setting and says how to fix it.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::domain::client::{Client, ClientSpec};
use crate::domain::user::{NewUser, UserSpec};

/// What the `sub` claim carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    /// `CN=<cn>/O=<org>`, the Domino distinguished name Keep expects.
    Dn,
    /// The user's stable id (a UUID).
    Id,
    /// The login name.
    Username,
}

/// A string that must never reach a log or `check-config`'s output.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

/// The whole configuration. Durations are whole seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub listen: SocketAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    pub realm: String,
    pub database_url: String,
    pub keys_dir: PathBuf,
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserSpec>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientSpec>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            realm: "DominoRealm".into(),
            database_url: "sqlite://data/idp.db".into(),
            keys_dir: PathBuf::from("keys"),
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
            users: Vec::new(),
            clients: Vec::new(),
        }
    }
}

/// Settings given on the command line; `None` means "not given".
#[derive(Debug, Default, Clone, Serialize, clap::Args)]
pub struct Overrides {
    /// Address to listen on, e.g. 127.0.0.1:8080
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Externally visible base URL (default http://<listen>)
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Realm name in /auth/realms/<realm>
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// Database URL, e.g. sqlite://data/idp.db
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Directory holding the signing keys
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys_dir: Option<PathBuf>,
    /// Default `aud` claim
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Access token lifetime in seconds
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<u64>,
    /// Upper bound on any token's lifetime in seconds (Keep's maxJwtDuration)
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_jwt_duration: Option<u64>,
    /// Clock-skew allowance in seconds
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leeway: Option<u64>,
    /// `sub` claim: dn, id or username
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// A configuration that could not be loaded, with every problem found.
#[derive(Debug, thiserror::Error)]
#[error("{}", .problems.join("\n"))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl ConfigError {
    fn one(problem: impl Into<String>) -> Self {
        ConfigError {
            problems: vec![problem.into()],
        }
    }
}

const FIX_HINT: &str = "see the configuration table in README.md; `domino-idp check-config` shows the effective settings";

impl Config {
    /// Loads the layers in order and validates the result.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        Self::load_from(
            file,
            Env::prefixed("DOMINO_IDP_").ignore(&["config"]),
            overrides,
        )
    }

    fn load_from(
        file: Option<&Path>,
        env: Env,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::one(format!(
                    "config file {} does not exist or is not a file: pass an existing TOML file with --config or DOMINO_IDP_CONFIG",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(env).merge(Serialized::defaults(overrides));
        let config: Config = figment.extract().map_err(|err| ConfigError {
            problems: err
                .into_iter()
                .map(|e| format!("invalid setting: {e} ({FIX_HINT})"))
                .collect(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: ranges, URL shapes, names, seeded users.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        if let Some(url) = &self.public_url
            && let Err(why) = parse_public_url(url)
        {
            problems.push(format!(
                "public_url = {url:?}: {why}; set it to the externally visible base URL, e.g. https://idp.example.com"
            ));
        }
        if self.realm.is_empty()
            || self.realm.len() > 64
            || !self
                .realm
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            problems.push(format!(
                "realm = {:?}: use 1-64 characters from A-Z a-z 0-9 - _ . (default DominoRealm)",
                self.realm
            ));
        }
        if !(self.database_url.starts_with("sqlite:")) {
            problems.push(format!(
                "database_url = {:?}: only sqlite: URLs are supported by this build, e.g. sqlite://data/idp.db",
                self.database_url
            ));
        }
        if self.audience.trim().is_empty() {
            problems.push("audience is empty: set it to the name of the API that accepts the tokens (default Domino)".into());
        }
        for (name, value, max) in [
            ("access_token_ttl", self.access_token_ttl, 86_400 * 365),
            ("max_jwt_duration", self.max_jwt_duration, 86_400 * 365),
            ("refresh_token_ttl", self.refresh_token_ttl, 86_400 * 365),
            ("session_ttl", self.session_ttl, 86_400 * 365),
            ("code_ttl", self.code_ttl, 600),
        ] {
            if value == 0 || value > max {
                problems.push(format!(
                    "{name} = {value}: use a number of seconds between 1 and {max}"
                ));
            }
        }
        if self.leeway > 300 {
            problems.push(format!(
                "leeway = {}: use at most 300 seconds of clock skew",
                self.leeway
            ));
        }
        if self.jwks_max_age > 86_400 {
            problems.push(format!(
                "jwks_max_age = {}: use at most 86400 seconds",
                self.jwks_max_age
            ));
        }
        if !(1024..=16 * 1024 * 1024).contains(&self.max_body_bytes) {
            problems.push(format!(
                "max_body_bytes = {}: use between 1024 and 16777216",
                self.max_body_bytes
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, spec) in self.users.iter().enumerate() {
            match NewUser::from_spec(spec) {
                Ok(user) => {
                    if !seen.insert(user.username.key().to_owned()) {
                        problems.push(format!(
                            "users[{i}] ({}): the same username appears twice; remove one",
                            spec.username
                        ));
                    }
                }
                Err(why) => problems.push(format!("users[{i}] ({:?}): {why}", spec.username)),
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, spec) in self.clients.iter().enumerate() {
            match Client::from_spec(spec) {
                Ok(_) if !seen.insert(spec.client_id.clone()) => problems.push(format!(
                    "clients[{i}] ({}): the same client_id appears twice; remove one",
                    spec.client_id
                )),
                Ok((_, Some(_))) => problems.push(format!(
                    "clients[{i}] ({}): a confidential client needs `secret` (at least 16 characters), or set public = true",
                    spec.client_id
                )),
                Ok(_) => {}
                Err(why) => problems.push(format!("clients[{i}]: {why}")),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }

    /// The base URL tokens name: `public_url`, or `http://<addr>` when unset.
    pub fn public_url_for(&self, addr: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{addr}"),
        }
    }

    /// Lifetime of an access token: `access_token_ttl` clamped to `max_jwt_duration`.
    pub fn effective_access_ttl(&self) -> u64 {
        self.access_token_ttl.min(self.max_jwt_duration)
    }
}

fn parse_public_url(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("the scheme must be http or https".into());
    }
    if url.host().is_none() {
        return Err("a host is required".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a query or fragment is not allowed".into());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_toml(toml: &str) -> Result<Config, ConfigError> {
        let dir = std::env::temp_dir().join(format!("domino-idp-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(&path, toml).unwrap();
        let result = Config::load_from(
            Some(&path),
            Env::prefixed("DOMINO_IDP_TEST_UNUSED_"),
            &Overrides::default(),
        );
        std::fs::remove_dir_all(&dir).ok();
        result
    }

    #[test]
    fn defaults_match_the_spec() {
        let c = Config::default();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.realm, "DominoRealm");
        assert_eq!(c.database_url, "sqlite://data/idp.db");
        assert_eq!(c.audience, "Domino");
        assert_eq!(c.access_token_ttl, 300);
        assert_eq!(c.leeway, 5);
        assert_eq!(c.subject, SubjectKind::Dn);
        c.validate().unwrap();
    }

    #[test]
    fn unknown_key_is_named() {
        let err = load_toml("lisen = \"127.0.0.1:1\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("lisen"), "{err}");
    }

    #[test]
    fn bad_value_is_named() {
        let err = load_toml("leeway = \"soon\"\n").unwrap_err().to_string();
        assert!(err.contains("leeway"), "{err}");
        let err = load_toml("subject = \"email\"\n").unwrap_err().to_string();
        assert!(err.contains("subject"), "{err}");
        let err = load_toml("access_token_ttl = 0\n").unwrap_err().to_string();
        assert!(err.contains("access_token_ttl"), "{err}");
    }

    #[test]
    fn flags_beat_file() {
        let dir = std::env::temp_dir().join(format!("domino-idp-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(&path, "realm = \"FromFile\"\naudience = \"FileAud\"\n").unwrap();
        let overrides = Overrides {
            realm: Some("FromFlag".into()),
            ..Default::default()
        };
        let c = Config::load_from(
            Some(&path),
            Env::prefixed("DOMINO_IDP_TEST_UNUSED_"),
            &overrides,
        )
        .unwrap();
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(c.realm, "FromFlag");
        assert_eq!(c.audience, "FileAud");
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
    }
}
