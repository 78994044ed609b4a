//! Applying mappers when a token is minted: each validated mapper's value
//! for the user (converted to its JSON type, or skipped with a warning when
//! user data does not convert) put at its claim path, or added to `aud`.

use serde_json::{Map, Value, json};

use super::{JsonType, Mapper, Output, Property, Source};
use crate::domain::token::Claims;
use crate::domain::user::User;

/// Converts a value to a JSON type (a hardcoded one when the mapper is
/// loaded, user data at mint time); `None` when it does not convert.
pub(super) fn convert(value: &Value, to: JsonType) -> Option<Value> {
    match (to, value) {
        (JsonType::String, Value::String(_)) => Some(value.clone()),
        (JsonType::String, Value::Number(_) | Value::Bool(_)) => Some(json!(value.to_string())),
        (JsonType::Int, Value::Number(n)) => n.as_i64().map(|i| json!(i)),
        (JsonType::Int, Value::String(s)) => s.trim().parse::<i64>().ok().map(|i| json!(i)),
        (JsonType::Boolean, Value::Bool(_)) => Some(value.clone()),
        (JsonType::Boolean, Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(json!(true)),
            "false" => Some(json!(false)),
            _ => None,
        },
        (JsonType::Json, Value::String(s)) => serde_json::from_str(s).ok(),
        (JsonType::Json, other) => Some(other.clone()),
        _ => None,
    }
}

impl Mapper {
    /// The value for `user` (or for a client acting for itself, when `None`).
    fn value_for(&self, user: Option<&User>) -> Option<Value> {
        let to = self.spec.json_type;
        let convert_user = |raw: Value| {
            let converted = convert(&raw, to);
            if converted.is_none() {
                tracing::warn!(mapper = %self.spec.name, json_type = ?to, "user data does not convert; claim skipped");
            }
            converted
        };
        match &self.source {
            Source::Fixed(v) => Some(v.clone()),
            Source::Audience(a) => Some(json!(a)),
            Source::Attribute { name, multivalued } => {
                let values = user?.attributes.get(name)?;
                if *multivalued {
                    let items: Option<Vec<Value>> =
                        values.iter().map(|v| convert_user(json!(v))).collect();
                    items.map(Value::Array)
                } else {
                    convert_user(json!(values.first()?))
                }
            }
            Source::Property(p) => {
                let user = user?;
                let raw = match p {
                    Property::Username => user.username.clone(),
                    Property::Email => user.email.clone()?,
                    Property::Cn => user.cn.clone(),
                    Property::Org => user.org.clone()?,
                    Property::Dn => user.dn(),
                    Property::Id => user.id.clone(),
                };
                convert_user(json!(raw))
            }
            Source::Groups { full_path } => {
                let groups = user?.groups.iter().map(|g| {
                    if *full_path && !g.starts_with('/') {
                        json!(format!("/{g}"))
                    } else {
                        json!(g)
                    }
                });
                Some(Value::Array(groups.collect()))
            }
        }
    }

    /// Adds this mapper's claim to `claims`.
    fn apply(&self, claims: &mut Claims, user: Option<&User>) {
        let Some(value) = self.value_for(user) else {
            return;
        };
        if let Source::Audience(_) = self.source {
            add_audience(claims, value);
            return;
        }
        let (last, parents) = match self.path.split_last() {
            Some(split) => split,
            None => return,
        };
        let mut node: &mut Map<String, Value> = claims;
        for part in parents {
            let entry = node
                .entry(part.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            match entry {
                Value::Object(map) => node = map,
                _ => {
                    tracing::warn!(mapper = %self.spec.name, claim = %part, "claim exists and is not an object; nested claim skipped");
                    return;
                }
            }
        }
        node.insert(last.clone(), value);
    }
}

/// `aud` becomes an array when a second audience joins it (RFC 7519 §4.1.3).
fn add_audience(claims: &mut Claims, audience: Value) {
    match claims.get_mut("aud") {
        None => {
            claims.insert("aud".into(), audience);
        }
        Some(Value::Array(list)) => {
            if !list.contains(&audience) {
                list.push(audience);
            }
        }
        Some(existing) => {
            if *existing != audience {
                let first = existing.take();
                *existing = Value::Array(vec![first, audience]);
            }
        }
    }
}

/// Applies every mapper that targets `output` for `client`, in order.
pub fn apply_all(
    mappers: &[Mapper],
    output: Output,
    client: &str,
    user: Option<&User>,
    claims: &mut Claims,
) {
    for m in mappers.iter().filter(|m| m.applies(output, client)) {
        m.apply(claims, user);
    }
}
