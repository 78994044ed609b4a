//! The OpenAPI document's own checks: references resolve, operations are
//! unique and answered, tagged by group, and GET twins take a form.

use std::collections::HashSet;

use serde_json::Value;

use super::*;

fn json() -> Value {
    serde_json::from_str(&document("DominoRealm", "/auth").to_json().unwrap()).unwrap()
}

fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let doc = json();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for r in found {
        let pointer = r.strip_prefix('#').expect("a local reference");
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
}

#[test]
fn operations_are_unique_and_answered() {
    let doc = json();
    let mut ids = HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "{id} is used twice");
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses
                    .keys()
                    .any(|s| s.starts_with('2') || s.starts_with('3')),
                "{method} {path} has no success response"
            );
        }
    }
}

#[test]
fn every_operation_has_its_group_tag() {
    let doc = json();
    let declared: Vec<&Value> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["name"])
        .collect();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let tags = op["tags"].as_array().unwrap();
            assert!(
                tags.len() == 1 && declared.contains(&&tags[0]),
                "{method} {path} is tagged {tags:?}"
            );
        }
    }
    assert_eq!(doc["paths"][oidc::TOKEN]["post"]["tags"][0], "oidc");
    assert_eq!(doc["paths"][OPENAPI]["get"]["tags"][0], "operations");
}

#[test]
fn get_twins_take_a_form() {
    let doc = json();
    let post = &doc["paths"][oidc::AUTHORIZE]["post"];
    let form = &post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
    assert_eq!(form["properties"]["client_id"]["type"], "string");
    assert!(
        form["required"]
            .as_array()
            .unwrap()
            .contains(&"redirect_uri".into())
    );
    assert!(post.get("parameters").is_none());
    assert!(doc["paths"][oidc::USERINFO]["post"]["responses"]["413"].is_object());
}
