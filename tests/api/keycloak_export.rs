//! `domino-idp export keycloak`: Keycloak's format, with Keycloak's hash
//! encoding and masked secrets, and an export imported into a fresh issuer
//! gives the same tokens.

use std::path::Path;

use serde_json::Value;

use crate::helpers::*;
use crate::keycloak_import::{
    PORTAL_SECRET, assert_has, fixture, hashed_setup, import, run, user1_at_portal,
};

/// `run` that must succeed.
fn run_ok(dir: &Path, config: &Path, args: &[&str]) {
    let out = run(dir, config, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn an_export_imported_into_a_fresh_issuer_gives_the_same_tokens() {
    let first = tempfile::tempdir().unwrap();
    let dir = first.path();
    let (config, secrets) = hashed_setup(dir);
    import(dir, &config, &fixture("hashed-realm.json"), Some(&secrets));
    let same_issuer = |c: &mut domino_idp::config::Config| {
        c.realm = "hashed".into();
        c.public_url = Some("http://idp.example".into());
    };
    // A mapper of every client, the Keep token included.
    run_ok(
        dir,
        &config,
        &[
            "mapper",
            "add",
            "tier",
            "--type",
            "hardcoded",
            "--claim",
            "tier",
            "--value",
            "gold",
        ],
    );
    let mut app = spawn_in(dir, same_issuer).await;
    let before = user1_at_portal(&app).await;
    let keep_before: Value = app.login("admin", "admin").await.json().await.unwrap();
    assert_eq!(before["tier"], "gold");
    assert_eq!(keep_before["claims"]["tier"], "gold");
    app.stop().await;

    let exported = dir.join("export.json");
    run_ok(
        dir,
        &config,
        &["export", "keycloak", "--out", exported.to_str().unwrap()],
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&exported).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the export holds password hashes");
    }
    let realm: Value = serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    assert_eq!(realm["realm"], "hashed");
    assert_eq!(realm["accessTokenLifespan"], 300);
    let user = |name: &str| {
        realm["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} exported"))
    };
    let credential = |name: &str, field: &str| -> Value {
        serde_json::from_str(user(name)["credentials"][0][field].as_str().unwrap()).unwrap()
    };
    // user1 logged in: argon2id, as Keycloak's argon2 provider stores it.
    let data = credential("user1", "credentialData");
    assert_eq!(data["algorithm"], "argon2");
    assert_eq!(data["hashIterations"], 2);
    assert_eq!(
        data["additionalParameters"]["type"],
        serde_json::json!(["id"])
    );
    assert_eq!(
        data["additionalParameters"]["version"],
        serde_json::json!(["1.3"])
    );
    assert_eq!(
        data["additionalParameters"]["memory"],
        serde_json::json!(["19456"])
    );
    assert_eq!(
        data["additionalParameters"]["hashLength"],
        serde_json::json!(["32"])
    );
    // demo never logged in: its PBKDF2 hash as imported.
    assert_eq!(credential("demo", "credentialData")["algorithm"], "pbkdf2");
    assert_eq!(
        credential("demo", "credentialData")["hashIterations"],
        20000
    );
    assert_eq!(
        credential("demo", "secretData")["salt"],
        "VsYJarM+eZEMeGPx9L9tXg=="
    );
    assert_eq!(user("user1")["firstName"], "User");
    assert_eq!(user("user1")["groups"], serde_json::json!(["/staff/ops"]));
    let portal = realm["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clientId"] == "portal")
        .unwrap();
    assert_eq!(portal["secret"], "**********");
    // No clientScopes list: Keycloak then creates the default scopes the
    // clients name; the mapper of every client is in each client.
    assert!(realm.get("clientScopes").is_none());
    // Keycloak 24+ keeps the users' attributes only with unmanaged ones on.
    let profile = &realm["components"]["org.keycloak.userprofile.UserProfileProvider"][0];
    assert!(
        profile["config"]["kc.user.profile.config"][0]
            .as_str()
            .is_some_and(|c| c.contains("\"unmanagedAttributePolicy\":\"ENABLED\""))
    );
    let tier = portal["protocolMappers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "tier")
        .expect("tier in portal");
    assert_eq!(tier["config"]["domino.every.client"], "true");
    assert_eq!(tier["config"]["keep.token.claim"], "true");
    let scopes = portal["defaultClientScopes"].as_array().unwrap();
    assert!(
        scopes.contains(&"tenant".into()) && scopes.contains(&"roles".into()),
        "{portal}"
    );
    let manager = &realm["roles"]["client"]["portal"];
    assert!(
        manager
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "manager"),
        "{realm}"
    );
    assert_eq!(user("user1")["realmRoles"], serde_json::json!(["admin"]));
    assert_eq!(
        user("service-account-reports")["serviceAccountClientId"],
        "reports"
    );
    assert_eq!(portal["directAccessGrantsEnabled"], true);
    assert_eq!(
        portal["redirectUris"],
        serde_json::json!(["http://localhost:3000/callback"])
    );
    assert!(
        !std::fs::read_to_string(&exported)
            .unwrap()
            .contains(PORTAL_SECRET)
    );

    let second = tempfile::tempdir().unwrap();
    let fresh = second.path();
    let (config, secrets) = hashed_setup(fresh);
    let report = import(fresh, &config, &exported, Some(&secrets));
    assert_has(&report, "users: 6 created");
    assert_has(&report, "clients: 3 created");
    assert_has(&report, "mappers: 7 created, 0 already present");
    assert!(!report.contains("$.components"), "{report}");
    assert_has(&report, "roles: 5 created");
    let app = spawn_in(fresh, same_issuer).await;
    let after = user1_at_portal(&app).await;
    let keep_after: Value = app.login("admin", "admin").await.json().await.unwrap();
    let strip = |mut c: Value| {
        for k in [
            "iat",
            "exp",
            "nbf",
            "jti",
            "sid",
            "session_state",
            "auth_time",
        ] {
            c.as_object_mut().unwrap().remove(k);
        }
        c
    };
    assert_eq!(strip(before), strip(after));
    assert_eq!(
        strip(keep_before["claims"].clone()),
        strip(keep_after["claims"].clone())
    );
}
