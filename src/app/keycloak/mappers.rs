//! Keycloak protocol mappers onto this issuer's claim mappers
//! (docs/mappers.md): the six OIDC types Keycloak realms use for custom
//! claims, with their `config` keys. A mapper of a client applies to that
//! client only; one of a custom client scope to the clients that have the
//! scope by default.

use serde_json::Value;

use super::model::MapperRep;
use crate::domain::mapper::{JsonType, Mapper, MapperSpec, MapperType, Output, Property};

/// Keycloak's `jsonType.label`.
fn json_type(label: Option<String>) -> Result<JsonType, String> {
    match label.as_deref().map(str::trim) {
        None | Some("") | Some("String") => Ok(JsonType::String),
        Some("long") | Some("int") => Ok(JsonType::Int),
        Some("boolean") => Ok(JsonType::Boolean),
        Some("JSON") => Ok(JsonType::Json),
        Some(other) => Err(format!("jsonType.label {other:?} has no equivalent")),
    }
}

/// How a reason that is not final starts (the roles support to come).
pub const NOT_YET: &str = "not imported yet:";

/// The config key the export adds to a mapper of every client, which it
/// writes into each client (a `clientScopes` list in the file would stop
/// Keycloak from creating its default scopes); the import keeps one.
pub const EVERY_CLIENT_FLAG: &str = "domino.every.client";

/// The config key the export adds for mappers that reach the Keep token.
pub const KEEP_FLAG: &str = "keep.token.claim";

/// Where Keycloak puts the claim: `access.token.claim`, `id.token.claim`,
/// `userinfo.token.claim` (absent: as the ID token, Keycloak's backwards
/// compatible default) and `introspection.token.claim` (absent: as the
/// access token).
fn outputs(rep: &MapperRep) -> Vec<Output> {
    let access = rep.flag("access.token.claim").unwrap_or(false);
    let id = rep.flag("id.token.claim").unwrap_or(false);
    let userinfo = rep.flag("userinfo.token.claim").unwrap_or(id);
    let introspection = rep.flag("introspection.token.claim").unwrap_or(access);
    // Not Keycloak's: the export's mark for the Keep `POST /auth` token.
    let keep = rep.flag(KEEP_FLAG).unwrap_or(false);
    [
        (access, Output::Access),
        (id, Output::Id),
        (userinfo, Output::Userinfo),
        (introspection, Output::Introspection),
        (keep, Output::Keep),
    ]
    .into_iter()
    .filter_map(|(on, o)| on.then_some(o))
    .collect()
}

/// Keycloak's user properties and profile attributes, as read here.
enum UserField {
    Property(Property),
    Attribute(&'static str),
}

fn user_field(name: &str) -> Option<UserField> {
    match name {
        "username" => Some(UserField::Property(Property::Username)),
        "email" => Some(UserField::Property(Property::Email)),
        "id" => Some(UserField::Property(Property::Id)),
        "firstName" => Some(UserField::Attribute(crate::domain::domino::GIVEN_NAME)),
        "lastName" => Some(UserField::Attribute(crate::domain::domino::FAMILY_NAME)),
        _ => None,
    }
}

/// A mapper name here: `<owner>/<Keycloak name>`, spaces as dashes.
pub fn mapper_name(owner: &str, name: &str) -> String {
    let name: String = name
        .trim()
        .chars()
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .collect();
    format!("{owner}/{name}")
}

/// The claim mapper for a Keycloak protocol mapper, or why there is none.
pub fn to_spec(rep: &MapperRep, owner: &str, clients: Vec<String>) -> Result<MapperSpec, String> {
    let kind = rep.protocol_mapper.clone().unwrap_or_default();
    if rep
        .protocol
        .as_deref()
        .is_some_and(|p| p != "openid-connect")
    {
        return Err("not an OpenID Connect mapper".into());
    }
    let name = rep
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .ok_or("the mapper has no name")?;
    let outputs = outputs(rep);
    let mut spec = MapperSpec {
        name: mapper_name(owner, name),
        kind: MapperType::Hardcoded,
        claim: rep.get("claim.name"),
        json_type: json_type(rep.get("jsonType.label"))?,
        value: None,
        attribute: None,
        multivalued: rep.flag("multivalued").unwrap_or(false),
        property: None,
        full_path: true,
        audience: None,
        outputs,
        clients,
    };
    match kind.as_str() {
        "oidc-hardcoded-claim-mapper" => {
            spec.value = Some(Value::String(rep.get("claim.value").unwrap_or_default()));
        }
        "oidc-usermodel-attribute-mapper" | "oidc-usermodel-property-mapper" => {
            let field = rep
                .get("user.attribute")
                .ok_or("it names no user.attribute")?;
            match user_field(&field) {
                Some(UserField::Property(p)) => {
                    spec.kind = MapperType::UserProperty;
                    spec.property = Some(p);
                }
                Some(UserField::Attribute(a)) => {
                    spec.kind = MapperType::UserAttribute;
                    spec.attribute = Some(a.to_owned());
                }
                None if kind == "oidc-usermodel-attribute-mapper" => {
                    spec.kind = MapperType::UserAttribute;
                    spec.attribute = Some(field);
                }
                None => return Err(format!("user property {field:?} has no equivalent")),
            }
        }
        "oidc-group-membership-mapper" => {
            spec.kind = MapperType::GroupMembership;
            // GroupMembershipMapper: full paths only when "full.path" is "true".
            spec.full_path = rep.flag("full.path").unwrap_or(false);
        }
        "oidc-audience-mapper" => {
            spec.kind = MapperType::Audience;
            spec.claim = None;
            spec.json_type = JsonType::String;
            spec.audience = rep
                .get("included.client.audience")
                .filter(|a| !a.trim().is_empty())
                .or_else(|| rep.get("included.custom.audience"))
                .filter(|a| !a.trim().is_empty());
            if spec.audience.is_none() {
                return Err(
                    "it names no included.client.audience or included.custom.audience".into(),
                );
            }
        }
        "oidc-usermodel-realm-role-mapper" | "oidc-usermodel-client-role-mapper" => {
            return Err(
                "built in here: the `roles` client scope puts realm_access.roles and \
                 resource_access.<client>.roles in access tokens"
                    .into(),
            );
        }
        "oidc-full-name-mapper" => {
            return Err("built in here: every token carries `name`".into());
        }
        "" => return Err("the mapper has no protocolMapper type".into()),
        other => return Err(format!("mapper type {other} has no equivalent")),
    }
    if spec.outputs.is_empty() {
        return Err("it adds its claim to no token (every *.claim flag is off)".into());
    }
    Mapper::from_spec(&spec).map_err(|e| e.0)?;
    Ok(spec)
}

/// Keycloak's protocol mapper for a claim mapper, or why there is none
/// (`keep`-only outputs, for instance).
pub fn from_spec(spec: &MapperSpec, name: &str) -> Option<Value> {
    let flag = |o: Output| Value::String(spec.outputs.contains(&o).to_string());
    let mut config = serde_json::Map::new();
    config.insert("access.token.claim".into(), flag(Output::Access));
    config.insert("id.token.claim".into(), flag(Output::Id));
    config.insert("userinfo.token.claim".into(), flag(Output::Userinfo));
    config.insert(
        "introspection.token.claim".into(),
        flag(Output::Introspection),
    );
    if spec.outputs.contains(&Output::Keep) {
        config.insert(KEEP_FLAG.into(), flag(Output::Keep));
    }
    if spec.clients.is_empty() {
        config.insert(EVERY_CLIENT_FLAG.into(), Value::String("true".into()));
    }
    let label = match spec.json_type {
        JsonType::String => "String",
        JsonType::Int => "long",
        JsonType::Boolean => "boolean",
        JsonType::Json => "JSON",
    };
    let mut put = |k: &str, v: String| {
        config.insert(k.into(), Value::String(v));
    };
    let kind = match spec.kind {
        MapperType::Hardcoded => {
            let value = match spec.value.as_ref()? {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            put("claim.value", value);
            "oidc-hardcoded-claim-mapper"
        }
        MapperType::UserAttribute => {
            put("user.attribute", spec.attribute.clone()?);
            put("multivalued", spec.multivalued.to_string());
            "oidc-usermodel-attribute-mapper"
        }
        MapperType::UserProperty => {
            let field = match spec.property? {
                Property::Username => "username",
                Property::Email => "email",
                Property::Id => "id",
                // cn, org and dn are Domino's; Keycloak users have no such property.
                Property::Cn | Property::Org | Property::Dn => return None,
            };
            put("user.attribute", field.into());
            "oidc-usermodel-property-mapper"
        }
        MapperType::GroupMembership => {
            put("full.path", spec.full_path.to_string());
            "oidc-group-membership-mapper"
        }
        MapperType::Audience => {
            put("included.custom.audience", spec.audience.clone()?);
            "oidc-audience-mapper"
        }
    };
    if spec.kind != MapperType::Audience {
        put("claim.name", spec.claim.clone()?);
        put("jsonType.label", label.into());
    }
    Some(serde_json::json!({
        "name": name,
        "protocol": "openid-connect",
        "protocolMapper": kind,
        "consentRequired": false,
        "config": config,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn rep(kind: &str, config: &[(&str, &str)]) -> MapperRep {
        MapperRep {
            name: Some("my mapper".into()),
            protocol: Some("openid-connect".into()),
            protocol_mapper: Some(kind.into()),
            config: config
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn keycloak_config_keys_map_onto_mapper_fields() {
        let spec = to_spec(
            &rep(
                "oidc-usermodel-attribute-mapper",
                &[
                    ("user.attribute", "dept"),
                    ("claim.name", "org.dept"),
                    ("jsonType.label", "String"),
                    ("multivalued", "true"),
                    ("access.token.claim", "true"),
                    ("id.token.claim", "false"),
                ],
            ),
            "app",
            vec!["app".into()],
        )
        .unwrap();
        assert_eq!(spec.name, "app/my-mapper");
        assert_eq!(spec.kind, MapperType::UserAttribute);
        assert_eq!(spec.attribute.as_deref(), Some("dept"));
        assert!(spec.multivalued);
        assert_eq!(spec.outputs, [Output::Access, Output::Introspection]);
        let back = from_spec(&spec, "my mapper").unwrap();
        assert_eq!(back["config"]["user.attribute"], "dept");
        assert_eq!(back["config"]["id.token.claim"], "false");

        let groups = to_spec(
            &rep(
                "oidc-group-membership-mapper",
                &[("claim.name", "groups"), ("id.token.claim", "true")],
            ),
            "app",
            vec![],
        )
        .unwrap();
        assert!(!groups.full_path);
        assert_eq!(groups.outputs, [Output::Id, Output::Userinfo]);

        let aud = to_spec(
            &rep(
                "oidc-audience-mapper",
                &[
                    ("included.client.audience", "api"),
                    ("access.token.claim", "true"),
                ],
            ),
            "app",
            vec![],
        )
        .unwrap();
        assert_eq!(aud.audience.as_deref(), Some("api"));
    }

    #[test]
    fn what_cannot_map_says_why() {
        let why = to_spec(
            &rep(
                "oidc-usermodel-realm-role-mapper",
                &[("access.token.claim", "true")],
            ),
            "a",
            vec![],
        )
        .unwrap_err();
        assert!(why.starts_with("built in here"), "{why}");
        let why = to_spec(
            &rep(
                "oidc-hardcoded-claim-mapper",
                &[
                    ("claim.name", "sub"),
                    ("claim.value", "x"),
                    ("access.token.claim", "true"),
                ],
            ),
            "a",
            vec![],
        )
        .unwrap_err();
        assert!(why.contains("protected"), "{why}");
        let why = to_spec(
            &rep("oidc-hardcoded-claim-mapper", &[("claim.name", "x")]),
            "a",
            vec![],
        )
        .unwrap_err();
        assert!(why.contains("no token"), "{why}");
    }
}
