//! The store as a Keycloak realm export, in Keycloak's own format, so that
//! Keycloak can import it and this issuer can import it back: password
//! hashes in Keycloak's encoding, client secrets masked as Keycloak's
//! partial export masks them (only their digests are kept here), mappers
//! for every client repeated in each client (marked, so the import keeps
//! one): a `clientScopes` list would stop Keycloak from creating its own
//! default scopes, which the clients name.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::clients::MASKED_SECRET;
use super::mappers;
use super::roles;
use super::users::{CN_ATTRIBUTE, ORG_ATTRIBUTE};
use crate::config::Config;
use crate::domain::client::{Client, GrantType};
use crate::domain::domino::{FAMILY_NAME, GIVEN_NAME, names};
use crate::domain::mapper::{KEEP_CLIENT, MapperSpec};
use crate::domain::password::keycloak::KeycloakHash;
use crate::domain::role::Holder;
use crate::domain::user::User;
use crate::store::{RoleGrant, Store, StoreError};

/// Keycloak's default scopes whose claims every token here carries (a
/// client that lists its scopes in Keycloak gets exactly those).
const IMPLIED_SCOPES: [&str; 2] = ["acr", "basic"];

fn credential(user: &User, notes: &mut Vec<String>) -> Option<Value> {
    match KeycloakHash::from_phc(&user.password_hash.0) {
        Ok(kc) => {
            let secret = json!({"value": kc.value, "salt": kc.salt, "additionalParameters": {}});
            let data = json!({
                "hashIterations": kc.iterations,
                "algorithm": kc.algorithm,
                "additionalParameters": kc.additional,
            });
            Some(json!({
                "type": "password",
                "secretData": secret.to_string(),
                "credentialData": data.to_string(),
            }))
        }
        Err(why) => {
            notes.push(format!(
                "user {}: password not exported: {why}",
                user.username
            ));
            None
        }
    }
}

fn user(user: &User, grants: &[RoleGrant], notes: &mut Vec<String>) -> Value {
    let (first, last) = names(user);
    let mut attributes: BTreeMap<String, Vec<String>> = user
        .attributes
        .iter()
        .filter(|(k, _)| k.as_str() != GIVEN_NAME && k.as_str() != FAMILY_NAME)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // The common name only when first and last name do not give it back.
    if format!("{first} {last}").trim() != user.cn {
        attributes.insert(CN_ATTRIBUTE.into(), vec![user.cn.clone()]);
    }
    if let Some(org) = &user.org {
        attributes.insert(ORG_ATTRIBUTE.into(), vec![org.clone()]);
    }
    let mut out = json!({
        "username": user.username,
        "enabled": user.enabled,
        "attributes": attributes,
        "groups": user.groups.iter().map(|g| format!("/{g}")).collect::<Vec<_>>(),
        "credentials": credential(user, notes).into_iter().collect::<Vec<_>>(),
    });
    for (key, value) in [
        ("email", user.email.clone()),
        ("firstName", Some(first)),
        ("lastName", Some(last)),
    ] {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            out[key] = json!(v);
        }
    }
    let (realm_roles, client_roles) = roles::held(grants, &Holder::User(user.id.clone()));
    out["realmRoles"] = json!(realm_roles);
    out["clientRoles"] = json!(client_roles);
    if !user.scopes.is_empty() {
        notes.push(format!(
            "user {}: Keep scopes ({}) not exported: Keycloak users have none",
            user.username,
            user.scopes.join(" ")
        ));
    }
    out
}

/// The group tree Keycloak needs before it can put users in `/a/b`, with
/// the roles each group holds.
fn groups(users: &[User], grants: &[RoleGrant]) -> Vec<Value> {
    #[derive(Default)]
    struct Node(BTreeMap<String, Node>);
    let mut root = Node::default();
    let granted = grants.iter().filter_map(|g| match &g.holder {
        Holder::Group(path) => Some(path.clone()),
        _ => None,
    });
    for path in users.iter().flat_map(|u| u.groups.clone()).chain(granted) {
        let mut node = &mut root;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            node = node.0.entry(part.to_owned()).or_default();
        }
    }
    fn render(node: &Node, prefix: &str, grants: &[RoleGrant]) -> Vec<Value> {
        node.0
            .iter()
            .map(|(name, child)| {
                let path = format!("{prefix}/{name}");
                let (realm_roles, client_roles) = roles::held(grants, &Holder::Group(path.clone()));
                json!({
                    "name": name,
                    "path": path,
                    "realmRoles": realm_roles,
                    "clientRoles": client_roles,
                    "subGroups": render(child, &path, grants),
                })
            })
            .collect()
    }
    render(&root, "", grants)
}

/// Keycloak keeps a service account's roles on a user of its own.
fn service_account(client: &Client, grants: &[RoleGrant]) -> Option<Value> {
    let (realm_roles, client_roles) =
        roles::held(grants, &Holder::Client(client.client_id.to_string()));
    if realm_roles.is_empty() && client_roles.is_empty() {
        return None;
    }
    Some(json!({
        "username": format!("service-account-{}", client.client_id.to_lowercase()),
        "enabled": true,
        "serviceAccountClientId": client.client_id,
        "realmRoles": realm_roles,
        "clientRoles": client_roles,
    }))
}

fn client(client: &Client, own_mappers: Vec<Value>) -> Value {
    // Keycloak's own scopes for what every token here carries anyway.
    let mut scopes: Vec<&str> = IMPLIED_SCOPES.to_vec();
    scopes.extend(client.default_scopes.iter().map(String::as_str));
    let mut out = json!({
        "clientId": client.client_id,
        "enabled": true,
        "protocol": "openid-connect",
        "publicClient": client.is_public(),
        "clientAuthenticatorType": "client-secret",
        "redirectUris": client.redirect_uris,
        "webOrigins": client.web_origins,
        "standardFlowEnabled": client.allows(GrantType::AuthorizationCode),
        "directAccessGrantsEnabled": client.allows(GrantType::Password),
        "serviceAccountsEnabled": client.allows(GrantType::ClientCredentials),
        "implicitFlowEnabled": false,
        "bearerOnly": false,
        "defaultClientScopes": scopes,
        "optionalClientScopes": client.optional_scopes,
        "protocolMappers": own_mappers,
        "attributes": {},
    });
    if let Some(name) = &client.name {
        out["name"] = json!(name);
    }
    if !client.is_public() {
        out["secret"] = json!(MASKED_SECRET);
    }
    if !client.post_logout_redirect_uris.is_empty() {
        out["attributes"]["post.logout.redirect.uris"] =
            json!(client.post_logout_redirect_uris.join("##"));
    }
    out
}

/// The realm export, and notes on what it could not carry (for stderr).
pub async fn export(
    store: &dyn Store,
    config: &Config,
) -> Result<(Value, Vec<String>), StoreError> {
    let mut notes = Vec::new();
    let users = store.list_users().await?;
    // The built-in clients (domino-play, admin-console) are made again by
    // every start, for that instance's base URL: not exported.
    let (builtin, clients): (Vec<_>, Vec<_>) = store
        .list_clients()
        .await?
        .into_iter()
        .partition(|c| c.is_builtin());
    for c in &builtin {
        notes.push(format!(
            "client {}: not exported: built in, every start makes it again",
            c.client_id
        ));
    }
    let specs: Vec<MapperSpec> = store.list_mappers().await?;
    let grants = store.role_grants(&[]).await?;
    let stored_roles = store.list_roles().await?;
    let mut per_client: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut everyone = Vec::new();
    for spec in &specs {
        if spec.clients.is_empty() {
            match mappers::from_spec(spec, &spec.name) {
                Some(m) => everyone.push(m),
                None => notes.push(format!(
                    "mapper {}: no Keycloak equivalent; not exported",
                    spec.name
                )),
            }
            continue;
        }
        for client_id in &spec.clients {
            let exported = clients.iter().any(|c| &c.client_id == client_id);
            if !exported {
                let why = if client_id == KEEP_CLIENT {
                    "the Keep login is not a Keycloak client"
                } else {
                    "no such client"
                };
                notes.push(format!(
                    "mapper {} for {client_id}: not exported: {why}",
                    spec.name
                ));
                continue;
            }
            let name = spec
                .name
                .strip_prefix(&format!("{client_id}/"))
                .unwrap_or(&spec.name);
            match mappers::from_spec(spec, name) {
                Some(m) => per_client.entry(client_id.clone()).or_default().push(m),
                None => notes.push(format!(
                    "mapper {}: no Keycloak equivalent; not exported",
                    spec.name
                )),
            }
        }
    }
    let mut realm = Map::new();
    realm.insert("realm".into(), json!(config.realm));
    realm.insert("enabled".into(), json!(true));
    realm.insert("accessTokenLifespan".into(), json!(config.access_token_ttl));
    realm.insert(
        "ssoSessionIdleTimeout".into(),
        json!(config.refresh_token_ttl),
    );
    realm.insert("ssoSessionMaxLifespan".into(), json!(config.session_ttl));
    realm.insert("accessCodeLifespan".into(), json!(config.code_ttl));
    realm.insert("loginWithEmailAllowed".into(), json!(true));
    realm.insert("duplicateEmailsAllowed".into(), json!(false));
    // Keycloak 24 and later drop attributes its user profile does not
    // declare, unless unmanaged attributes are enabled.
    let profile = json!({
        "attributes": [{"name": "username"}, {"name": "email"}, {"name": "firstName"}, {"name": "lastName"}],
        "unmanagedAttributePolicy": "ENABLED",
    });
    realm.insert(
        "components".into(),
        json!({ super::USER_PROFILE: [{
            "providerId": "declarative-user-profile",
            "subComponents": {},
            "config": {"kc.user.profile.config": [profile.to_string()]},
        }]}),
    );
    realm.insert("groups".into(), Value::Array(groups(&users, &grants)));
    realm.insert("roles".into(), roles::export_roles(&stored_roles));
    let mut exported_users: Vec<Value> =
        users.iter().map(|u| user(u, &grants, &mut notes)).collect();
    exported_users.extend(clients.iter().filter_map(|c| service_account(c, &grants)));
    realm.insert("users".into(), Value::Array(exported_users));
    realm.insert(
        "clients".into(),
        Value::Array(
            clients
                .iter()
                .map(|c| {
                    let mut own = everyone.clone();
                    own.extend(per_client.remove(c.client_id.as_str()).unwrap_or_default());
                    client(c, own)
                })
                .collect(),
        ),
    );
    Ok((Value::Object(realm), notes))
}
