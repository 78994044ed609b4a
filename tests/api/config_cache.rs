//! The cached configuration (clients, mappers, roles) and its change
//! counter: a change made elsewhere (the CLI in another process, another
//! instance on the same database) applies to the very next token of a
//! running server, which had the old configuration cached. Runs on the
//! backend the suite runs on (SQLite, or Postgres with `IDP_TEST_POSTGRES_URL`).

use std::path::{Path, PathBuf};

use domino_idp::app::{mappers, roles};
use domino_idp::domain::mapper::MapperSpec;
use domino_idp::domain::role::{RoleRef, RoleSpec};
use serde_json::{Value, json};

use crate::clients::keycloak_play;
use crate::helpers::*;
use crate::resource::realm_roles;

async fn app_with_play() -> TestApp {
    let app = spawn_app().await;
    app.add_doc().await;
    app.add_client(keycloak_play()).await;
    app
}

/// The directory the app's database and keys belong to (the CLI's too).
fn dir_of(app: &TestApp) -> PathBuf {
    app.state
        .config
        .keys_dir
        .parent()
        .expect("keys live in the test directory")
        .to_owned()
}

fn cli(dir: &Path, args: &[&str]) {
    let out = idp_command(dir).args(args).output().expect("the CLI runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn client_credentials(app: &TestApp) -> reqwest::Response {
    app.oidc_post(
        "token",
        &[("grant_type", "client_credentials")],
        Some(("domino-play", CLIENT_SECRET)),
    )
    .await
}

/// The access token of a client_credentials grant, verified.
async fn service_token(app: &TestApp) -> Value {
    let resp = client_credentials(app).await;
    assert_eq!(resp.status(), 200, "client_credentials");
    let body: Value = resp.json().await.unwrap();
    verify_with_jwks(
        body["access_token"].as_str().unwrap(),
        &app.jwks().await,
        &app.issuer(),
    )
}

#[tokio::test]
async fn the_cli_in_another_process_changes_the_next_token_of_a_running_server() {
    let app = app_with_play().await;
    let dir = dir_of(&app);
    cli(&dir, &["role", "add", "auditor"]);
    cli(
        &dir,
        &["role", "grant", "auditor", "--client", "domino-play"],
    );

    // The server caches what it has read...
    let claims = service_token(&app).await;
    assert!(realm_roles(&claims).contains(&"auditor".into()), "{claims}");
    assert!(claims.get("team").is_none(), "{claims}");

    // ...and the next token after each CLI change sees the change.
    cli(
        &dir,
        &["role", "revoke", "auditor", "--client", "domino-play"],
    );
    let claims = service_token(&app).await;
    assert!(
        !realm_roles(&claims).contains(&"auditor".into()),
        "{claims}"
    );

    cli(
        &dir,
        &[
            "mapper",
            "add",
            "team",
            "--type",
            "hardcoded",
            "--claim",
            "team",
            "--value",
            "blue",
        ],
    );
    let claims = service_token(&app).await;
    assert_eq!(claims["team"], "blue", "{claims}");
    let body = app.password_grant("openid").await;
    let access = verify_with_jwks(
        body["access_token"].as_str().unwrap(),
        &app.jwks().await,
        &app.issuer(),
    );
    assert_eq!(access["team"], "blue", "{access}");

    cli(&dir, &["client", "remove", "domino-play"]);
    expect_oauth_error(client_credentials(&app).await, 401, "invalid_client").await;
    let resp = app
        .refresh_grant(body["refresh_token"].as_str().unwrap())
        .await;
    expect_oauth_error(resp, 401, "invalid_client").await;
}

/// A user's own grants are remembered by the cached configuration after
/// their first token; a grant or revocation from another process still
/// applies to that user's next token, whether a password or a refresh grant.
#[tokio::test]
async fn a_users_own_role_grant_from_the_cli_applies_to_their_next_token() {
    let app = app_with_play().await;
    let dir = dir_of(&app);
    cli(&dir, &["role", "add", "auditor"]);
    let jwks = app.jwks().await;
    let roles_of = |body: &Value| {
        realm_roles(&verify_with_jwks(
            body["access_token"].as_str().unwrap(),
            &jwks,
            &app.issuer(),
        ))
    };

    let body = app.password_grant("openid").await;
    assert!(!roles_of(&body).contains(&"auditor".into()), "{body}");

    cli(&dir, &["role", "grant", "auditor", "--user", "doc"]);
    let body = app.password_grant("openid").await;
    assert!(
        roles_of(&body).contains(&"auditor".into()),
        "granted: {body}"
    );
    let resp = app
        .refresh_grant(body["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(resp.status(), 200);
    let refreshed: Value = resp.json().await.unwrap();
    assert!(
        roles_of(&refreshed).contains(&"auditor".into()),
        "refreshed: {refreshed}"
    );

    cli(&dir, &["role", "revoke", "auditor", "--user", "doc"]);
    let resp = app
        .refresh_grant(refreshed["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(resp.status(), 200);
    let refreshed: Value = resp.json().await.unwrap();
    assert!(
        !roles_of(&refreshed).contains(&"auditor".into()),
        "revoked: {refreshed}"
    );
}

#[tokio::test]
async fn two_servers_on_one_database_see_each_others_changes_at_once() {
    let a = app_with_play().await;
    let url = a.state.config.database_url.clone();
    let other = tempfile::tempdir().unwrap();
    let b = spawn_in(other.path(), |c| c.database_url = url).await;
    let store_a = a.state.store.as_ref();
    let realm = a.state.config.realm.as_str();

    // B has the configuration cached.
    let before = service_token(&b).await;
    assert!(before.get("team").is_none(), "{before}");
    assert!(!realm_roles(&before).contains(&"auditor".into()));

    // Through A (as its console does): a role granted, a mapper added.
    let auditor = RoleRef::realm("auditor");
    roles::create(
        store_a,
        &RoleSpec {
            name: "auditor".into(),
            ..RoleSpec::default()
        },
    )
    .await
    .unwrap();
    roles::grant(
        store_a,
        realm,
        &roles::HolderName::Client("domino-play".into()),
        &auditor,
    )
    .await
    .unwrap();
    let team: MapperSpec = serde_json::from_value(
        json!({"name": "team", "type": "hardcoded", "claim": "team", "value": "red"}),
    )
    .unwrap();
    mappers::create(store_a, &team).await.unwrap();
    let after = service_token(&b).await;
    assert_eq!(after["team"], "red", "{after}");
    assert!(realm_roles(&after).contains(&"auditor".into()), "{after}");

    // Revoked through A: B's next token no longer carries it.
    roles::revoke(
        store_a,
        &roles::HolderName::Client("domino-play".into()),
        &auditor,
    )
    .await
    .unwrap();
    let revoked = service_token(&b).await;
    assert!(
        !realm_roles(&revoked).contains(&"auditor".into()),
        "{revoked}"
    );

    // Removed through A: B refuses the client at once.
    assert!(store_a.delete_client("domino-play").await.unwrap());
    expect_oauth_error(client_credentials(&b).await, 401, "invalid_client").await;
}
