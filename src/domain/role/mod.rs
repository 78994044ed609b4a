//! Realm roles and client roles, as Keycloak has them: a role is a realm's or
//! a client's, may be composite (holding other roles, expanded transitively),
//! and is held by users, groups (inherited by members of the group and of
//! its subgroups) and clients' service accounts. Every user and service
//! account holds `default-roles-<realm>`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::client::ClientId;
use crate::domain::user::InvalidInput;

pub const MAX_ROLE_CHARS: usize = 255;
pub const MAX_COMPOSITES: usize = 256;
pub const MAX_GROUP_PATH_CHARS: usize = 1024;

fn invalid(msg: impl Into<String>) -> InvalidInput {
    InvalidInput(msg.into())
}

/// A role's name and owner: the realm, or a client.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RoleRef {
    /// `None` for a realm role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    pub name: String,
}

impl RoleRef {
    pub fn realm(name: &str) -> RoleRef {
        RoleRef {
            client: None,
            name: name.to_owned(),
        }
    }

    /// Checks a role name and, for a client role, the client id.
    pub fn new(client: Option<&str>, name: &str) -> Result<RoleRef, InvalidInput> {
        if name.trim().is_empty()
            || name.chars().count() > MAX_ROLE_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(invalid(format!(
                "role name {name:?} must be 1-{MAX_ROLE_CHARS} characters without control characters"
            )));
        }
        let client = client
            .map(|c| ClientId::parse(c).map(ClientId::into_string))
            .transpose()?;
        Ok(RoleRef {
            client,
            name: name.to_owned(),
        })
    }

    /// keycloak-connect's notation: `admin` or `realm:admin` for a realm
    /// role, `app:reader` for the role `reader` of the client `app`.
    pub fn parse(raw: &str) -> Result<RoleRef, InvalidInput> {
        match raw.split_once(':') {
            Some(("realm", name)) => RoleRef::new(None, name),
            Some((client, name)) => RoleRef::new(Some(client), name),
            None => RoleRef::new(None, raw),
        }
    }
}

impl fmt::Display for RoleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.client {
            Some(c) => write!(f, "{c}:{}", self.name),
            None if self.name.contains(':') => write!(f, "realm:{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A role as the operator writes it (`[[roles]]`, `role add`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    pub name: String,
    /// The client owning the role; absent for a realm role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Roles this one holds, in keycloak-connect's notation (`admin`,
    /// `app:reader`): whoever holds this role holds them too.
    #[serde(default)]
    pub composites: Vec<String>,
}

/// A group as the operator writes it (`[[groups]]`): a path (its parents
/// are implied, as Keycloak's subgroups are) and the roles its members and
/// its subgroups' members hold.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub path: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A validated role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Role {
    #[serde(flatten)]
    pub role: RoleRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub composites: Vec<RoleRef>,
}

impl Role {
    pub fn from_spec(spec: &RoleSpec) -> Result<Role, InvalidInput> {
        let role = RoleRef::new(spec.client.as_deref(), &spec.name)?;
        if let Some(d) = &spec.description
            && (d.chars().count() > 1024 || d.chars().any(char::is_control))
        {
            return Err(invalid(format!(
                "role {role}: description must be at most 1024 characters without control characters"
            )));
        }
        if spec.composites.len() > MAX_COMPOSITES {
            return Err(invalid(format!(
                "role {role}: at most {MAX_COMPOSITES} composites"
            )));
        }
        let mut composites: Vec<RoleRef> = Vec::new();
        for c in &spec.composites {
            let c = RoleRef::parse(c)?;
            if !composites.contains(&c) {
                composites.push(c);
            }
        }
        Ok(Role {
            role,
            description: spec.description.clone(),
            composites,
        })
    }
}

/// The name of the realm's default role, as Keycloak names it.
pub fn default_roles_name(realm: &str) -> String {
    format!("default-roles-{}", realm.to_lowercase())
}

/// The roles every realm has, as Keycloak creates them: `offline_access`,
/// `uma_authorization`, and `default-roles-<realm>` holding both. A stored
/// role of the same name replaces its built-in one.
pub fn builtin_roles(realm: &str) -> Vec<Role> {
    let plain = |name: &str, description: &str| Role {
        role: RoleRef::realm(name),
        description: Some(description.to_owned()),
        composites: Vec::new(),
    };
    vec![
        Role {
            role: RoleRef::realm(&default_roles_name(realm)),
            description: Some(format!("${{role_default-roles}} of realm {realm}")),
            composites: vec![
                RoleRef::realm("offline_access"),
                RoleRef::realm("uma_authorization"),
            ],
        },
        plain("offline_access", "${role_offline-access}"),
        plain("uma_authorization", "${role_uma_authorization}"),
    ]
}

/// The stored roles with the built-in ones a stored role does not replace.
pub fn with_builtins(realm: &str, stored: Vec<Role>) -> Vec<Role> {
    let mut all = stored;
    for b in builtin_roles(realm) {
        if !all.iter().any(|r| r.role == b.role) {
            all.push(b);
        }
    }
    all
}

/// Who holds a role directly.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Holder {
    /// A user, by id.
    User(String),
    /// A group, by path (`/parent/child`).
    Group(String),
    /// A client's service account, by client id.
    Client(String),
}

impl Holder {
    pub fn kind(&self) -> &'static str {
        match self {
            Holder::User(_) => "user",
            Holder::Group(_) => "group",
            Holder::Client(_) => "client",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Holder::User(id) | Holder::Group(id) | Holder::Client(id) => id,
        }
    }

    pub fn from_parts(kind: &str, id: &str) -> Option<Holder> {
        match kind {
            "user" => Some(Holder::User(id.to_owned())),
            "group" => Some(Holder::Group(id.to_owned())),
            "client" => Some(Holder::Client(id.to_owned())),
            _ => None,
        }
    }
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind(), self.id())
    }
}

/// A group path, Keycloak's `/parent/child`; a user's group `staff` is the
/// top-level group `/staff`.
pub fn parse_group_path(raw: &str) -> Result<String, InvalidInput> {
    let trimmed = raw.trim();
    let path = if trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    };
    let bad = path.len() > MAX_GROUP_PATH_CHARS
        || path.chars().any(char::is_control)
        || path[1..].split('/').any(|seg| seg.trim().is_empty());
    if bad {
        return Err(invalid(format!(
            "group {raw:?} must be a path like /parent/child: non-empty names, at most {MAX_GROUP_PATH_CHARS} characters, no control characters"
        )));
    }
    Ok(path)
}

/// A group and its ancestors: `/a/b` gives `/a/b` and `/a`.
pub fn with_ancestors(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut p = path.trim_end_matches('/');
    while !p.is_empty() {
        out.push(p.to_owned());
        p = match p.rfind('/') {
            Some(i) => &p[..i],
            None => "",
        };
    }
    out
}

/// The holders whose roles a user has: the user, each of their groups and
/// each group's ancestors. A group name that is not a valid path holds
/// nothing.
pub fn holders_of_user(user_id: &str, groups: &[String]) -> Vec<Holder> {
    let mut out = vec![Holder::User(user_id.to_owned())];
    for g in groups {
        if let Ok(path) = parse_group_path(g) {
            for p in with_ancestors(&path) {
                let h = Holder::Group(p);
                if !out.contains(&h) {
                    out.push(h);
                }
            }
        }
    }
    out
}

/// The roles a token carries: realm roles, and each client's roles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EffectiveRoles {
    pub realm: BTreeSet<String>,
    pub clients: BTreeMap<String, BTreeSet<String>>,
}

/// Expands `direct` through the composites of `defined` (transitively; a
/// cycle ends where it meets a role already reached). A role that is not
/// defined (any more) is not held.
pub fn expand<'a>(
    defined: &[Role],
    direct: impl IntoIterator<Item = &'a RoleRef>,
) -> EffectiveRoles {
    let by_ref: BTreeMap<&RoleRef, &Role> = defined.iter().map(|r| (&r.role, r)).collect();
    let mut reached: BTreeSet<&RoleRef> = BTreeSet::new();
    let mut queue: Vec<&RoleRef> = direct.into_iter().collect();
    while let Some(next) = queue.pop() {
        let Some((key, role)) = by_ref.get_key_value(next) else {
            continue;
        };
        if reached.insert(key) {
            queue.extend(role.composites.iter());
        }
    }
    let mut out = EffectiveRoles::default();
    for r in reached {
        match &r.client {
            None => {
                out.realm.insert(r.name.clone());
            }
            Some(c) => {
                out.clients
                    .entry(c.clone())
                    .or_default()
                    .insert(r.name.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
