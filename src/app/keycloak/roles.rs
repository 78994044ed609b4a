//! Keycloak's realm and client roles (with their composites) onto roles,
//! and the roles users, groups and service accounts hold onto grants;
//! and the same back for the export (see docs/roles.md).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::model::{GroupRep, RealmRep, UserRep};
use super::report::Report;
use crate::app::roles::{self, HolderName, RoleError};
use crate::domain::role::{Holder, Role, RoleRef, RoleSpec};
use crate::store::{RoleGrant, Store};

/// Roles every Keycloak realm has and this issuer builds in.
fn builtin(name: &str) -> bool {
    matches!(name, "offline_access" | "uma_authorization")
}

/// keycloak-connect's notation of a realm role (`admin`, `realm:a:b`) or a
/// client role (`app:reader`), as `RoleRef::parse` reads it.
fn notation(client: Option<&str>, name: &str) -> String {
    RoleRef {
        client: client.map(str::to_owned),
        name: name.to_owned(),
    }
    .to_string()
}

/// `composites: {realm: [..], client: {app: [..]}}` in that notation.
fn composites(role: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(c) = role.get("composites") else {
        return out;
    };
    for name in c
        .get("realm")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(n) = name.as_str() {
            out.push(notation(None, n));
        }
    }
    if let Some(clients) = c.get("client").and_then(Value::as_object) {
        for (client, names) in clients {
            for n in names
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                out.push(notation(Some(client), n));
            }
        }
    }
    out
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn outcome(why: &RoleError) -> String {
    format!("not imported: {why}")
}

/// Imports the realm's and the imported clients' roles; existing roles are
/// left as they are.
pub async fn import_roles(
    store: &dyn Store,
    realm: &RealmRep,
    clients: &[String],
    report: &mut Report,
) -> Result<(), RoleError> {
    let Some(roles) = &realm.roles else {
        return Ok(());
    };
    let mut specs = Vec::new();
    for (i, role) in roles.realm.iter().enumerate() {
        let name = text(role, "name").unwrap_or_default();
        if !builtin(&name) {
            specs.push((format!("$.roles.realm[{i}]"), None, role));
        }
    }
    for (client, list) in &roles.client {
        for (i, role) in list.iter().enumerate() {
            let path = format!("$.roles.client.{client}[{i}]");
            if clients.contains(client) {
                specs.push((path, Some(client.clone()), role));
            } else if !list.is_empty() {
                let name = text(role, "name").unwrap_or_default();
                report.note(
                    path,
                    name,
                    format!("not imported: client {client} was not imported"),
                );
            }
        }
    }
    for (path, client, role) in specs {
        let spec = RoleSpec {
            name: text(role, "name").unwrap_or_default(),
            client,
            description: text(role, "description").filter(|d| !d.starts_with("${")),
            composites: composites(role),
        };
        let what = notation(spec.client.as_deref(), &spec.name);
        if role.get("attributes").is_some_and(super::model::meaningful) {
            report.note(
                format!("{path}.attributes"),
                &what,
                "not imported: roles have no attributes here",
            );
        }
        match roles::create_if_absent(store, &spec).await {
            Ok(true) => report.roles.created += 1,
            Ok(false) => report.roles.present += 1,
            Err(RoleError::Store(e)) => return Err(RoleError::Store(e)),
            Err(why) => report.note(path, what, outcome(&why)),
        }
    }
    Ok(())
}

/// Grants `realmRoles` and `clientRoles` to `holder`, noting what fails.
async fn grant_all(
    store: &dyn Store,
    realm_name: &str,
    holder: &HolderName,
    base: &str,
    realm_roles: &[String],
    client_roles: &BTreeMap<String, Vec<String>>,
    report: &mut Report,
) -> Result<(), RoleError> {
    let default = crate::domain::role::default_roles_name(realm_name);
    let realm = realm_roles
        .iter()
        .enumerate()
        .filter(|(_, n)| **n != default)
        .map(|(j, n)| (format!("{base}.realmRoles[{j}]"), None, n));
    let client = client_roles.iter().flat_map(|(c, names)| {
        names
            .iter()
            .enumerate()
            .map(move |(j, n)| (format!("{base}.clientRoles.{c}[{j}]"), Some(c.as_str()), n))
    });
    for (path, client, name) in realm.chain(client) {
        let role = match RoleRef::new(client, name) {
            Ok(r) => r,
            Err(why) => {
                report.note(path, name, format!("not imported: {why}"));
                continue;
            }
        };
        match roles::grant(store, realm_name, holder, &role).await {
            Ok((_, true)) => report.grants += 1,
            Ok((_, false)) => {}
            Err(RoleError::Store(e)) => return Err(RoleError::Store(e)),
            Err(why) => report.note(path, role.to_string(), outcome(&why)),
        }
    }
    Ok(())
}

/// The roles of users created by this import (existing users are left as
/// they are) and of clients' service accounts.
pub async fn import_user_grants(
    store: &dyn Store,
    realm_name: &str,
    users: &[UserRep],
    created: &[String],
    report: &mut Report,
) -> Result<(), RoleError> {
    for (i, user) in users.iter().enumerate() {
        let base = format!("$.users[{i}]");
        let holder = match (&user.service_account_client_id, &user.username) {
            (Some(client), _) => {
                if store.get_client(client).await?.is_none() {
                    continue;
                }
                HolderName::Client(client.clone())
            }
            (None, Some(name)) if created.contains(name) => HolderName::User(name.clone()),
            _ => continue,
        };
        grant_all(
            store,
            realm_name,
            &holder,
            &base,
            &user.realm_roles,
            &user.client_roles,
            report,
        )
        .await?;
    }
    Ok(())
}

/// The roles groups hold (each group's path from its place in the tree).
pub async fn import_group_grants(
    store: &dyn Store,
    realm_name: &str,
    groups: &[GroupRep],
    report: &mut Report,
) -> Result<(), RoleError> {
    let mut stack: Vec<(String, String, &GroupRep)> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (format!("$.groups[{i}]"), String::new(), g))
        .collect();
    while let Some((base, parent, group)) = stack.pop() {
        let name = group.name.clone().unwrap_or_default();
        let path = group
            .path
            .clone()
            .unwrap_or_else(|| format!("{parent}/{name}"));
        let holder = HolderName::Group(path.clone());
        grant_all(
            store,
            realm_name,
            &holder,
            &base,
            &group.realm_roles,
            &group.client_roles,
            report,
        )
        .await?;
        if !group.attributes.is_empty() {
            report.note(
                format!("{base}.attributes"),
                &path,
                "not imported: groups have no attributes here",
            );
        }
        for (j, sub) in group.sub_groups.iter().enumerate() {
            stack.push((format!("{base}.subGroups[{j}]"), path.clone(), sub));
        }
    }
    Ok(())
}

/// `roles: {realm: [..], client: {..}}` of the stored roles.
pub fn export_roles(stored: &[Role]) -> Value {
    let mut realm = Vec::new();
    let mut client: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for role in stored {
        let mut composites_realm = Vec::new();
        let mut composites_client: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for c in &role.composites {
            match &c.client {
                None => composites_realm.push(c.name.clone()),
                Some(id) => composites_client
                    .entry(id.clone())
                    .or_default()
                    .push(c.name.clone()),
            }
        }
        let mut out = json!({
            "name": role.role.name,
            "composite": !role.composites.is_empty(),
            "clientRole": role.role.client.is_some(),
        });
        if let Some(d) = &role.description {
            out["description"] = json!(d);
        }
        if !role.composites.is_empty() {
            out["composites"] = json!({"realm": composites_realm, "client": composites_client});
        }
        match &role.role.client {
            None => realm.push(out),
            Some(id) => client.entry(id.clone()).or_default().push(out),
        }
    }
    json!({"realm": realm, "client": client})
}

/// `realmRoles` and `clientRoles` of one holder's grants.
pub fn held(grants: &[RoleGrant], holder: &Holder) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let mut realm = Vec::new();
    let mut client: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in grants.iter().filter(|g| &g.holder == holder) {
        match &g.role.client {
            None => realm.push(g.role.name.clone()),
            Some(c) => client
                .entry(c.clone())
                .or_default()
                .push(g.role.name.clone()),
        }
    }
    (realm, client)
}
