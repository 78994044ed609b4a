//! Loading: the command-line layer (`Overrides`), merging the layers in
//! order, and what a configuration that cannot load reports.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Serialize;

use super::Config;

/// Declares `Overrides`: every field a global `--flag` whose absence
/// (`None`) leaves the setting to the layers below, so it is not serialised.
macro_rules! overrides {
    ($($(#[doc = $doc:literal])* $field:ident: $ty:ty,)*) => {
        /// Settings given on the command line; `None` means "not given".
        #[derive(Debug, Default, Clone, Serialize, clap::Args)]
        pub struct Overrides {
            $(
                $(#[doc = $doc])*
                #[arg(long, global = true)]
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }
    };
}

overrides! {
    /// Address to listen on, e.g. 127.0.0.1:8080
    listen: String,
    /// Externally visible base URL (default http://<listen>)
    public_url: String,
    /// Realm name in /auth/realms/<realm>
    realm: String,
    /// Database URL, e.g. sqlite://data/idp.db
    database_url: String,
    /// Directory holding the signing keys
    keys_dir: PathBuf,
    /// Default `aud` claim
    audience: String,
    /// Access token lifetime in seconds
    access_token_ttl: u64,
    /// Upper bound on any token's lifetime in seconds (Keep's maxJwtDuration)
    max_jwt_duration: u64,
    /// Clock-skew allowance in seconds
    leeway: u64,
    /// `sub` claim: dn, id or username
    subject: String,
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

const FIX_HINT: &str = "see the configuration table in docs/configuration.md (linked from the README); `domino-idp check-config` shows the effective settings";

impl Config {
    /// Loads the layers in order and validates the result.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        Self::load_from(
            file,
            // `__` reaches into a table: DOMINO_IDP_SERVER__SHUTDOWN_GRACE.
            Env::prefixed("DOMINO_IDP_").ignore(&["config"]).split("__"),
            overrides,
        )
    }

    pub(super) fn load_from(
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
}
