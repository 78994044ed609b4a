//! Claim mappers: arbitrary specs (as `[[mappers]]` or `mapper add` would
//! give them) through `validate_all`, then applied to an arbitrary user
//! for every output. Never panics, and never touches a protected claim.

#![no_main]

use std::collections::BTreeMap;

use domino_idp::domain::mapper::{MapperSpec, Output, PROTECTED, apply_all, validate_all};
use domino_idp::domain::token::Claims;
use domino_idp::domain::user::{PasswordHash, User};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// A mapper spec's fields, each either a known value or arbitrary text, so
/// that most inputs get past serde into validation and evaluation.
#[derive(Arbitrary, Debug)]
struct Spec {
    name: String,
    kind: Pick,
    claim: Option<String>,
    json_type: Option<Pick>,
    value: Option<Fixed>,
    attribute: Option<String>,
    multivalued: bool,
    property: Option<Pick>,
    full_path: Option<bool>,
    audience: Option<String>,
    outputs: Option<Vec<Pick>>,
    clients: Vec<String>,
}

#[derive(Arbitrary, Debug)]
enum Pick {
    Known(u8),
    Text(String),
}

impl Pick {
    fn of(&self, known: &[&str]) -> Value {
        match self {
            Pick::Known(i) => json!(known[usize::from(*i) % known.len()]),
            Pick::Text(text) => json!(text),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Fixed {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    List(Vec<String>),
    Map(BTreeMap<String, String>),
}

impl Spec {
    fn to_json(&self) -> Value {
        let mut spec = json!({
            "name": self.name,
            "type": self.kind.of(&["hardcoded", "user-attribute", "user-property", "group-membership", "audience"]),
            "multivalued": self.multivalued,
            "clients": self.clients,
        });
        let fields = [
            ("claim", self.claim.as_ref().map(|c| json!(c))),
            (
                "json_type",
                self.json_type
                    .as_ref()
                    .map(|p| p.of(&["string", "int", "boolean", "json"])),
            ),
            ("value", self.value.as_ref().map(Fixed::to_json)),
            ("attribute", self.attribute.as_ref().map(|a| json!(a))),
            (
                "property",
                self.property
                    .as_ref()
                    .map(|p| p.of(&["username", "email", "cn", "org", "dn", "id"])),
            ),
            ("full_path", self.full_path.map(|f| json!(f))),
            ("audience", self.audience.as_ref().map(|a| json!(a))),
            (
                "outputs",
                self.outputs.as_ref().map(|o| {
                    let known = ["access", "id", "userinfo", "introspection", "keep"];
                    Value::Array(o.iter().map(|p| p.of(&known)).collect())
                }),
            ),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                spec[name] = value;
            }
        }
        spec
    }
}

impl Fixed {
    fn to_json(&self) -> Value {
        match self {
            Fixed::Null => Value::Null,
            Fixed::Bool(b) => json!(b),
            Fixed::Int(i) => json!(i),
            Fixed::Float(f) => json!(f),
            Fixed::Text(t) => json!(t),
            Fixed::List(l) => json!(l),
            Fixed::Map(m) => json!(m),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    specs: Vec<Spec>,
    client: String,
    username: String,
    email: Option<String>,
    cn: String,
    org: Option<String>,
    attributes: BTreeMap<String, Vec<String>>,
    groups: Vec<String>,
    /// `aud` as a string, or an array when set.
    aud_list: bool,
}

fuzz_target!(|input: Input| {
    let specs = Value::Array(input.specs.iter().map(Spec::to_json).collect());
    let Ok(specs) = serde_json::from_value::<Vec<MapperSpec>>(specs) else {
        return;
    };
    let Ok(mappers) = validate_all(&specs) else {
        return;
    };
    let user = User {
        id: "00000000-0000-0000-0000-000000000000".into(),
        username: input.username,
        email: input.email,
        cn: input.cn,
        org: input.org,
        password_hash: PasswordHash(String::new()),
        scopes: vec!["MAIL".into()],
        attributes: input.attributes,
        groups: input.groups,
        enabled: true,
        created_at: 0,
        updated_at: 0,
    };
    for output in [
        Output::Access,
        Output::Id,
        Output::Userinfo,
        Output::Introspection,
        Output::Keep,
    ] {
        let mut claims: Claims = serde_json::from_value(json!({
            "iss": "http://idp.test/auth/realms/DominoRealm",
            "sub": "CN=Doctor Notes/O=ProjectKeep",
            "exp": 2_000_000_000u64,
            "iat": 1_900_000_000u64,
            "nbf": 1_900_000_000u64,
            "jti": "j",
            "aud": if input.aud_list { json!(["Domino"]) } else { json!("Domino") },
        }))
        .unwrap_or_default();
        let before: Vec<Value> = PROTECTED.iter().map(|c| claims[*c].clone()).collect();
        apply_all(&mappers, output, &input.client, Some(&user), &mut claims);
        apply_all(&mappers, output, &input.client, None, &mut claims);
        for (name, value) in PROTECTED.iter().zip(&before) {
            assert_eq!(&claims[*name], value, "a mapper changed {name}");
        }
        let _ = serde_json::to_string(&claims);
    }
});
