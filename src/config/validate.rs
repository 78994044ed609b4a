//! What serde cannot check: ranges, URL shapes, names, seeded users and clients.

use std::fmt::Display;
use std::ops::RangeBounds;

use super::{Config, ConfigError, KeyStoreKind};
use crate::domain::client::Client;
use crate::domain::mapper::validate_all;
use crate::domain::password::{check_cost, check_phc, configured_params};
use crate::domain::role::{Role, RoleRef, builtin_roles, parse_group_path};
use crate::domain::user::NewUser;

impl Config {
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
        let rel = &self.http_relative_path;
        if !rel.starts_with('/')
            || rel.len() > 64
            || rel.contains("//")
            || rel.split('/').any(|part| part == "." || part == "..")
            || !rel
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'))
            || (rel.len() > 1 && rel.ends_with('/'))
        {
            problems.push(format!(
                "http_relative_path = {rel:?}: use /auth (realms at /auth/realms/<realm>, the default) or / (Keycloak 17 and later: /realms/<realm>), or another path like /kc"
            ));
        }
        if !self.is_sqlite() && !self.is_postgres() {
            problems.push(format!(
                "database_url = {:?}: use sqlite://PATH (the embedded default, e.g. sqlite://data/idp.db) or postgres://USER:PASSWORD@HOST/DB",
                self.database_url
            ));
        }
        match (self.key_store(), &self.key_encryption_key) {
            (KeyStoreKind::Database, None) => problems.push(format!(
                "key_store = database{}: key_encryption_key is required (the signing keys are stored encrypted with it); \
                 set DOMINO_IDP_KEY_ENCRYPTION_KEY to 32 random bytes in base64, e.g. `head -c32 /dev/urandom | base64`",
                if self.key_store.is_none() { " (the default with postgres)" } else { "" }
            )),
            (KeyStoreKind::Database, Some(kek)) => {
                if let Err(why) = crate::keys::sealed::Sealer::from_base64(kek.expose()) {
                    problems.push(format!("key_encryption_key: {why}"));
                }
            }
            (KeyStoreKind::Dir, _) => {}
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
            let advice = format!("use a number of seconds between 1 and {max}");
            in_range(&mut problems, name, value, 1..=max, &advice);
        }
        if let Some(lead) = self.key_rotation_lead {
            let advice = "use at most 2592000 seconds (30 days)";
            in_range(
                &mut problems,
                "key_rotation_lead",
                lead,
                ..=86_400 * 30,
                advice,
            );
        }
        if self.key_rotation_period != 0 && self.key_rotation_period < 3600 {
            problems.push(format!(
                "key_rotation_period = {}: use 0 (no automatic rotation) or at least 3600 seconds",
                self.key_rotation_period
            ));
        }
        for (name, value, allowed, advice) in [
            (
                "key_reload_interval",
                self.key_reload_interval,
                1..=3600,
                "use between 1 and 3600 seconds",
            ),
            (
                "leeway",
                self.leeway,
                0..=300,
                "use at most 300 seconds of clock skew",
            ),
            (
                "jwks_max_age",
                self.jwks_max_age,
                0..=86_400,
                "use at most 86400 seconds",
            ),
            (
                "max_body_bytes",
                self.max_body_bytes as u64,
                1024..=16 * 1024 * 1024,
                "use between 1024 and 16777216",
            ),
        ] {
            in_range(&mut problems, name, value, allowed, advice);
        }
        if !strict_version(&self.domino_api_version) {
            problems.push(format!(
                "domino_api_version = {:?}: write a version as X.Y.Z, digits only (default 6.2.0; python-domino needs at least 4.1.0, its agents extra 6.2.0)",
                self.domino_api_version
            ));
        }
        if self.admin_group.trim().is_empty()
            || self.admin_group.chars().count() > 1024
            || self.admin_group.chars().any(char::is_control)
        {
            problems.push(format!(
                "admin_group = {:?}: name the group whose members are Domino API admins (default admins)",
                self.admin_group
            ));
        }
        problems.extend(self.brute_force.problems());
        self.server.check(&mut problems);
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
            if let Some(hash) = &spec.password_hash
                && !self.allow_costlier_password_hashes
                && check_phc(hash.expose()).is_ok()
                && let Err(why) = check_cost(hash.expose(), &configured_params())
            {
                problems.push(format!("users[{i}] ({:?}): {why}", spec.username));
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
        self.check_roles(&mut problems);
        if let Err(mut mapper_problems) = validate_all(&self.mappers) {
            problems.append(&mut mapper_problems);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems })
        }
    }
}

impl Config {
    /// `[[roles]]`, `[[groups]]` and the roles users and clients list: valid,
    /// no role twice, and every granted role defined in the file or built in.
    fn check_roles(&self, problems: &mut Vec<String>) {
        let mut defined: Vec<RoleRef> = builtin_roles(&self.realm)
            .into_iter()
            .map(|r| r.role)
            .collect();
        for (i, spec) in self.roles.iter().enumerate() {
            match Role::from_spec(spec) {
                Ok(role) if defined.contains(&role.role) => problems.push(format!(
                    "roles[{i}] ({}): the same role appears twice; remove one",
                    role.role
                )),
                Ok(role) => defined.push(role.role),
                Err(why) => problems.push(format!("roles[{i}]: {why}")),
            }
        }
        let check = |place: String, names: &[String]| -> Vec<String> {
            let mut found = Vec::new();
            for name in names {
                match RoleRef::parse(name) {
                    Ok(r) if defined.contains(&r) => {}
                    Ok(r) => found.push(format!(
                        "{place}: role {r} is not defined; add it under [[roles]]"
                    )),
                    Err(why) => found.push(format!("{place}: {why}")),
                }
            }
            found
        };
        for (i, g) in self.groups.iter().enumerate() {
            if let Err(why) = parse_group_path(&g.path) {
                problems.push(format!("groups[{i}]: {why}"));
            }
            problems.extend(check(format!("groups[{i}] ({})", g.path), &g.roles));
        }
        for (i, u) in self.users.iter().enumerate() {
            problems.extend(check(format!("users[{i}] ({:?})", u.username), &u.roles));
        }
        for (i, c) in self.clients.iter().enumerate() {
            problems.extend(check(
                format!("clients[{i}] ({}): service_account_roles", c.client_id),
                &c.service_account_roles,
            ));
        }
    }
}

/// Adds `name = value: advice` to `problems` when `value` is outside
/// `allowed` (the advice says how to fix it).
pub(super) fn in_range<T: PartialOrd + Display>(
    problems: &mut Vec<String>,
    name: &str,
    value: T,
    allowed: impl RangeBounds<T>,
    advice: &str,
) {
    if !allowed.contains(&value) {
        problems.push(format!("{name} = {value}: {advice}"));
    }
}

/// `X.Y.Z`: three numbers without signs or leading zeros, as the agents
/// extra of python-domino parses a version strictly.
fn strict_version(raw: &str) -> bool {
    let parts: Vec<&str> = raw.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 9
                && p.bytes().all(|b| b.is_ascii_digit())
                && (*p == "0" || !p.starts_with('0'))
        })
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
