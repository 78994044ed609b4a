//! Claim mappers (SPEC §5), after Keycloak's protocol mappers: each adds one
//! claim (or one audience) to some of the outputs, for some of the clients.
//! Static values are converted when a mapper is loaded, so a bad one stops
//! start-up; values from user data are converted when a token is minted and
//! skipped, with a warning, when they do not convert.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::user::InvalidInput;

mod apply;

pub use apply::apply_all;
use apply::convert;

/// Claims no mapper may set: the token's identity, lifetime and kind, who it
/// was issued to and for which session (userinfo, introspection, revocation
/// and logout read these, so a mapper must not be able to move a token to
/// another user, client or session); and the role claims, which guards
/// such as keycloak-connect's `protect('realm:admin')` trust, so that only
/// role grants put roles in a token (Keycloak's role mappers write them;
/// here the `roles` client scope does).
pub const PROTECTED: [&str; 16] = [
    "iss",
    "sub",
    "exp",
    "iat",
    "nbf",
    "jti",
    "typ",
    "azp",
    "sid",
    "session_state",
    "preferred_username",
    "auth_time",
    "nonce",
    "at_hash",
    "realm_access",
    "resource_access",
];
/// The client name the Keep `POST /auth` login counts as.
pub const KEEP_CLIENT: &str = "keep";
pub const MAX_MAPPERS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum MapperType {
    Hardcoded,
    UserAttribute,
    UserProperty,
    GroupMembership,
    Audience,
}

/// Where a mapper's claim lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    /// Access tokens of the OAuth grants.
    Access,
    /// ID tokens.
    Id,
    /// The userinfo response.
    Userinfo,
    /// The introspection response.
    Introspection,
    /// The Keep `POST /auth` token.
    Keep,
}

impl Output {
    pub const ALL: [Output; 5] = [
        Output::Access,
        Output::Id,
        Output::Userinfo,
        Output::Introspection,
        Output::Keep,
    ];
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Output::Access => "access",
            Output::Id => "id",
            Output::Userinfo => "userinfo",
            Output::Introspection => "introspection",
            Output::Keep => "keep",
        };
        f.write_str(name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    #[default]
    String,
    Int,
    Boolean,
    Json,
}

/// The user properties a `user-property` mapper can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Property {
    Username,
    Email,
    Cn,
    Org,
    Dn,
    Id,
}

fn all_outputs() -> Vec<Output> {
    Output::ALL.to_vec()
}

fn yes() -> bool {
    true
}

/// A mapper as written in `[[mappers]]` or given to `mapper add`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapperSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: MapperType,
    /// Claim name; dots nest (`org.unit`), `\.` is a literal dot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    #[serde(default)]
    pub json_type: JsonType,
    /// `hardcoded`: the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// `user-attribute`: the attribute's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// `user-attribute`: all values as an array instead of the first.
    #[serde(default)]
    pub multivalued: bool,
    /// `user-property`: which property.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property: Option<Property>,
    /// `group-membership`: `/Admins` instead of `Admins` (Keycloak's default).
    #[serde(default = "yes")]
    pub full_path: bool,
    /// `audience`: the audience to add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(default = "all_outputs")]
    pub outputs: Vec<Output>,
    /// Only for these clients (`keep` = the Keep login); empty = every client.
    #[serde(default)]
    pub clients: Vec<String>,
}

/// What a validated mapper produces.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    Fixed(Value),
    Attribute { name: String, multivalued: bool },
    Property(Property),
    Groups { full_path: bool },
    Audience(String),
}

/// A validated mapper, ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapper {
    pub spec: MapperSpec,
    path: Vec<String>,
    source: Source,
}

fn invalid(name: &str, msg: impl fmt::Display) -> InvalidInput {
    InvalidInput(format!("mapper {name:?}: {msg}"))
}

/// Splits a claim name on unescaped dots (`a.b` nests, `a\.b` does not).
fn claim_path(claim: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = claim.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                chars.next();
                if let Some(p) = parts.last_mut() {
                    p.push('.');
                }
            }
            '.' => parts.push(String::new()),
            other => {
                if let Some(p) = parts.last_mut() {
                    p.push(other);
                }
            }
        }
    }
    parts
}

impl Mapper {
    pub fn from_spec(spec: &MapperSpec) -> Result<Mapper, InvalidInput> {
        let name = spec.name.as_str();
        if name.is_empty()
            || name.chars().count() > 64
            || name.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(InvalidInput(format!(
                "mapper name {name:?}: use 1-64 characters without spaces or control characters"
            )));
        }
        if spec.outputs.is_empty() {
            return Err(invalid(
                name,
                "outputs is empty; list at least one of access, id, userinfo, introspection, keep",
            ));
        }
        let missing = |field: &str| invalid(name, format!("type {:?} needs `{field}`", spec.kind));
        let source = match spec.kind {
            MapperType::Hardcoded => {
                let raw = spec.value.as_ref().ok_or_else(|| missing("value"))?;
                let value = convert(raw, spec.json_type).ok_or_else(|| {
                    invalid(
                        name,
                        format!("value {raw} is not a valid {:?}", spec.json_type),
                    )
                })?;
                Source::Fixed(value)
            }
            MapperType::UserAttribute => Source::Attribute {
                name: spec.attribute.clone().ok_or_else(|| missing("attribute"))?,
                multivalued: spec.multivalued,
            },
            MapperType::UserProperty => {
                Source::Property(spec.property.ok_or_else(|| missing("property"))?)
            }
            MapperType::GroupMembership => Source::Groups {
                full_path: spec.full_path,
            },
            MapperType::Audience => {
                let aud = spec.audience.clone().ok_or_else(|| missing("audience"))?;
                if aud.trim().is_empty() || aud.len() > 1024 {
                    return Err(invalid(name, "audience must be 1-1024 characters"));
                }
                Source::Audience(aud)
            }
        };
        let path = match (&source, &spec.claim) {
            (Source::Audience(_), None) => vec!["aud".to_owned()],
            (Source::Audience(_), Some(_)) => {
                return Err(invalid(
                    name,
                    "an audience mapper always adds to `aud`; remove `claim`",
                ));
            }
            (_, None) => return Err(missing("claim")),
            (_, Some(claim)) => {
                let path = claim_path(claim);
                if claim.len() > 256 || path.iter().any(String::is_empty) {
                    return Err(invalid(
                        name,
                        format!(
                            "claim {claim:?} is not a valid claim name (no empty parts, at most 256 characters)"
                        ),
                    ));
                }
                if PROTECTED.contains(&path[0].as_str()) {
                    return Err(invalid(
                        name,
                        format!(
                            "claim {:?} is protected; mappers cannot set {}",
                            path[0],
                            PROTECTED.join(" ")
                        ),
                    ));
                }
                if path[0] == "aud" {
                    return Err(invalid(name, "use an `audience` mapper to add to `aud`"));
                }
                path
            }
        };
        Ok(Mapper {
            spec: spec.clone(),
            path,
            source,
        })
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Whether this mapper contributes to `output` for `client`.
    pub fn applies(&self, output: Output, client: &str) -> bool {
        self.spec.outputs.contains(&output)
            && (self.spec.clients.is_empty() || self.spec.clients.iter().any(|c| c == client))
    }
}

/// Validates a list of specs: each on its own, and names unique.
pub fn validate_all(specs: &[MapperSpec]) -> Result<Vec<Mapper>, Vec<String>> {
    let mut problems = Vec::new();
    let mut out: Vec<Mapper> = Vec::new();
    if specs.len() > MAX_MAPPERS {
        problems.push(format!("at most {MAX_MAPPERS} mappers"));
    }
    for (i, spec) in specs.iter().enumerate() {
        match Mapper::from_spec(spec) {
            Ok(m) if out.iter().any(|o| o.name() == m.name()) => problems.push(format!(
                "mappers[{i}] ({}): the same name appears twice; remove one",
                spec.name
            )),
            Ok(m) => out.push(m),
            Err(e) => problems.push(format!("mappers[{i}]: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests;
