//! Keycloak users onto this issuer's users: name fields, attributes, group
//! membership and the password credential, hashed as Keycloak stored it.

use std::collections::BTreeMap;

use super::model::{CredentialData, CredentialRep, SecretData, UserRep};
use super::report::Report;
use crate::app::users::{self, UserError};
use crate::domain::domino::{FAMILY_NAME, GIVEN_NAME};
use crate::domain::password::keycloak::KeycloakHash;
use crate::domain::password::{PasswordHasher, check_stored, pbkdf2_parts};
use crate::domain::secret::Secret;
use crate::domain::user::{AttributeValue, Credential, NewUser, Password, UserSpec};
use crate::store::{Store, StoreError};

/// Attributes the export writes for what Keycloak users do not have: the
/// Domino common name and organisation (so `sub` = `CN=.../O=...` survives a
/// round trip). The import reads them back into `cn` and `org`.
pub const CN_ATTRIBUTE: &str = "domino.cn";
pub const ORG_ATTRIBUTE: &str = "domino.org";

/// User fields Keycloak exports that mean nothing here.
const COSMETIC: [&str; 9] = [
    "id",
    "createdTimestamp",
    "emailVerified",
    "totp",
    "disableableCredentialTypes",
    "notBefore",
    "access",
    "self",
    "origin",
];

/// Credential fields that mean nothing here.
const CREDENTIAL_COSMETIC: [&str; 9] = [
    "id",
    "createdDate",
    "userLabel",
    "priority",
    "counter",
    "digits",
    "period",
    "config",
    "device",
];

/// The password to store for a user: a PHC string, or a plain password to hash.
enum Chosen {
    Hash(String),
    Plain(Password),
}

fn hash_of(cred: &CredentialRep) -> Result<KeycloakHash, String> {
    if let Some(value) = &cred.hashed_salted_value {
        // Keycloak before 9.
        return Ok(KeycloakHash {
            algorithm: cred.algorithm.clone().unwrap_or_else(|| "pbkdf2".into()),
            iterations: u32::try_from(cred.hash_iterations.unwrap_or(0))
                .map_err(|_| "hashIterations is too large")?,
            salt: cred.salt.clone().unwrap_or_default(),
            value: value.clone(),
            additional: BTreeMap::new(),
        });
    }
    let secret: SecretData = serde_json::from_str(cred.secret_data.as_deref().unwrap_or("{}"))
        .map_err(|e| format!("secretData is not valid JSON: {e}"))?;
    let data: CredentialData =
        serde_json::from_str(cred.credential_data.as_deref().unwrap_or("{}"))
            .map_err(|e| format!("credentialData is not valid JSON: {e}"))?;
    Ok(KeycloakHash {
        algorithm: data.algorithm.ok_or("credentialData has no algorithm")?,
        iterations: u32::try_from(data.hash_iterations.unwrap_or(0))
            .map_err(|_| "hashIterations is too large")?,
        salt: secret.salt,
        value: secret.value,
        additional: data
            .additional_parameters
            .into_iter()
            .map(|(k, v)| (k, v.into_vec()))
            .collect(),
    })
}

/// `PasswordHasher::costs_more` once per kind of hash (algorithm,
/// iterations, length): timing a PBKDF2 hash takes several checks, and an
/// export's users mostly share their parameters.
#[derive(Default)]
struct Costs(BTreeMap<(String, u32, usize), bool>);

impl Costs {
    async fn costs_more(&mut self, hasher: &PasswordHasher, phc: &str) -> Result<bool, UserError> {
        let Some((algorithm, iterations, _, hash)) = pbkdf2_parts(phc) else {
            return Ok(hasher.costs_more(phc).await?);
        };
        let key = (algorithm, iterations, hash.len());
        if let Some(known) = self.0.get(&key) {
            return Ok(*known);
        }
        let costlier = hasher.costs_more(phc).await?;
        self.0.insert(key, costlier);
        Ok(costlier)
    }
}

/// The password credential of a user (the first that converts), noting the
/// others and every other credential type.
async fn choose_credential(
    hasher: &PasswordHasher,
    costs: &mut Costs,
    allow_costlier: bool,
    base: &str,
    user: &UserRep,
    report: &mut Report,
) -> Result<Option<Chosen>, UserError> {
    let mut chosen = None;
    for (j, cred) in user.credentials.iter().enumerate() {
        let path = format!("{base}.credentials[{j}]");
        let kind = cred.kind.clone().unwrap_or_else(|| "password".into());
        for (key, value) in &cred.other {
            if !CREDENTIAL_COSMETIC.contains(&key.as_str()) && super::model::meaningful(value) {
                report.note(
                    format!("{path}.{key}"),
                    "",
                    "not imported: no equivalent here",
                );
            }
        }
        if kind != "password" {
            report.note(
                path,
                kind,
                "not imported: only password credentials are supported",
            );
            continue;
        }
        if chosen.is_some() {
            report.note(
                path,
                kind,
                "not imported: the user already has a password from an earlier credential",
            );
            continue;
        }
        if cred.temporary == Some(true) {
            report.note(
                &path,
                "temporary",
                "imported as a normal password: there is no forced password change here",
            );
        }
        if let Some(plain) = &cred.value {
            match Password::parse(plain) {
                Ok(p) => chosen = Some(Chosen::Plain(p)),
                Err(why) => report.note(path, kind, format!("not imported: {why}")),
            }
            continue;
        }
        let phc = match hash_of(cred).and_then(|h| h.to_phc().map_err(|e| e.0)) {
            Ok(phc) => phc,
            Err(why) => {
                report.note(path, kind, format!("not imported: {why}"));
                continue;
            }
        };
        if let Err(why) = check_stored(&phc) {
            report.note(path, kind, format!("not imported: {why}"));
            continue;
        }
        if !allow_costlier && costs.costs_more(hasher, &phc).await? {
            report.note(
                path,
                kind,
                "not imported: this hash costs more to check than the configured argon2 \
                 parameters, so a wrong password for this user would answer slower than for \
                 an unknown user; set allow_costlier_password_hashes = true to accept it (it is \
                 replaced on the user's next login)",
            );
            continue;
        }
        chosen = Some(Chosen::Hash(phc));
    }
    Ok(chosen)
}

/// The user as this issuer models it, or why it cannot be.
fn new_user(user: &UserRep) -> Result<NewUser, String> {
    let username = user.username.clone().ok_or("no username")?;
    let mut attributes: BTreeMap<String, AttributeValue> = user
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), AttributeValue::Many(v.clone().into_vec())))
        .collect();
    let mut take = |key: &str| match attributes.remove(key) {
        Some(AttributeValue::Many(v)) => v.into_iter().next(),
        Some(AttributeValue::One(v)) => Some(v),
        None => None,
    };
    let cn = take(CN_ATTRIBUTE);
    let org = take(ORG_ATTRIBUTE);
    for (key, value) in [
        (GIVEN_NAME, &user.first_name),
        (FAMILY_NAME, &user.last_name),
    ] {
        if let Some(v) = value.as_ref().filter(|v| !v.trim().is_empty()) {
            attributes.insert(key.into(), AttributeValue::One(v.clone()));
        }
    }
    let full_name = [&user.first_name, &user.last_name]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let spec = UserSpec {
        username,
        email: user.email.clone().filter(|e| !e.trim().is_empty()),
        cn: cn.or((!full_name.is_empty()).then_some(full_name)),
        org,
        attributes,
        // Keycloak group paths ("/top/sub") are stored without the leading
        // slash; a group-membership mapper with full_path adds it back.
        groups: user
            .groups
            .iter()
            .map(|g| g.strip_prefix('/').unwrap_or(g).to_owned())
            .collect(),
        enabled: user.enabled.unwrap_or(true),
        ..UserSpec::default()
    };
    NewUser::from_spec(&spec).map_err(|e| e.0)
}

/// Imports the users of the export; an existing username is left as it is.
pub async fn import(
    store: &dyn Store,
    hasher: &PasswordHasher,
    allow_costlier: bool,
    users: &[UserRep],
    report: &mut Report,
) -> Result<Vec<String>, UserError> {
    let mut costs = Costs::default();
    let mut created = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let base = format!("$.users[{i}]");
        let name = user.username.clone().unwrap_or_default();
        if let Some(client) = &user.service_account_client_id {
            report.note(
                base,
                name,
                format!("not imported: the service account of client {client} (its client_credentials grant acts as the client itself)"),
            );
            continue;
        }
        let mut user_record = match new_user(user) {
            Ok(u) => u,
            Err(why) => {
                report.note(base, name, format!("not imported: {why}"));
                continue;
            }
        };
        for (key, value) in &user.other {
            if !COSMETIC.contains(&key.as_str()) && super::model::meaningful(value) {
                report.note(
                    format!("{base}.{key}"),
                    &name,
                    "not imported: no equivalent here",
                );
            }
        }
        for (j, action) in user.required_actions.iter().enumerate() {
            report.note(
                format!("{base}.requiredActions[{j}]"),
                action,
                "not imported: required actions are not supported",
            );
        }
        for (j, _) in user.federated_identities.iter().enumerate() {
            report.note(
                format!("{base}.federatedIdentities[{j}]"),
                &name,
                "not imported: identity brokering is not supported",
            );
        }
        if let Some(link) = &user.federation_link {
            report.note(
                format!("{base}.federationLink"),
                link,
                "not imported: user federation is not supported",
            );
        }
        if store.get_user(user_record.username.key()).await?.is_some() {
            report.users.present += 1;
            continue;
        }
        user_record.credential = match choose_credential(
            hasher,
            &mut costs,
            allow_costlier,
            &base,
            user,
            report,
        )
        .await?
        {
            Some(Chosen::Hash(phc)) => Some(Credential::Hash(Secret::new(&phc))),
            Some(Chosen::Plain(p)) => Some(Credential::Plain(p)),
            None => {
                // No usable password: a random one nobody knows, so the user
                // exists (groups, mappers, API keys) but cannot log in yet.
                report.note(
                    &base,
                    &name,
                    "imported without a usable password: set one with `domino-idp user set-password`",
                );
                Some(Credential::Plain(Password::parse(
                    &crate::domain::opaque::generate(),
                )?))
            }
        };
        match users::create_if_absent(store, hasher, user_record).await {
            Ok(true) => {
                report.users.created += 1;
                created.push(name.clone());
            }
            Ok(false) => report.users.present += 1,
            Err(UserError::Store(StoreError::Conflict(why))) => {
                report.note(base, name, format!("not imported: {why}"))
            }
            Err(e) => return Err(e),
        }
    }
    Ok(created)
}
