use std::collections::BTreeMap;

use serde_json::json;

use crate::domain::token::Claims;
use crate::domain::user::User;

use super::*;

fn user() -> User {
    let mut attributes = BTreeMap::new();
    attributes.insert("dept".to_owned(), vec!["R&D".to_owned(), "QA".to_owned()]);
    attributes.insert("level".to_owned(), vec!["7".to_owned()]);
    attributes.insert("admin".to_owned(), vec!["TRUE".to_owned()]);
    attributes.insert("nick".to_owned(), vec!["not a number".to_owned()]);
    User {
        org: Some("ProjectKeep".into()),
        attributes,
        groups: vec!["Admins".into(), "/Staff/Nurses".into()],
        ..User::sample()
    }
}

fn spec(name: &str, kind: MapperType) -> MapperSpec {
    MapperSpec {
        name: name.into(),
        kind,
        claim: Some(name.into()),
        json_type: JsonType::String,
        value: None,
        attribute: None,
        multivalued: false,
        property: None,
        full_path: true,
        audience: None,
        outputs: Output::ALL.to_vec(),
        clients: vec![],
    }
}

fn run(spec: MapperSpec, output: Output, client: &str) -> Claims {
    let m = Mapper::from_spec(&spec).unwrap();
    let mut claims = Claims::new();
    claims.insert("aud".into(), json!("Domino"));
    apply_all(&[m], output, client, Some(&user()), &mut claims);
    claims
}

#[test]
fn hardcoded_values_convert_at_load() {
    let mut s = spec("tier", MapperType::Hardcoded);
    s.value = Some(json!("gold"));
    assert_eq!(run(s.clone(), Output::Access, "c")["tier"], "gold");
    s.json_type = JsonType::Int;
    s.value = Some(json!("42"));
    assert_eq!(run(s.clone(), Output::Access, "c")["tier"], 42);
    s.value = Some(json!("forty-two"));
    let err = Mapper::from_spec(&s).unwrap_err().to_string();
    assert!(err.contains("tier") && err.contains("Int"), "{err}");
    s.json_type = JsonType::Boolean;
    s.value = Some(json!("true"));
    assert_eq!(run(s.clone(), Output::Access, "c")["tier"], true);
    s.json_type = JsonType::Json;
    s.value = Some(json!(r#"{"a":[1,2]}"#));
    assert_eq!(
        run(s.clone(), Output::Access, "c")["tier"],
        json!({"a": [1, 2]})
    );
    s.value = Some(json!("{broken"));
    assert!(Mapper::from_spec(&s).is_err());
    s.value = None;
    assert!(
        Mapper::from_spec(&s)
            .unwrap_err()
            .to_string()
            .contains("value")
    );
}

#[test]
fn user_attributes_single_and_multivalued() {
    let mut s = spec("dept", MapperType::UserAttribute);
    s.attribute = Some("dept".into());
    assert_eq!(run(s.clone(), Output::Id, "c")["dept"], "R&D");
    s.multivalued = true;
    assert_eq!(
        run(s.clone(), Output::Id, "c")["dept"],
        json!(["R&D", "QA"])
    );
    let mut level = spec("level", MapperType::UserAttribute);
    level.attribute = Some("level".into());
    level.json_type = JsonType::Int;
    assert_eq!(run(level.clone(), Output::Id, "c")["level"], 7);
    // User data that does not convert is skipped at mint time, not fatal.
    level.attribute = Some("nick".into());
    assert!(!run(level.clone(), Output::Id, "c").contains_key("level"));
    level.attribute = Some("missing".into());
    assert!(!run(level, Output::Id, "c").contains_key("level"));
    let mut admin = spec("admin", MapperType::UserAttribute);
    admin.attribute = Some("admin".into());
    admin.json_type = JsonType::Boolean;
    assert_eq!(run(admin, Output::Id, "c")["admin"], true);
}

#[test]
fn user_properties() {
    for (p, expected) in [
        (Property::Username, json!("doc")),
        (Property::Email, json!("doctor.notes@projectkeep.io")),
        (Property::Cn, json!("Doctor Notes")),
        (Property::Org, json!("ProjectKeep")),
        (Property::Dn, json!("CN=Doctor Notes/O=ProjectKeep")),
        (Property::Id, json!("0b7c")),
    ] {
        let mut s = spec("p", MapperType::UserProperty);
        s.property = Some(p);
        assert_eq!(run(s, Output::Userinfo, "c")["p"], expected, "{p:?}");
    }
}

#[test]
fn group_membership_with_and_without_full_path() {
    let s = spec("groups", MapperType::GroupMembership);
    assert_eq!(
        run(s.clone(), Output::Access, "c")["groups"],
        json!(["/Admins", "/Staff/Nurses"])
    );
    let flat = MapperSpec {
        full_path: false,
        ..s
    };
    assert_eq!(
        run(flat, Output::Access, "c")["groups"],
        json!(["Admins", "/Staff/Nurses"])
    );
}

#[test]
fn audience_turns_aud_into_an_array_once() {
    let mut s = spec("extra-aud", MapperType::Audience);
    s.claim = None;
    s.audience = Some("reports-api".into());
    let claims = run(s.clone(), Output::Access, "c");
    assert_eq!(claims["aud"], json!(["Domino", "reports-api"]));
    let m = Mapper::from_spec(&s).unwrap();
    let mut twice = claims.clone();
    apply_all(&[m.clone(), m], Output::Access, "c", None, &mut twice);
    assert_eq!(twice["aud"], json!(["Domino", "reports-api"]));
    let mut same = Claims::new();
    same.insert("aud".into(), json!("reports-api"));
    apply_all(
        &[Mapper::from_spec(&s).unwrap()],
        Output::Access,
        "c",
        None,
        &mut same,
    );
    assert_eq!(same["aud"], "reports-api");
    s.claim = Some("aud".into());
    assert!(Mapper::from_spec(&s).is_err());
}

#[test]
fn outputs_and_clients_restrict() {
    let mut s = spec("tier", MapperType::Hardcoded);
    s.value = Some(json!("gold"));
    s.outputs = vec![Output::Id, Output::Keep];
    s.clients = vec!["domino-play".into(), KEEP_CLIENT.into()];
    for output in Output::ALL {
        for client in ["domino-play", "other", KEEP_CLIENT] {
            let claims = run(s.clone(), output, client);
            let expected = s.outputs.contains(&output) && client != "other";
            assert_eq!(
                claims.contains_key("tier"),
                expected,
                "{output} for {client}"
            );
        }
    }
}

#[test]
fn nested_and_escaped_claim_names() {
    let mut s = spec("unit", MapperType::Hardcoded);
    s.value = Some(json!("cardiology"));
    s.claim = Some("org.unit.name".into());
    let m1 = Mapper::from_spec(&s).unwrap();
    s.name = "site".into();
    s.claim = Some("org.site".into());
    s.value = Some(json!("Boston"));
    let m2 = Mapper::from_spec(&s).unwrap();
    s.name = "dotted".into();
    s.claim = Some(r"https://example\.com/role".into());
    s.value = Some(json!("nurse"));
    let m3 = Mapper::from_spec(&s).unwrap();
    let mut claims = Claims::new();
    apply_all(&[m1, m2, m3], Output::Access, "c", None, &mut claims);
    assert_eq!(
        Value::Object(claims),
        json!({
            "org": {"unit": {"name": "cardiology"}, "site": "Boston"},
            "https://example.com/role": "nurse"
        })
    );
    s.claim = Some("a..b".into());
    assert!(Mapper::from_spec(&s).is_err());
}

#[test]
fn protected_claims_are_refused_naming_the_mapper() {
    for claim in PROTECTED
        .iter()
        .map(|c| c.to_string())
        .chain(["sub.x".into(), "realm_access.roles".into()])
    {
        let mut s = spec("sneaky", MapperType::Hardcoded);
        s.value = Some(json!("x"));
        s.claim = Some(claim.clone());
        let err = Mapper::from_spec(&s).unwrap_err().to_string();
        assert!(
            err.contains("sneaky") && err.contains("protected"),
            "{claim}: {err}"
        );
    }
}

#[test]
fn client_credentials_get_only_static_claims() {
    let mut fixed = spec("tier", MapperType::Hardcoded);
    fixed.value = Some(json!("gold"));
    let mut attr = spec("dept", MapperType::UserAttribute);
    attr.attribute = Some("dept".into());
    let mappers = validate_all(&[fixed, attr]).unwrap();
    let mut claims = Claims::new();
    apply_all(&mappers, Output::Access, "svc", None, &mut claims);
    assert_eq!(Value::Object(claims), json!({"tier": "gold"}));
}

#[test]
fn duplicate_names_are_refused() {
    let mut a = spec("x", MapperType::Hardcoded);
    a.value = Some(json!("1"));
    let problems = validate_all(&[a.clone(), a]).unwrap_err();
    assert!(problems[0].contains("twice"), "{problems:?}");
}
