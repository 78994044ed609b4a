//! Keycloak realm exports in and out (`domino-idp import keycloak`,
//! `export keycloak`, and `keycloak_import_dir` at start): users with their
//! password hashes as Keycloak stored them, clients, protocol mappers, and
//! the realm's token lifespans, through the same operations the CLI uses.
//! What cannot be carried over is reported with its JSON path.

mod clients;
mod export;
mod mappers;
mod model;
mod report;
mod roles;
mod scopes;
mod users;

use std::collections::BTreeMap;

use serde_json::Value;

pub use self::clients::MASKED_SECRET;
pub use self::export::export;
use self::model::{RealmRep, meaningful};
pub use self::report::{Finding, Report, Tally};
use crate::config::Config;
use crate::domain::password::{HashError, PasswordHasher};
use crate::domain::secret::Secret;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum KeycloakError {
    #[error("{0}")]
    Parse(String),
    #[error(
        "the export is realm {found:?} but this issuer serves realm {configured:?}: set realm = {found:?} in the configuration (or --realm {found}) to import it"
    )]
    RealmMismatch { found: String, configured: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("{0}")]
    Invalid(String),
}

impl From<crate::app::users::UserError> for KeycloakError {
    fn from(e: crate::app::users::UserError) -> Self {
        use crate::app::users::UserError;
        match e {
            UserError::Store(s) => KeycloakError::Store(s),
            UserError::Hash(h) => KeycloakError::Hash(h),
            other => KeycloakError::Invalid(other.to_string()),
        }
    }
}

/// An operation's error as an import's: the store's stays a store error,
/// anything else (invalid input) says why the entry was refused.
macro_rules! store_or_invalid {
    ($error:ty) => {
        impl From<$error> for KeycloakError {
            fn from(e: $error) -> Self {
                type E = $error;
                match e {
                    E::Store(s) => KeycloakError::Store(s),
                    other => KeycloakError::Invalid(other.to_string()),
                }
            }
        }
    };
}

store_or_invalid!(crate::app::SpecError);
store_or_invalid!(crate::app::roles::RoleError);

/// How to import.
#[derive(Debug, Default)]
pub struct ImportOptions {
    /// Secrets of confidential clients, by client id: Keycloak's exports
    /// mask them, and this issuer keeps only digests.
    pub client_secrets: BTreeMap<String, Secret>,
    /// Generate a secret for a confidential client that has none (the CLI
    /// shows it once); without, such a client is reported and skipped.
    pub generate_secrets: bool,
}

/// Realm fields that mean nothing here (display, themes, the realm's own
/// keys and internal ids). Everything else left over is reported.
const COSMETIC: [&str; 19] = [
    "id",
    "enabled",
    "displayName",
    "displayNameHtml",
    "notBefore",
    "sslRequired",
    "loginTheme",
    "accountTheme",
    "adminTheme",
    "emailTheme",
    "internationalizationEnabled",
    "supportedLocales",
    "defaultLocale",
    "attributes",
    "keycloakVersion",
    "userManagedAccessAllowed",
    "defaultSignatureAlgorithm",
    "revokeRefreshToken",
    "refreshTokenMaxReuse",
];

/// Keycloak's user profile component (Keycloak 24 and later).
pub const USER_PROFILE: &str = "org.keycloak.userprofile.UserProfileProvider";

/// Realm fields this issuer's defaults already match: the login accepts
/// emails, emails are unique, usernames are fixed, brute-force protection
/// is on (its settings are `[brute_force]`).
const MATCHING_DEFAULTS: [(&str, bool); 4] = [
    ("bruteForceProtected", true),
    ("loginWithEmailAllowed", true),
    ("duplicateEmailsAllowed", false),
    ("editUsernameAllowed", false),
];

/// Parses an export: one realm, or a list of realms (Keycloak's
/// single-file export of several), from which the configured one is taken.
fn parse(text: &str, configured: &str, report: &mut Report) -> Result<RealmRep, KeycloakError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| KeycloakError::Parse(format!("not a JSON document: {e}")))?;
    let value = match value {
        Value::Array(realms) => {
            let mut found = None;
            for (i, realm) in realms.into_iter().enumerate() {
                let name = realm
                    .get("realm")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                if name == configured && found.is_none() {
                    found = Some(realm);
                } else {
                    report.note(
                        format!("$[{i}]"),
                        name,
                        "not imported: another realm than the configured one",
                    );
                }
            }
            found.ok_or_else(|| {
                KeycloakError::Parse(format!("the file lists no realm named {configured:?}"))
            })?
        }
        other => other,
    };
    serde_json::from_value(value)
        .map_err(|e| KeycloakError::Parse(format!("not a Keycloak realm export: {e}")))
}

/// Reports how the realm's lifespans compare with the settings. Settings
/// live in the configuration file, not the database, so the import says
/// which line to write rather than changing them behind the file's back.
fn lifespans(realm: &RealmRep, config: &Config, report: &mut Report) {
    for (key, value, setting, current) in [
        (
            "accessTokenLifespan",
            realm.access_token_lifespan,
            "access_token_ttl",
            config.access_token_ttl,
        ),
        (
            "ssoSessionIdleTimeout",
            realm.sso_session_idle_timeout,
            "refresh_token_ttl",
            config.refresh_token_ttl,
        ),
        (
            "ssoSessionMaxLifespan",
            realm.sso_session_max_lifespan,
            "session_ttl",
            config.session_ttl,
        ),
        (
            "accessCodeLifespan",
            realm.access_code_lifespan,
            "code_ttl",
            config.code_ttl,
        ),
    ] {
        match value {
            Some(v) if v != current => report.note(
                format!("$.{key}"),
                v.to_string(),
                format!("not applied: settings live in the configuration; write {setting} = {v} there (now {current})"),
            ),
            _ => {}
        }
    }
}

fn realm_leftovers(realm: &RealmRep, report: &mut Report) {
    for (i, idp) in realm.identity_providers.iter().enumerate() {
        let alias = idp.get("alias").and_then(Value::as_str).unwrap_or("");
        report.note(
            format!("$.identityProviders[{i}]"),
            alias,
            "not imported: identity brokering is not supported",
        );
    }
    let custom_flows: Vec<_> = realm
        .authentication_flows
        .iter()
        .enumerate()
        .filter(|(_, f)| f.get("builtIn").and_then(Value::as_bool) != Some(true))
        .collect();
    for (i, flow) in custom_flows {
        let alias = flow.get("alias").and_then(Value::as_str).unwrap_or("");
        report.note(
            format!("$.authenticationFlows[{i}]"),
            alias,
            "not imported: login is username (or email) and password here",
        );
    }
    for (i, action) in realm.required_actions.iter().enumerate() {
        let on = action.get("enabled").and_then(Value::as_bool) == Some(true)
            && action.get("defaultAction").and_then(Value::as_bool) == Some(true);
        if on {
            let alias = action.get("alias").and_then(Value::as_str).unwrap_or("");
            report.note(
                format!("$.requiredActions[{i}]"),
                alias,
                "not imported: required actions are not supported",
            );
        }
    }
    if let Some(Value::Object(components)) = realm.other.get("components") {
        for (kind, list) in components {
            // The declarative user profile: users here keep every attribute.
            if kind == USER_PROFILE || !meaningful(list) {
                continue;
            }
            let why = if kind == "org.keycloak.keys.KeyProvider" {
                "not imported: the signing keys are the issuer's own (keys_dir or the database)"
            } else {
                "not imported: no equivalent here"
            };
            report.note(format!("$.components.{kind}"), "", why);
        }
    }
    for (key, value) in &realm.other {
        if key == "components" {
            continue;
        }
        if COSMETIC.contains(&key.as_str())
            || key == "defaultDefaultClientScopes"
            || key == "defaultOptionalClientScopes"
            || key == "defaultRole"
        {
            continue;
        }
        if let Some((_, default)) = MATCHING_DEFAULTS.iter().find(|(k, _)| k == key)
            && value.as_bool() == Some(*default)
        {
            continue;
        }
        if meaningful(value) {
            report.note(format!("$.{key}"), "", "not imported: no equivalent here");
        }
    }
}

/// Imports a realm export into the store. Idempotent: users, clients and
/// mappers that exist (by username, client id, mapper name) are left as
/// they are, so importing twice gives the same state.
pub async fn import(
    store: &dyn Store,
    hasher: &PasswordHasher,
    config: &Config,
    text: &str,
    options: &ImportOptions,
) -> Result<Report, KeycloakError> {
    let mut report = Report::default();
    let realm = parse(text, &config.realm, &mut report)?;
    let found = realm.realm.clone().unwrap_or_default();
    if found != config.realm {
        return Err(KeycloakError::RealmMismatch {
            found,
            configured: config.realm.clone(),
        });
    }
    report.realm = found;
    lifespans(&realm, config, &mut report);
    realm_leftovers(&realm, &mut report);
    let imported = clients::import(
        store,
        &realm,
        &options.client_secrets,
        options.generate_secrets,
        &mut report,
    )
    .await?;
    scopes::import_mappers(store, &realm, &imported, &mut report).await?;
    roles::import_roles(store, &realm, &imported, &mut report).await?;
    let created = users::import(
        store,
        hasher,
        config.allow_costlier_password_hashes,
        &realm.users,
        &mut report,
    )
    .await?;
    roles::import_user_grants(store, &config.realm, &realm.users, &created, &mut report).await?;
    roles::import_group_grants(store, &config.realm, &realm.groups, &mut report).await?;
    Ok(report)
}
