//! The parts of Keycloak's `RealmRepresentation` (its realm export format)
//! that the import reads and the export writes. Unknown fields are kept in
//! `other`, so the import can report the ones that carry meaning instead of
//! dropping them. Hand-written exports (Keycloak's own test realms) write
//! some booleans and numbers as strings; both forms are read.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A boolean written as `true` or `"true"`.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => return Err(serde::de::Error::custom(format!("{s:?} is not a boolean"))),
        },
        None | Some(Value::Null) => None,
        Some(other) => {
            return Err(serde::de::Error::custom(format!(
                "{other} is not a boolean"
            )));
        }
    })
}

/// A non-negative number written as `300` or `"300"`.
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a whole number")))?,
        ),
        Some(Value::String(s)) => Some(
            s.trim()
                .parse()
                .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a number")))?,
        ),
        None | Some(Value::Null) => None,
        Some(other) => return Err(serde::de::Error::custom(format!("{other} is not a number"))),
    })
}

/// An attribute: Keycloak exports lists; hand-written files often a string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Values {
    One(String),
    Many(Vec<String>),
}

impl Values {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Values::One(v) => vec![v],
            Values::Many(v) => v,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RealmRep {
    pub realm: Option<String>,
    #[serde(deserialize_with = "lenient_u64")]
    pub access_token_lifespan: Option<u64>,
    #[serde(deserialize_with = "lenient_u64")]
    pub sso_session_idle_timeout: Option<u64>,
    #[serde(deserialize_with = "lenient_u64")]
    pub sso_session_max_lifespan: Option<u64>,
    #[serde(deserialize_with = "lenient_u64")]
    pub access_code_lifespan: Option<u64>,
    pub users: Vec<UserRep>,
    pub clients: Vec<ClientRep>,
    pub client_scopes: Vec<ClientScopeRep>,
    pub groups: Vec<GroupRep>,
    pub roles: Option<RolesRep>,
    pub default_default_client_scopes: Vec<String>,
    pub default_optional_client_scopes: Vec<String>,
    pub identity_providers: Vec<Value>,
    pub authentication_flows: Vec<Value>,
    pub required_actions: Vec<Value>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RolesRep {
    pub realm: Vec<Value>,
    pub client: BTreeMap<String, Vec<Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupRep {
    pub name: Option<String>,
    pub path: Option<String>,
    pub attributes: BTreeMap<String, Values>,
    pub realm_roles: Vec<String>,
    pub client_roles: BTreeMap<String, Vec<String>>,
    pub sub_groups: Vec<GroupRep>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserRep {
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub enabled: Option<bool>,
    pub attributes: BTreeMap<String, Values>,
    pub groups: Vec<String>,
    pub credentials: Vec<CredentialRep>,
    pub realm_roles: Vec<String>,
    pub client_roles: BTreeMap<String, Vec<String>>,
    pub required_actions: Vec<String>,
    pub federated_identities: Vec<Value>,
    pub service_account_client_id: Option<String>,
    pub federation_link: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CredentialRep {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// A plain password (Keycloak's test realms use it); hashed on import.
    pub value: Option<String>,
    /// JSON text: `{"value","salt","additionalParameters"}`.
    pub secret_data: Option<String>,
    /// JSON text: `{"hashIterations","algorithm","additionalParameters"}`.
    pub credential_data: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub temporary: Option<bool>,
    /// Keycloak before 9 wrote the hash in these fields.
    pub hashed_salted_value: Option<String>,
    pub salt: Option<String>,
    #[serde(deserialize_with = "lenient_u64")]
    pub hash_iterations: Option<u64>,
    pub algorithm: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SecretData {
    pub value: String,
    pub salt: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CredentialData {
    #[serde(deserialize_with = "lenient_u64")]
    pub hash_iterations: Option<u64>,
    pub algorithm: Option<String>,
    pub additional_parameters: BTreeMap<String, Values>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientRep {
    pub client_id: Option<String>,
    pub name: Option<String>,
    pub secret: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub enabled: Option<bool>,
    #[serde(deserialize_with = "lenient_bool")]
    pub public_client: Option<bool>,
    #[serde(deserialize_with = "lenient_bool")]
    pub bearer_only: Option<bool>,
    pub protocol: Option<String>,
    pub redirect_uris: Vec<String>,
    pub web_origins: Vec<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub standard_flow_enabled: Option<bool>,
    #[serde(deserialize_with = "lenient_bool")]
    pub direct_access_grants_enabled: Option<bool>,
    #[serde(deserialize_with = "lenient_bool")]
    pub service_accounts_enabled: Option<bool>,
    #[serde(deserialize_with = "lenient_bool")]
    pub implicit_flow_enabled: Option<bool>,
    #[serde(deserialize_with = "lenient_bool")]
    pub consent_required: Option<bool>,
    pub client_authenticator_type: Option<String>,
    pub default_client_scopes: Vec<String>,
    pub optional_client_scopes: Vec<String>,
    pub protocol_mappers: Vec<MapperRep>,
    pub attributes: BTreeMap<String, Value>,
    pub authorization_settings: Option<Value>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientScopeRep {
    pub name: Option<String>,
    pub protocol: Option<String>,
    pub protocol_mappers: Vec<MapperRep>,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MapperRep {
    pub name: Option<String>,
    pub protocol: Option<String>,
    pub protocol_mapper: Option<String>,
    /// Keycloak writes every value as a string; some files use JSON types.
    pub config: BTreeMap<String, Value>,
}

impl MapperRep {
    /// A config value as Keycloak reads it (a string).
    pub fn get(&self, key: &str) -> Option<String> {
        match self.config.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A boolean config value (`"true"`), with Keycloak's default when absent.
    pub fn flag(&self, key: &str) -> Option<bool> {
        self.get(key).map(|v| v.trim().eq_ignore_ascii_case("true"))
    }
}

/// Whether a leftover value says anything (not null, false, 0, "", [] or {}).
pub fn meaningful(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}
