//! `domino-idp import keycloak` / `export keycloak` and
//! `keycloak_import_dir`, with the binary, on Keycloak's own test realm and
//! on a realm whose passwords Keycloak hashed (tests/fixtures/keycloak).

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::helpers::*;
use crate::process::write_config;

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keycloak")
        .join(name)
}

pub(crate) const PORTAL_SECRET: &str = "portal-secret-0123456789";
pub(crate) const REPORTS_SECRET: &str = "reports-secret-0123456789";

/// A config file for realm `realm` in `dir` (the database and keys are the
/// test's, as `config_in(dir)` has them; on Postgres the env points there).
pub(crate) fn config_file(dir: &Path, realm: &str, extra: &str) -> PathBuf {
    write_config(dir, &format!("realm = {realm:?}\n{extra}"))
}

pub(crate) fn secrets_file(dir: &Path) -> PathBuf {
    let path = dir.join("secrets.txt");
    std::fs::write(
        &path,
        format!("# client-id=secret\nportal={PORTAL_SECRET}\nreports = {REPORTS_SECRET}\n"),
    )
    .unwrap();
    path
}

/// `dir` set up for the `hashed` realm: its database, a config file that
/// allows Keycloak's costlier hashes, and the client secrets file.
pub(crate) fn hashed_setup(dir: &Path) -> (PathBuf, PathBuf) {
    let _db = database_url(dir);
    let config = config_file(dir, "hashed", "allow_costlier_password_hashes = true\n");
    let secrets = secrets_file(dir);
    (config, secrets)
}

pub(crate) fn run(dir: &Path, config: &Path, args: &[&str]) -> Output {
    idp_command(dir)
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

pub(crate) fn import(dir: &Path, config: &Path, file: &Path, secrets: Option<&Path>) -> String {
    let mut args = vec!["import", "keycloak", file.to_str().unwrap()];
    if let Some(s) = secrets {
        args.extend(["--client-secrets", s.to_str().unwrap()]);
    }
    let out = run(dir, config, &args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

pub(crate) fn assert_has(report: &str, line: &str) {
    assert!(report.contains(line), "missing {line:?} in:\n{report}");
}

async fn keep_login(app: &TestApp, user: &str, password: &str) -> u16 {
    app.login(user, password).await.status().as_u16()
}

async fn stored_hash(app: &TestApp, user: &str) -> String {
    let user = app
        .state
        .store
        .get_user(user)
        .await
        .unwrap()
        .expect("user exists");
    user.password_hash.0
}

/// `grant` of `user1` at the `hashed` realm's confidential `portal`.
pub(crate) async fn user1_at_portal(app: &TestApp) -> Value {
    grant(
        app,
        "hashed",
        ("portal", PORTAL_SECRET),
        "user1",
        "password",
    )
    .await
}

/// A password grant at `client` in realm `realm`; the verified access token's claims.
pub(crate) async fn grant(
    app: &TestApp,
    realm: &str,
    client: (&str, &str),
    user: &str,
    password: &str,
) -> Value {
    let issuer = app.state.realm.issuer.clone();
    assert!(issuer.ends_with(&format!("/realms/{realm}")), "{issuer}");
    // The issuer may name a public URL; the requests go to the listener.
    let realm_url = app.url(&format!("/auth/realms/{realm}"));
    let resp = app
        .client
        .post(format!("{realm_url}/protocol/openid-connect/token"))
        .basic_auth(client.0, Some(client.1))
        .form(&[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let body: Value = resp.json().await.unwrap();
    let jwks = app
        .get_json(&format!(
            "/auth/realms/{realm}/protocol/openid-connect/certs"
        ))
        .await;
    verify_with_jwks(body["access_token"].as_str().unwrap(), &jwks, &issuer)
}

#[tokio::test]
async fn a_realm_hashed_by_keycloak_imports_logs_in_and_reports_what_it_cannot_carry() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (config, secrets) = hashed_setup(dir);
    let report = import(dir, &config, &fixture("hashed-realm.json"), Some(&secrets));
    assert_has(&report, "realm hashed");
    assert_has(&report, "users: 6 created, 0 already present");
    assert_has(&report, "clients: 3 created, 0 already present");
    assert_has(&report, "mappers: 6 created, 0 already present");
    assert_has(&report, "roles: 5 created, 0 already present");
    assert_has(&report, "role grants: 4 added");
    for line in [
        "$.users[0].credentials[1] (otp): not imported: only password credentials are supported",
        "$.users[0].requiredActions[0] (CONFIGURE_TOTP): not imported",
        "$.users[6] (service-account-reports): not imported: the service account of client reports",
        "$.identityProviders[0] (github): not imported",
        "$.authenticationFlows[1] (browser with otp): not imported",
        "$.requiredActions[0] (CONFIGURE_TOTP): not imported",
        "$.offlineSessionIdleTimeout: not imported",
        "$.components.org.keycloak.keys.KeyProvider: not imported: the signing keys are the issuer's own",
        "$.clients[0].redirectUris[1] (http://localhost:3000/*): not imported",
        "$.clients[0].protocolMappers[5] (realm roles): built in here",
        "$.clients[0].optionalClientScopes[0] (portal): not imported: there are no offline sessions here",
        "$.roles.realm[1].attributes (operator): not imported",
        "$.roles.client.account[0] (manage-account): not imported: client account was not imported",
        "$.users[0].clientRoles.account[0] (account:manage-account): not imported",
        "$.clients[0].protocolMappers[6] (pairwise): not imported: mapper type oidc-sha256-pairwise-sub-mapper has no equivalent",
        "$.clients[3] (account): not imported",
        "$.clientScopes[1] (profile): not imported",
    ] {
        assert_has(&report, line);
    }
    assert!(!report.contains(PORTAL_SECRET), "{report}");
    // Web origins are imported as they are.
    assert!(!report.contains("webOrigins"), "{report}");
    assert!(!report.contains("UserProfileProvider"), "{report}");

    // Twice: the same state.
    let again = import(dir, &config, &fixture("hashed-realm.json"), Some(&secrets));
    assert_has(&again, "users: 0 created, 6 already present");
    assert_has(&again, "clients: 0 created, 3 already present");
    assert_has(&again, "mappers: 0 created, 6 already present");
    assert_has(&again, "roles: 0 created, 5 already present");
    assert_has(&again, "role grants: 0 added");

    let app = spawn_in(dir, |c| c.realm = "hashed".into()).await;
    assert_eq!(app.state.store.list_users().await.unwrap().len(), 6);
    assert!(
        stored_hash(&app, "user1")
            .await
            .starts_with("$pbkdf2-sha256$i=27500$")
    );
    assert!(
        stored_hash(&app, "demo")
            .await
            .starts_with("$pbkdf2$i=20000$")
    );
    assert!(
        stored_hash(&app, "argon2user")
            .await
            .starts_with("$argon2id$v=19$m=7168,t=5,p=1$")
    );
    for (user, password) in [
        ("user1", "password"),
        ("admin", "admin"),
        ("demo", "demo"),
        ("sha512user", "sha512-pass"),
        ("argon2user", "argon2-pass"),
    ] {
        assert_eq!(
            keep_login(&app, user, "wrong password").await,
            401,
            "{user}"
        );
        assert_eq!(keep_login(&app, user, password).await, 200, "{user}");
        // Rehashed to argon2id with the configured parameters on that login.
        let hash = stored_hash(&app, user).await;
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{user}: {hash}"
        );
        assert_eq!(keep_login(&app, user, password).await, 200, "{user} again");
    }
    // Disabled in Keycloak, disabled here; its plain password was hashed.
    assert!(stored_hash(&app, "plain").await.starts_with("$argon2id$"));
    assert_eq!(keep_login(&app, "plain", "plain-pass").await, 401);

    let claims = user1_at_portal(&app).await;
    assert_eq!(claims["preferred_username"], "user1");
    assert_eq!(claims["email"], "user1@example.com");
    assert_eq!(claims["name"], "User One");
    assert_eq!(claims["tenant"]["id"], "acme");
    assert_eq!(claims["level"], 7);
    assert_eq!(claims["groups"], serde_json::json!(["/staff/ops"]));
    assert_eq!(claims["uname"], "user1");
    assert_eq!(claims["department"], "users");
    assert!(
        claims["aud"]
            .as_array()
            .is_some_and(|a| a.contains(&"reports".into())),
        "{claims}"
    );
    // admin (granted), operator (admin's composite, and /staff/ops's role).
    let realm_roles = claims["realm_access"]["roles"].as_array().unwrap();
    for role in [
        "admin",
        "operator",
        "default-roles-hashed",
        "offline_access",
    ] {
        assert!(realm_roles.contains(&role.into()), "{role}: {claims}");
    }
    assert_eq!(
        claims["resource_access"]["portal"]["roles"],
        serde_json::json!(["manager", "viewer"])
    );
    // The service account's roles went to the client.
    let resp = app
        .client
        .post(app.url("/auth/realms/hashed/protocol/openid-connect/token"))
        .basic_auth("reports", Some(REPORTS_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    let payload = token.split('.').nth(1).unwrap();
    use base64::Engine as _;
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert!(
        payload["realm_access"]["roles"]
            .as_array()
            .is_some_and(|r| r.contains(&"operator".into())),
        "{payload}"
    );
}

#[tokio::test]
async fn a_hash_costlier_than_argon2_is_not_imported_without_consent() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let _db = database_url(dir);
    let config = config_file(dir, "hashed", "");
    let report = import(dir, &config, &fixture("hashed-realm.json"), None);
    // PBKDF2-SHA512 with 210,000 iterations takes several times one argon2
    // check with the configured parameters.
    assert_has(
        &report,
        "$.users[3].credentials[0] (password): not imported: this hash costs more to check",
    );
    assert_has(
        &report,
        "$.users[3] (sha512user): imported without a usable password",
    );
    // Confidential clients whose secret Keycloak masked: new secrets, shown once.
    assert_has(&report, "generated client secrets (shown once");
    assert!(
        report
            .lines()
            .any(|l| l.trim_start().starts_with("portal=")),
        "{report}"
    );
    let app = spawn_in(dir, |c| c.realm = "hashed".into()).await;
    assert_eq!(keep_login(&app, "sha512user", "sha512-pass").await, 401);
    assert_eq!(keep_login(&app, "user1", "password").await, 200);
}

#[tokio::test]
async fn keycloaks_own_test_realm_imports_what_fits() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let _db = database_url(dir);
    let config = config_file(dir, "test", "");
    let secrets = dir.join("secrets.txt");
    std::fs::write(&secrets, "direct-grant=direct-grant-secret-0123\n").unwrap();
    let report = import(dir, &config, &fixture("testrealm.json"), Some(&secrets));
    assert_has(&report, "users: 4 created, 0 already present");
    assert_has(&report, "clients: 1 created, 0 already present");
    assert_has(&report, "roles: 6 created, 0 already present");
    for line in [
        "$.users[0] (test-user@localhost): not imported: username must not contain '@'",
        "$.clients[0].redirectUris[0] (http://localhost:8180/auth/realms/master/app/auth/*): not imported",
        "$.clients[0] (test-app): not imported: none of its flows can be carried over",
        "$.clients[4].redirectUris[0] (/test-app-authz/*): not imported",
        "$.roles.client.test-app[1] (customer-user): not imported: client test-app was not imported",
        "$.groups[1].attributes (/roleRichGroup): not imported",
        "$.groups[0].subGroups[0].clientRoles.test-app[0] (test-app:customer-user): not imported",
        "$.smtpServer: not imported",
        "$.scopeMappings: not imported",
        "$.registrationAllowed: not imported",
    ] {
        assert_has(&report, line);
    }
    let app = spawn_in(dir, |c| c.realm = "test".into()).await;
    assert_eq!(keep_login(&app, "topGroupUser", "password").await, 200);
    // Login by email works here as in Keycloak.
    assert_eq!(keep_login(&app, "level2@redhat.com", "password").await, 200);
    let claims = grant(
        &app,
        "test",
        ("direct-grant", "direct-grant-secret-0123"),
        "non-duplicate-email-user",
        "password",
    )
    .await;
    assert_eq!(claims["name"], "Brian Cohen");
    let realm_roles = claims["realm_access"]["roles"].as_array().unwrap();
    assert!(realm_roles.contains(&"user".into()), "{claims}");
    let user = app
        .state
        .store
        .get_user("level2groupuser")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.groups, ["topGroup/level2group"]);
}

#[tokio::test]
async fn an_export_of_another_realm_is_refused_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let _db = database_url(dir);
    let config = config_file(dir, "DominoRealm", "");
    // An import that is a usage error; what it printed.
    let refused = |file: &Path| {
        let out = run(
            dir,
            &config,
            &["import", "keycloak", file.to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = refused(&fixture("hashed-realm.json"));
    assert!(err.contains("set realm = \"hashed\""), "{err}");
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "{\"realm\": \"DominoRealm\", \"users\": 7}").unwrap();
    let err = refused(&garbage);
    assert!(err.contains("not a Keycloak realm export"), "{err}");
}

mod at_start;
