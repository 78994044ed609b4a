//! Users of the password store: as the operator describes them (`UserSpec`),
//! validated (`NewUser`) and as stored (`User`). The checked names they are
//! built from are in `input`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::scope::ScopeSet;
use crate::domain::secret::Secret;

mod input;

pub use input::{Email, InvalidInput, LoginName, MAX_NAME_CHARS, Password, Username, name_key};
use input::{check_text, invalid, parse_dn_part};

pub const MAX_SCOPES: usize = 64;
pub const MAX_GROUPS: usize = 64;
pub const MAX_ATTRIBUTES: usize = 64;
pub const MAX_ATTRIBUTE_VALUES: usize = 32;
pub const MAX_ITEM_CHARS: usize = 1024;

/// Scopes as written in config or on the command line: a list, or one
/// space-separated string (`"MAIL $DATA"`, Keep's form).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ScopeList {
    #[default]
    None,
    Spaced(String),
    List(Vec<String>),
}

impl ScopeList {
    pub fn is_none(&self) -> bool {
        matches!(self, ScopeList::None)
    }
    fn items(&self) -> Vec<String> {
        match self {
            ScopeList::None => Vec::new(),
            ScopeList::Spaced(s) => s.split_whitespace().map(str::to_owned).collect(),
            ScopeList::List(v) => v.clone(),
        }
    }
}

/// An attribute value as written: one string or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttributeValue {
    One(String),
    Many(Vec<String>),
}

/// A user as described by the operator (`[[users]]` or `user add`), unvalidated.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(default, skip_serializing_if = "ScopeList::is_none")]
    pub scopes: ScopeList,
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeValue>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Roles the user holds directly (`admin`, `app:reader`); seeded from
    /// the file, see docs/roles.md.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

impl Default for UserSpec {
    /// An enabled user with no password, matching what serde fills in.
    fn default() -> Self {
        UserSpec {
            username: String::new(),
            password: None,
            password_hash: None,
            email: None,
            cn: None,
            org: None,
            scopes: ScopeList::None,
            attributes: BTreeMap::new(),
            groups: Vec::new(),
            roles: Vec::new(),
            enabled: true,
        }
    }
}

/// How a new user's password arrives.
#[derive(Debug, Clone)]
pub enum Credential {
    Plain(Password),
    /// An argon2 PHC string, already validated.
    Hash(Secret),
}

/// A validated user, ready to be hashed and stored.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub email: Option<Email>,
    pub cn: String,
    pub org: Option<String>,
    pub scopes: Vec<String>,
    pub attributes: BTreeMap<String, Vec<String>>,
    pub groups: Vec<String>,
    pub enabled: bool,
    pub credential: Option<Credential>,
}

impl NewUser {
    pub fn from_spec(spec: &UserSpec) -> Result<Self, InvalidInput> {
        let username = Username::parse(&spec.username)?;
        let email = spec.email.as_deref().map(Email::parse).transpose()?;
        let cn = match &spec.cn {
            Some(cn) => parse_dn_part("cn", cn)?,
            None => parse_dn_part("cn", username.as_str())?,
        };
        let org = spec
            .org
            .as_deref()
            .map(|o| parse_dn_part("org", o))
            .transpose()?;
        let scopes = ScopeSet::parse_list("scopes", &spec.scopes.items())
            .map_err(invalid)?
            .to_strings();
        if scopes.len() > MAX_SCOPES {
            return Err(invalid(format!("at most {MAX_SCOPES} scopes per user")));
        }
        if spec.attributes.len() > MAX_ATTRIBUTES {
            return Err(invalid(format!(
                "at most {MAX_ATTRIBUTES} attributes per user"
            )));
        }
        let mut attributes = BTreeMap::new();
        for (name, value) in &spec.attributes {
            check_text("attribute name", name, 128)?;
            let values = match value {
                AttributeValue::One(v) => vec![v.clone()],
                AttributeValue::Many(v) => v.clone(),
            };
            if values.len() > MAX_ATTRIBUTE_VALUES {
                return Err(invalid(format!(
                    "attribute {name:?} has more than {MAX_ATTRIBUTE_VALUES} values"
                )));
            }
            for v in &values {
                if v.chars().count() > MAX_ITEM_CHARS || v.chars().any(char::is_control) {
                    return Err(invalid(format!(
                        "attribute {name:?}: values must be at most {MAX_ITEM_CHARS} characters without control characters"
                    )));
                }
            }
            attributes.insert(name.clone(), values);
        }
        if spec.groups.len() > MAX_GROUPS {
            return Err(invalid(format!("at most {MAX_GROUPS} groups per user")));
        }
        let mut groups = Vec::new();
        for g in &spec.groups {
            check_text("group", g, MAX_NAME_CHARS)?;
            if !groups.contains(g) {
                groups.push(g.clone());
            }
        }
        let credential = match (&spec.password, &spec.password_hash) {
            (Some(_), Some(_)) => {
                return Err(invalid("give either password or password_hash, not both"));
            }
            (Some(p), None) => Some(Credential::Plain(Password::parse(p.expose())?)),
            (None, Some(h)) => {
                crate::domain::password::check_phc(h.expose())?;
                Some(Credential::Hash(h.clone()))
            }
            (None, None) => None,
        };
        Ok(NewUser {
            username,
            email,
            cn,
            org,
            scopes,
            attributes,
            groups,
            enabled: spec.enabled,
            credential,
        })
    }
}

/// An argon2 PHC string as stored. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// A user as the store holds it.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub cn: String,
    pub org: Option<String>,
    #[serde(skip)]
    pub password_hash: PasswordHash,
    pub scopes: Vec<String>,
    pub attributes: BTreeMap<String, Vec<String>>,
    pub groups: Vec<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A user for tests: `doc` (Doctor Notes), with no org, scopes,
/// attributes or groups; tests change what they look at.
#[cfg(test)]
impl User {
    pub(crate) fn sample() -> User {
        User {
            id: "0b7c".into(),
            username: "doc".into(),
            email: Some("doctor.notes@projectkeep.io".into()),
            cn: "Doctor Notes".into(),
            org: None,
            password_hash: PasswordHash(String::new()),
            scopes: vec![],
            attributes: BTreeMap::new(),
            groups: vec![],
            enabled: true,
            created_at: 0,
            updated_at: 0,
        }
    }
}

impl User {
    /// The Domino distinguished name: `CN=<cn>/O=<org>`, or `CN=<cn>` without org.
    pub fn dn(&self) -> String {
        match &self.org {
            Some(org) => format!("CN={}/O={}", self.cn, org),
            None => format!("CN={}", self.cn),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dn_follows_domino() {
        let spec = UserSpec {
            username: "doc".into(),
            cn: Some("Doctor Notes".into()),
            org: Some("ProjectKeep".into()),
            ..Default::default()
        };
        let u = NewUser::from_spec(&spec).unwrap();
        assert_eq!(u.cn, "Doctor Notes");
        assert!(
            NewUser::from_spec(&UserSpec {
                username: "x".into(),
                cn: Some("a/b".into()),
                ..Default::default()
            })
            .is_err()
        );
    }

    #[test]
    fn scopes_accept_keep_form_and_lists() {
        let spaced = UserSpec {
            username: "a".into(),
            scopes: ScopeList::Spaced("MAIL $DATA MAIL".into()),
            ..Default::default()
        };
        assert_eq!(
            NewUser::from_spec(&spaced).unwrap().scopes,
            ["MAIL", "$DATA"]
        );
        let listed = UserSpec {
            username: "a".into(),
            scopes: ScopeList::List(vec!["MAIL".into(), "has space".into()]),
            ..Default::default()
        };
        assert!(NewUser::from_spec(&listed).is_err());
    }
}
