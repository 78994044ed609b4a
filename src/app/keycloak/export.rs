//! The store as a Keycloak realm export, in Keycloak's own format, so that
//! Keycloak can import it and this issuer can import it back: password
//! hashes in Keycloak's encoding, client secrets masked as Keycloak's
//! partial export masks them (only their digests are kept here), mappers
//! for every client in a default client scope named `domino-idp`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::clients::MASKED_SECRET;
use super::mappers;
use super::users::{CN_ATTRIBUTE, ORG_ATTRIBUTE};
use crate::config::Config;
use crate::domain::client::{Client, GrantType};
use crate::domain::domino::{FAMILY_NAME, GIVEN_NAME, names};
use crate::domain::mapper::{KEEP_CLIENT, MapperSpec};
use crate::domain::password::keycloak::KeycloakHash;
use crate::domain::user::User;
use crate::store::{Store, StoreError};

/// The client scope the export puts mappers that apply to every client in.
pub const SCOPE: &str = "domino-idp";

/// Keycloak's default client scopes, kept on each exported client next to
/// `domino-idp` (a client that lists its scopes gets exactly those).
const KEYCLOAK_DEFAULT_SCOPES: [&str; 6] =
    ["web-origins", "acr", "profile", "roles", "basic", "email"];

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

fn user(user: &User, notes: &mut Vec<String>) -> Value {
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
    if !user.scopes.is_empty() {
        notes.push(format!(
            "user {}: Keep scopes ({}) not exported: Keycloak users have none",
            user.username,
            user.scopes.join(" ")
        ));
    }
    out
}

/// The group tree Keycloak needs before it can put users in `/a/b`.
fn groups(users: &[User]) -> Vec<Value> {
    #[derive(Default)]
    struct Node(BTreeMap<String, Node>);
    let mut root = Node::default();
    for path in users.iter().flat_map(|u| &u.groups) {
        let mut node = &mut root;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            node = node.0.entry(part.to_owned()).or_default();
        }
    }
    fn render(node: &Node, prefix: &str) -> Vec<Value> {
        node.0
            .iter()
            .map(|(name, child)| {
                let path = format!("{prefix}/{name}");
                json!({"name": name, "path": path, "subGroups": render(child, &path)})
            })
            .collect()
    }
    render(&root, "")
}

fn client(client: &Client, own_mappers: Vec<Value>, scoped: bool) -> Value {
    let mut scopes: Vec<&str> = KEYCLOAK_DEFAULT_SCOPES.to_vec();
    if scoped {
        scopes.push(SCOPE);
    }
    let mut out = json!({
        "clientId": client.client_id,
        "enabled": true,
        "protocol": "openid-connect",
        "publicClient": client.is_public(),
        "clientAuthenticatorType": "client-secret",
        "redirectUris": client.redirect_uris,
        "webOrigins": ["+"],
        "standardFlowEnabled": client.allows(GrantType::AuthorizationCode),
        "directAccessGrantsEnabled": client.allows(GrantType::Password),
        "serviceAccountsEnabled": client.allows(GrantType::ClientCredentials),
        "implicitFlowEnabled": false,
        "bearerOnly": false,
        "defaultClientScopes": scopes,
        "optionalClientScopes": [],
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
    let clients = store.list_clients().await?;
    let specs: Vec<MapperSpec> = store.list_mappers().await?;
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
    let scoped = !everyone.is_empty();
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
    realm.insert("groups".into(), Value::Array(groups(&users)));
    realm.insert(
        "users".into(),
        Value::Array(users.iter().map(|u| user(u, &mut notes)).collect()),
    );
    realm.insert(
        "clients".into(),
        Value::Array(
            clients
                .iter()
                .map(|c| {
                    client(
                        c,
                        per_client.remove(&c.client_id).unwrap_or_default(),
                        scoped,
                    )
                })
                .collect(),
        ),
    );
    if scoped {
        realm.insert(
            "clientScopes".into(),
            json!([{
                "name": SCOPE,
                "description": "Claim mappers of domino-idp that apply to every client",
                "protocol": "openid-connect",
                "attributes": {"include.in.token.scope": "false"},
                "protocolMappers": everyone,
            }]),
        );
        realm.insert("defaultDefaultClientScopes".into(), json!([SCOPE]));
    }
    Ok((Value::Object(realm), notes))
}
