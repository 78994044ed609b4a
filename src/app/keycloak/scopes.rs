//! The protocol mappers of the imported clients, and of custom client
//! scopes (applied to the clients that have the scope by default), onto
//! claim mappers.

use super::mappers;
use super::model::{ClientScopeRep, RealmRep};
use super::report::Report;
use crate::app::mappers::MapperError;
use crate::domain::mapper::MapperSpec;
use crate::store::Store;

/// Client scopes Keycloak creates in every realm; their claims are the
/// issuer's own profile, email and standard claims.
const BUILTIN_SCOPES: [&str; 13] = [
    "profile",
    "email",
    "roles",
    "web-origins",
    "acr",
    "basic",
    "address",
    "phone",
    "offline_access",
    "microprofile-jwt",
    "role_list",
    "organization",
    "service_account",
];

async fn add_mapper(
    store: &dyn Store,
    path: String,
    what: String,
    spec: Result<MapperSpec, String>,
    report: &mut Report,
) -> Result<(), MapperError> {
    let spec = match spec {
        Ok(spec) => spec,
        Err(why) if why.starts_with(mappers::NOT_YET) || why.starts_with("built in") => {
            report.note(path, what, why);
            return Ok(());
        }
        Err(why) => {
            report.note(path, what, format!("not imported: {why}"));
            return Ok(());
        }
    };
    if crate::app::mappers::create_if_absent(store, &spec).await? {
        report.mappers.created += 1;
    } else {
        report.mappers.present += 1;
    }
    Ok(())
}

/// Imports the protocol mappers of the imported clients and of custom
/// client scopes.
pub async fn import_mappers(
    store: &dyn Store,
    realm: &RealmRep,
    imported: &[String],
    report: &mut Report,
) -> Result<(), MapperError> {
    let mut every_client = std::collections::BTreeSet::new();
    for (i, rep) in realm.clients.iter().enumerate() {
        let Some(id) = rep.client_id.as_ref().filter(|id| imported.contains(id)) else {
            continue;
        };
        for (j, m) in rep.protocol_mappers.iter().enumerate() {
            let what = m.name.clone().unwrap_or_default();
            let spec = if m.flag(mappers::EVERY_CLIENT_FLAG) == Some(true) {
                // One mapper of every client, which the export repeated.
                if !every_client.insert(what.clone()) {
                    continue;
                }
                mappers::to_spec(m, "", Vec::new()).map(|mut spec| {
                    spec.name = spec.name.trim_start_matches('/').to_owned();
                    spec
                })
            } else {
                mappers::to_spec(m, id, vec![id.clone()])
            };
            add_mapper(
                store,
                format!("$.clients[{i}].protocolMappers[{j}]"),
                what,
                spec,
                report,
            )
            .await?;
        }
    }
    for (i, scope) in realm.client_scopes.iter().enumerate() {
        import_scope(store, realm, imported, i, scope, report).await?;
    }
    Ok(())
}

async fn import_scope(
    store: &dyn Store,
    realm: &RealmRep,
    imported: &[String],
    i: usize,
    scope: &ClientScopeRep,
    report: &mut Report,
) -> Result<(), MapperError> {
    let base = format!("$.clientScopes[{i}]");
    let name = scope.name.clone().unwrap_or_default();
    if BUILTIN_SCOPES.contains(&name.as_str()) {
        if !scope.protocol_mappers.is_empty() {
            report.note(base, name, "not imported: a scope Keycloak creates in every realm; the issuer sets its standard claims itself");
        }
        return Ok(());
    }
    if scope
        .protocol
        .as_deref()
        .is_some_and(|p| p != "openid-connect")
    {
        report.note(base, name, "not imported: not an OpenID Connect scope");
        return Ok(());
    }
    let realm_default = realm.default_default_client_scopes.contains(&name);
    let clients: Vec<String> = realm
        .clients
        .iter()
        .filter(|c| c.client_id.as_ref().is_some_and(|id| imported.contains(id)))
        .filter(|c| {
            c.default_client_scopes.contains(&name)
                || (realm_default && c.default_client_scopes.is_empty())
        })
        .filter_map(|c| c.client_id.clone())
        .collect();
    let all = realm
        .clients
        .iter()
        .filter(|c| c.client_id.as_ref().is_some_and(|id| imported.contains(id)))
        .count();
    // A realm default scope that every client has: its mappers apply to
    // every client (and, with keep.token.claim, to the Keep login).
    let clients = if realm_default && clients.len() == all {
        Vec::new()
    } else {
        clients
    };
    if clients.is_empty() && !realm_default {
        if !scope.protocol_mappers.is_empty() {
            report.note(base, name, "not imported: no imported client has this scope by default, and mappers here apply whatever scope a token asks for");
        }
        return Ok(());
    }
    for (j, m) in scope.protocol_mappers.iter().enumerate() {
        let spec = mappers::to_spec(m, &name, clients.clone());
        let what = m.name.clone().unwrap_or_default();
        add_mapper(
            store,
            format!("{base}.protocolMappers[{j}]"),
            what,
            spec,
            report,
        )
        .await?;
    }
    Ok(())
}
