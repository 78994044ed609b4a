//! Keycloak clients onto this issuer's clients: grants from the flow
//! switches, exact redirect URIs, secrets (masked ones supplied again).

use std::collections::BTreeMap;

use super::model::{ClientRep, RealmRep, meaningful};
use super::report::Report;
use crate::app::clients::{self, ClientError};
use crate::domain::client::{ClientSpec, GrantType, RedirectUri};
use crate::domain::scope::{keycloak_default_scopes, keycloak_optional_scopes};
use crate::domain::secret::Secret;
use crate::store::{Store, StoreError};

/// How Keycloak's partial export writes a client secret.
pub const MASKED_SECRET: &str = "**********";

/// Clients every Keycloak realm has, for its own consoles and brokering.
const KEYCLOAK_BUILTIN: [&str; 7] = [
    "account",
    "account-console",
    "admin-cli",
    "broker",
    "realm-management",
    "security-admin-console",
    "master-realm",
];

/// Client fields that mean nothing here (URLs for Keycloak's console,
/// display settings, adapter settings).
const COSMETIC: [&str; 20] = [
    "id",
    "rootUrl",
    "baseUrl",
    "adminUrl",
    "description",
    "surrogateAuthRequired",
    "alwaysDisplayInConsole",
    "notBefore",
    "frontchannelLogout",
    "fullScopeAllowed",
    "nodeReRegistrationTimeout",
    "access",
    "origin",
    "directGrantsOnly",
    "useTemplateConfig",
    "useTemplateScope",
    "useTemplateMappers",
    "authorizationServicesEnabled",
    "clientTemplate",
    "registeredNodes",
];

/// Client attributes that mean nothing here.
const COSMETIC_ATTRIBUTES: [&str; 2] = [
    "display.on.consent.screen",
    "backchannel.logout.session.required",
];

fn client_uris(base: &str, field: &str, uris: &[String], report: &mut Report) -> Vec<String> {
    let mut kept = Vec::new();
    for (j, uri) in uris.iter().enumerate() {
        let at = format!("{base}.{field}[{j}]");
        if uri.contains('*') {
            report.note(
                at,
                uri,
                "not imported: only exact URIs are matched here (no wildcards)",
            );
        } else if let Err(why) = RedirectUri::parse(uri) {
            // The rule every registered URI meets (absolute, no fragment,
            // redirectable): one that fails it is left out, not its client.
            report.note(at, uri, format!("not imported: {why}"));
        } else {
            kept.push(uri.clone());
        }
    }
    kept
}

/// The client as this issuer models it, or why it cannot be.
fn spec_of(
    base: &str,
    rep: &ClientRep,
    secrets: &BTreeMap<String, Secret>,
    report: &mut Report,
) -> Result<ClientSpec, String> {
    let client_id = rep.client_id.clone().ok_or("no clientId")?;
    if rep
        .protocol
        .as_deref()
        .is_some_and(|p| p != "openid-connect")
    {
        return Err(format!(
            "{} clients are not supported",
            rep.protocol.as_deref().unwrap_or("")
        ));
    }
    if rep.enabled == Some(false) {
        return Err("the client is disabled".into());
    }
    if rep.bearer_only == Some(true) {
        return Err("a bearer-only client gets no tokens; a resource server needs no client here (give it an audience mapper)".into());
    }
    let public = rep.public_client.unwrap_or(false);
    let redirect_uris = client_uris(base, "redirectUris", &rep.redirect_uris, report);
    // Keycloak's flow switches (by default the standard flow is on, the
    // others off): the grant each enables, and why it would not be imported.
    let flows = [
        (
            "standardFlowEnabled",
            rep.standard_flow_enabled.unwrap_or(true),
            GrantType::AuthorizationCode,
            redirect_uris.is_empty().then_some(
                "not imported: the authorization code flow needs at least one exact redirect URI",
            ),
        ),
        (
            "directAccessGrantsEnabled",
            rep.direct_access_grants_enabled.unwrap_or(false),
            GrantType::Password,
            None,
        ),
        (
            "serviceAccountsEnabled",
            rep.service_accounts_enabled.unwrap_or(false),
            GrantType::ClientCredentials,
            public.then_some("not imported: a public client has no service account"),
        ),
    ];
    let mut grant_types = Vec::new();
    for (switch, enabled, grant, refused) in flows {
        match refused {
            _ if !enabled => {}
            Some(why) => report.note(format!("{base}.{switch}"), &client_id, why),
            None => grant_types.push(grant),
        }
    }
    if grant_types
        .iter()
        .any(|g| matches!(g, GrantType::AuthorizationCode | GrantType::Password))
    {
        grant_types.push(GrantType::RefreshToken);
    }
    if rep.implicit_flow_enabled == Some(true) {
        report.note(
            format!("{base}.implicitFlowEnabled"),
            &client_id,
            "not imported: the implicit flow is not supported (use the code flow with PKCE)",
        );
    }
    if grant_types.is_empty() {
        return Err("none of its flows can be carried over".into());
    }
    let secret = if public {
        None
    } else if let Some(given) = secrets.get(&client_id) {
        Some(given.clone())
    } else {
        match rep.secret.as_deref() {
            Some(MASKED_SECRET) | None | Some("") => None,
            Some(s) => Some(Secret::new(s)),
        }
    };
    let post_logout = rep
        .attributes
        .get("post.logout.redirect.uris")
        .and_then(|v| v.as_str())
        .map(|s| {
            s.split("##")
                .flat_map(|u| {
                    if u == "+" {
                        redirect_uris.clone()
                    } else {
                        vec![u.to_owned()]
                    }
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let post_logout = client_uris(
        base,
        "attributes.post.logout.redirect.uris",
        &post_logout,
        report,
    );
    Ok(ClientSpec {
        client_id,
        secret,
        public,
        name: rep.name.clone().filter(|n| !n.trim().is_empty()),
        redirect_uris,
        post_logout_redirect_uris: post_logout,
        grant_types,
        default_scopes: scopes(&rep.default_client_scopes, keycloak_default_scopes()),
        optional_scopes: scopes(&rep.optional_client_scopes, keycloak_optional_scopes()),
        web_origins: web_origins(base, &rep.web_origins, report),
        ..ClientSpec::default()
    })
}

/// Notes what a client carries that is not imported.
fn note_leftovers(base: &str, id: &str, rep: &ClientRep, report: &mut Report) {
    for (key, value) in &rep.other {
        if !COSMETIC.contains(&key.as_str()) && meaningful(value) {
            report.note(
                format!("{base}.{key}"),
                id,
                "not imported: no equivalent here",
            );
        }
    }
    for (key, value) in &rep.attributes {
        if key != "post.logout.redirect.uris"
            && !COSMETIC_ATTRIBUTES.contains(&key.as_str())
            && meaningful(value)
            && value.as_str() != Some("false")
        {
            report.note(
                format!("{base}.attributes.{key}"),
                id,
                "not imported: no equivalent here",
            );
        }
    }
    if rep.consent_required == Some(true) {
        report.note(
            format!("{base}.consentRequired"),
            id,
            "not imported: there is no consent screen here",
        );
    }
    if rep
        .client_authenticator_type
        .as_deref()
        .is_some_and(|t| t != "client-secret")
    {
        report.note(
            format!("{base}.clientAuthenticatorType"),
            id,
            "not imported: clients authenticate with a secret here",
        );
    }
    if rep.authorization_settings.is_some() {
        report.note(
            format!("{base}.authorizationSettings"),
            id,
            "not imported: authorization services are not supported",
        );
    }
    for (j, scope) in rep.optional_client_scopes.iter().enumerate() {
        if scope == "offline_access" {
            report.note(
                format!("{base}.optionalClientScopes[{j}]"),
                id,
                "not imported: there are no offline sessions here",
            );
        }
    }
}

/// Keycloak's scopes whose claims (`acr`, `sub`, `auth_time`) every token
/// here carries anyway, and `offline_access`, which has no sessions here.
const IMPLIED_SCOPES: [&str; 3] = ["acr", "basic", "offline_access"];

/// A client's scope list from the export; Keycloak's defaults when absent.
fn scopes(listed: &[String], default: Vec<String>) -> Vec<String> {
    if listed.is_empty() {
        return default;
    }
    listed
        .iter()
        .filter(|s| !IMPLIED_SCOPES.contains(&s.as_str()))
        .cloned()
        .collect()
}

/// Imports the clients; an existing client id is left as it is. Returns the
/// ids of the clients that exist afterwards (created or present).
pub async fn import(
    store: &dyn Store,
    realm: &RealmRep,
    secrets: &BTreeMap<String, Secret>,
    generate_secrets: bool,
    report: &mut Report,
) -> Result<Vec<String>, ClientError> {
    let mut present = Vec::new();
    for (i, rep) in realm.clients.iter().enumerate() {
        let base = format!("$.clients[{i}]");
        let id = rep.client_id.clone().unwrap_or_default();
        if KEYCLOAK_BUILTIN.contains(&id.as_str()) {
            report.note(
                base,
                id,
                "not imported: a client of Keycloak's own consoles",
            );
            continue;
        }
        let spec = match spec_of(&base, rep, secrets, report) {
            Ok(spec) => spec,
            Err(why) => {
                report.note(base, id, format!("not imported: {why}"));
                continue;
            }
        };
        note_leftovers(&base, &id, rep, report);
        if let Some(existing) = store.get_client(&id).await?
            && !existing.is_builtin()
        {
            report.clients.present += 1;
            present.push(id);
            continue;
        }
        if !spec.public && spec.secret.is_none() && !generate_secrets {
            report.note(
                format!("{base}.secret"),
                id,
                "not imported: the export has no secret (Keycloak masks it); give it with `domino-idp import keycloak --client-secrets FILE`",
            );
            continue;
        }
        match clients::create(store, &spec).await {
            Ok((_, generated)) => {
                report.clients.created += 1;
                if let Some(secret) = generated {
                    report.note(
                        format!("{base}.secret"),
                        &id,
                        "masked in the export: a new secret was generated (shown below)",
                    );
                    report.generated_secrets.push((id.clone(), secret));
                }
                present.push(id);
            }
            Err(ClientError::Invalid(why)) => report.note(base, id, format!("not imported: {why}")),
            Err(ClientError::Store(StoreError::Conflict(_))) => {
                report.clients.present += 1;
                present.push(id);
            }
            Err(e) => return Err(e),
        }
    }
    Ok(present)
}

/// Keycloak's `webOrigins` as they are (`+`, `*`, origins; empty allows no
/// browser origin, as in Keycloak); an entry this issuer refuses (`null`, a
/// path, another scheme) is reported and left out.
fn web_origins(base: &str, raw: &[String], report: &mut Report) -> Vec<String> {
    let mut kept = Vec::new();
    for (i, origin) in raw.iter().enumerate() {
        match crate::domain::client::parse_web_origins(std::slice::from_ref(origin)) {
            Ok(mut parsed) => kept.append(&mut parsed),
            Err(why) => report.note(
                format!("{base}.webOrigins[{i}]"),
                origin,
                format!("not imported: {why}"),
            ),
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URI that `RedirectUri` refuses (here: a fragment) is reported
    /// and left out; its client and the other URIs are imported.
    #[test]
    fn a_uri_no_registered_client_could_hold_is_left_out_not_its_client() {
        let rep: ClientRep = serde_json::from_value(serde_json::json!({
            "clientId": "spa",
            "publicClient": true,
            "redirectUris": [
                "https://spa.example/cb",
                "https://spa.example/cb#frag",
                "https://spa.example/*",
                "/relative",
            ],
            "attributes": {"post.logout.redirect.uris": "https://spa.example/bye#x##+"},
        }))
        .unwrap();
        let mut report = Report::default();
        let spec = spec_of("clients[0]", &rep, &BTreeMap::new(), &mut report).unwrap();
        assert_eq!(spec.redirect_uris, ["https://spa.example/cb"]);
        assert_eq!(spec.post_logout_redirect_uris, ["https://spa.example/cb"]);
        let noted: Vec<&str> = report.findings.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            noted,
            [
                "clients[0].redirectUris[1]",
                "clients[0].redirectUris[2]",
                "clients[0].redirectUris[3]",
                "clients[0].attributes.post.logout.redirect.uris[0]",
            ]
        );
        assert!(report.findings[0].outcome.contains("fragment"));
        assert!(crate::domain::client::Client::from_spec(&spec).is_ok());
    }
}
