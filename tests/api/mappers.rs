//! Claim mappers end to end: seeded from the config, applied to every output
//! for the right clients, managed with the CLI, and previewed exactly.

use std::path::Path;
use std::process::{Command, Output};

use domino_idp::domain::mapper::{JsonType, MapperSpec, MapperType, Output as Target, Property};
use domino_idp::domain::user::{AttributeValue, UserSpec};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::process::write_config;

fn spec(name: &str, kind: MapperType, claim: Option<&str>) -> MapperSpec {
    MapperSpec {
        name: name.into(),
        kind,
        claim: claim.map(str::to_owned),
        json_type: JsonType::String,
        value: None,
        attribute: None,
        multivalued: false,
        property: None,
        full_path: true,
        audience: None,
        outputs: Target::ALL.to_vec(),
        clients: vec![],
    }
}

/// One mapper of each type, with different outputs and clients.
fn mappers() -> Vec<MapperSpec> {
    vec![
        MapperSpec {
            value: Some(json!("gold")),
            outputs: vec![Target::Keep, Target::Access],
            ..spec("tier", MapperType::Hardcoded, Some("org.tier"))
        },
        MapperSpec {
            attribute: Some("dept".into()),
            multivalued: true,
            outputs: vec![Target::Id, Target::Userinfo],
            ..spec(
                "departments",
                MapperType::UserAttribute,
                Some("departments"),
            )
        },
        MapperSpec {
            attribute: Some("level".into()),
            json_type: JsonType::Int,
            outputs: vec![Target::Introspection, Target::Keep],
            ..spec("level", MapperType::UserAttribute, Some("level"))
        },
        MapperSpec {
            property: Some(Property::Id),
            clients: vec!["domino-play".into()],
            ..spec("uid", MapperType::UserProperty, Some("uid"))
        },
        MapperSpec {
            full_path: false,
            outputs: vec![Target::Access, Target::Keep],
            clients: vec!["keep".into()],
            ..spec("groups", MapperType::GroupMembership, Some("groups"))
        },
        MapperSpec {
            audience: Some("reports-api".into()),
            outputs: vec![Target::Access],
            ..spec("reports", MapperType::Audience, None)
        },
    ]
}

fn doc_with_data() -> UserSpec {
    let mut doc = doc_spec();
    doc.attributes.insert(
        "dept".into(),
        AttributeValue::Many(vec!["R&D".into(), "QA".into()]),
    );
    doc.attributes
        .insert("level".into(), AttributeValue::One("7".into()));
    doc.groups = vec!["Admins".into()];
    doc
}

async fn app_in(dir: &Path) -> TestApp {
    let app = spawn_in(dir, |c| c.mappers = mappers()).await;
    app.add_user(doc_with_data()).await;
    app.add_client(play_client()).await;
    app
}

fn decode(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn each_output_gets_its_mappers_for_its_clients() {
    let tmp = tempfile::tempdir().unwrap();
    let app = app_in(tmp.path()).await;
    let user_id = app.state.store.get_user("doc").await.unwrap().unwrap().id;

    // Keep login: client `keep`.
    let keep: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    let c = &keep["claims"];
    assert_eq!(c["org"]["tier"], "gold");
    assert_eq!(c["level"], 7);
    assert_eq!(c["groups"], json!(["Admins"]));
    assert!(c.get("uid").is_none(), "uid is for domino-play only");
    assert!(c.get("departments").is_none(), "id/userinfo only");
    assert_eq!(
        c["aud"], "Domino",
        "the audience mapper targets access only"
    );
    assert_eq!(decode(keep["bearer"].as_str().unwrap()), *c);

    // OAuth: client domino-play.
    let body = app.password_grant("openid profile").await;
    let access = decode(body["access_token"].as_str().unwrap());
    assert_eq!(access["org"]["tier"], "gold");
    assert_eq!(access["uid"], user_id);
    assert_eq!(access["aud"], json!(["Domino", "reports-api"]));
    assert!(access.get("groups").is_none(), "groups are for keep only");
    assert!(access.get("level").is_none());
    let id = decode(body["id_token"].as_str().unwrap());
    assert_eq!(id["departments"], json!(["R&D", "QA"]));
    assert_eq!(id["uid"], user_id);
    assert_eq!(id["aud"], "domino-play");
    assert!(id.get("org").is_none());
    let at = body["access_token"].as_str().unwrap();
    let info: Value = app
        .client
        .get(app.oidc("userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["departments"], json!(["R&D", "QA"]));
    assert!(info.get("level").is_none());
    let intro: Value = app
        .oidc_post(
            "token/introspect",
            &[("token", at)],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(intro["active"], true);
    assert_eq!(intro["level"], 7);
}

fn idp(dir: &Path, app: &TestApp) -> Command {
    let mut cmd = idp_command(dir);
    cmd.args([
        "--database-url",
        &database_url(dir),
        "--keys-dir",
        &dir.join("keys").display().to_string(),
        "--public-url",
        &app.base,
    ]);
    cmd
}

fn preview(dir: &Path, app: &TestApp, args: &[&str]) -> Value {
    let out: Output = idp(dir, app)
        .args(["claims", "preview", "--user", "doc"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The claims that depend on the moment or the session, not on the user.
fn without_volatile(mut v: Value) -> Value {
    for k in [
        "iat",
        "exp",
        "jti",
        "sid",
        "session_state",
        "auth_time",
        "at_hash",
        "nonce",
    ] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

#[tokio::test]
async fn claims_preview_equals_what_is_minted() {
    let tmp = tempfile::tempdir().unwrap();
    let app = app_in(tmp.path()).await;
    let dir = tmp.path();

    let keep: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    assert_eq!(
        without_volatile(preview(dir, &app, &[])),
        without_volatile(keep["claims"].clone())
    );

    let scope = "openid profile email MAIL";
    let body = app.password_grant(scope).await;
    let access = decode(body["access_token"].as_str().unwrap());
    let id = decode(body["id_token"].as_str().unwrap());
    let args = ["--client", "domino-play", "--scope", scope];
    assert_eq!(
        without_volatile(preview(dir, &app, &args)),
        without_volatile(access)
    );
    let mut id_args = args.to_vec();
    id_args.extend(["--output", "id"]);
    assert_eq!(
        without_volatile(preview(dir, &app, &id_args)),
        without_volatile(id)
    );
    let info: Value = app
        .client
        .get(app.oidc("userinfo"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut info_args = args.to_vec();
    info_args.extend(["--output", "userinfo"]);
    assert_eq!(preview(dir, &app, &info_args), info);
}

#[tokio::test]
async fn mapper_cli_adds_lists_and_removes_and_minting_follows() {
    let tmp = tempfile::tempdir().unwrap();
    let app = app_in(tmp.path()).await;
    let dir = tmp.path();
    let out = idp(dir, &app)
        .args([
            "mapper",
            "add",
            "site",
            "--type",
            "hardcoded",
            "--claim",
            "site",
            "--value",
            "Boston",
            "--output",
            "keep",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keep: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    assert_eq!(
        keep["claims"]["site"], "Boston",
        "a running server sees it at once"
    );

    let out = idp(dir, &app)
        .args(["mapper", "list", "--json"])
        .output()
        .unwrap();
    let listed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.len(), mappers().len() + 1);
    assert_eq!(listed.last().unwrap()["name"], "site");
    let table = idp(dir, &app).args(["mapper", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&table.stdout).contains("hardcoded"));

    // Refusals name the problem and change nothing.
    for (args, needle) in [
        (
            vec![
                "mapper",
                "add",
                "x",
                "--type",
                "hardcoded",
                "--claim",
                "sub",
                "--value",
                "v",
            ],
            "protected",
        ),
        (
            vec![
                "mapper",
                "add",
                "x",
                "--type",
                "hardcoded",
                "--claim",
                "n",
                "--value",
                "many",
                "--json-type",
                "int",
            ],
            "Int",
        ),
        (
            vec![
                "mapper",
                "add",
                "x",
                "--type",
                "user-attribute",
                "--claim",
                "n",
            ],
            "attribute",
        ),
        (
            vec![
                "mapper",
                "add",
                "site",
                "--type",
                "hardcoded",
                "--claim",
                "s",
                "--value",
                "v",
            ],
            "already exists",
        ),
    ] {
        let out = idp(dir, &app).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }

    let out = idp(dir, &app)
        .args(["mapper", "remove", "site"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let keep: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    assert!(keep["claims"].get("site").is_none());
    let again = idp(dir, &app)
        .args(["mapper", "remove", "site"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
}

#[tokio::test]
async fn a_protected_claim_in_the_config_stops_start_up_naming_the_mapper() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(
        tmp.path(),
        "[[mappers]]\nname = \"evil-issuer\"\ntype = \"hardcoded\"\nclaim = \"iss\"\nvalue = \"https://evil.example\"\n",
    );
    let out = idp_command(tmp.path())
        .args(["--config", config.to_str().unwrap(), "check-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("evil-issuer") && err.contains("protected"),
        "{err}"
    );
}

#[tokio::test]
async fn seeding_mappers_is_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let mut app = app_in(tmp.path()).await;
    app.stop().await;
    let app = spawn_in(tmp.path(), |c| c.mappers = mappers()).await;
    let listed = app.state.store.list_mappers().await.unwrap();
    assert_eq!(listed.len(), mappers().len());
}
