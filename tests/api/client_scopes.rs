//! Keycloak's default and optional client scopes on every grant, and the
//! roles tokens carry (`realm_access`, `resource_access`), on the backend the
//! suite runs on (SQLite, or Postgres with `IDP_TEST_POSTGRES_URL`).

use domino_idp::app::roles::{self, HolderName};
use domino_idp::domain::client::ClientSpec;
use domino_idp::domain::role::{RoleRef, RoleSpec};
use domino_idp::domain::user::AttributeValue;
use serde_json::{Value, json};

use crate::clients::{keycloak_play, svc_client};
use crate::helpers::*;
use crate::oidc_flow::*;
use crate::resource::realm_roles;

const REALM: &str = "DominoRealm";

async fn app_with_keycloak_play() -> TestApp {
    let app = spawn_app().await;
    let mut doc = doc_spec();
    doc.attributes
        .insert("phoneNumber".into(), AttributeValue::One("+41 1".into()));
    doc.attributes
        .insert("locality".into(), AttributeValue::One("Zurich".into()));
    app.add_user(doc).await;
    app.add_client(keycloak_play()).await;
    app
}

async fn userinfo(app: &TestApp, token: &str) -> Value {
    let resp = app.userinfo(token).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn default_scopes_apply_to_every_grant_optional_ones_when_asked() {
    let app = app_with_keycloak_play().await;
    let jwks = app.jwks().await;

    // Password grant, scope openid alone: the defaults' claims are there,
    // `scope` lists what was asked.
    let body = app.password_grant("openid").await;
    assert_eq!(body["scope"], "openid");
    let access = verify_with_jwks(body["access_token"].as_str().unwrap(), &jwks, &app.issuer());
    assert_eq!(
        realm_roles(&access),
        [
            "default-roles-dominorealm",
            "offline_access",
            "uma_authorization"
        ]
    );
    assert!(access.get("phone_number").is_none(), "phone is optional");
    let id = verify_with_jwks_for(
        body["id_token"].as_str().unwrap(),
        &jwks,
        &app.issuer(),
        "domino-play",
    );
    assert_eq!(id["email"], "doctor.notes@projectkeep.io");
    assert_eq!(id["name"], "Doctor Notes");
    assert!(
        id.get("realm_access").is_none(),
        "roles are for access tokens"
    );
    let info = userinfo(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(info["preferred_username"], "doc");
    assert_eq!(info["email"], "doctor.notes@projectkeep.io");
    assert!(info.get("phone_number").is_none(), "{info}");

    // An optional scope, asked for: granted, listed, its claims released.
    let body = app.password_grant("openid phone address").await;
    assert_eq!(body["scope"], "openid phone address");
    let info = userinfo(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(info["phone_number"], "+41 1");
    assert_eq!(info["address"], json!({"locality": "Zurich"}));
    // A known scope the client does not offer is dropped.
    let body = app.password_grant("openid offline_access").await;
    assert_eq!(body["scope"], "openid");

    // Refresh: the defaults apply again.
    let resp = app
        .refresh_grant(body["refresh_token"].as_str().unwrap())
        .await;
    assert_eq!(resp.status(), 200);
    let refreshed: Value = resp.json().await.unwrap();
    assert_eq!(refreshed["scope"], "openid");
    let access = verify_with_jwks(
        refreshed["access_token"].as_str().unwrap(),
        &jwks,
        &app.issuer(),
    );
    assert!(realm_roles(&access).contains(&"offline_access".to_owned()));

    // Authorization code.
    let done = login_through_form(&app, &[("scope", "openid")]).await;
    let code = query(&done.redirect, "code").unwrap();
    let resp = exchange(&app, &code, VERIFIER).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "openid");
    let id = verify_with_jwks_for(
        body["id_token"].as_str().unwrap(),
        &jwks,
        &app.issuer(),
        "domino-play",
    );
    assert_eq!(id["email"], "doctor.notes@projectkeep.io");
    let access = verify_with_jwks(body["access_token"].as_str().unwrap(), &jwks, &app.issuer());
    assert!(!realm_roles(&access).is_empty());

    // No scope at all: the user's Keep scopes and the listed defaults.
    let resp = app
        .oidc_post(
            "token",
            &[
                ("grant_type", "password"),
                ("username", "doc"),
                ("password", PASSWORD),
            ],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "MAIL $DATA profile email");
}

#[tokio::test]
async fn a_client_without_default_scopes_gets_no_unasked_claims() {
    let app = spawn_app().await;
    app.add_doc().await;
    app.add_client(ClientSpec {
        default_scopes: vec![],
        optional_scopes: vec![],
        ..play_client()
    })
    .await;
    let body = app.password_grant("openid phone").await;
    assert_eq!(body["scope"], "openid", "phone is not offered");
    let access = verify_with_jwks(
        body["access_token"].as_str().unwrap(),
        &app.jwks().await,
        &app.issuer(),
    );
    assert!(access.get("realm_access").is_none(), "{access}");
    let info = userinfo(&app, body["access_token"].as_str().unwrap()).await;
    assert!(info.get("email").is_none(), "{info}");
}

#[tokio::test]
async fn roles_come_from_users_groups_composites_and_service_accounts() {
    let app = app_with_keycloak_play().await;
    let store = app.state.store.as_ref();
    app.add_client(svc_client()).await;
    let spec = |name: &str, client: Option<&str>, composites: &[&str]| RoleSpec {
        name: name.into(),
        client: client.map(str::to_owned),
        composites: composites.iter().map(|s| s.to_string()).collect(),
        ..RoleSpec::default()
    };
    roles::create(store, &spec("admin", None, &["editor", "svc:call"]))
        .await
        .unwrap();
    roles::create(store, &spec("editor", None, &["admin"]))
        .await
        .unwrap();
    roles::create(store, &spec("call", Some("svc"), &[]))
        .await
        .unwrap();
    // A client role of a client that does not exist is refused.
    assert!(
        roles::create(store, &spec("x", Some("nope"), &[]))
            .await
            .is_err()
    );
    // Granting a role that does not exist is refused.
    let group = HolderName::Group("/staff".into());
    assert!(
        roles::grant(store, REALM, &group, &RoleRef::realm("ghost"))
            .await
            .is_err()
    );
    roles::grant(store, REALM, &group, &RoleRef::realm("admin"))
        .await
        .unwrap();

    // doc is not in /staff yet: only the default roles.
    let claims = |body: &Value| {
        let token = body["access_token"].as_str().unwrap().to_owned();
        let app = &app;
        async move { verify_with_jwks(&token, &app.jwks().await, &app.issuer()) }
    };
    let access = claims(&app.password_grant("openid").await).await;
    assert!(!realm_roles(&access).contains(&"admin".to_owned()));
    assert_eq!(access["aud"], "Domino");

    // In a subgroup of /staff: admin (inherited), editor and svc:call
    // (composites, the cycle back to admin ends), and svc joins `aud`.
    let mut doc = app.state.store.get_user("doc").await.unwrap().unwrap();
    doc.groups = vec!["/staff/night".into()];
    let user = HolderName::User("doc".into());
    let user_holder = roles::resolve(store, &user).await.unwrap();
    let direct = roles::of_user(store, REALM, &doc).await.unwrap();
    assert!(direct.realm.contains("admin") && direct.realm.contains("editor"));
    assert!(direct.clients["svc"].contains("call"));
    // Through the store: a direct grant shows in the next token.
    roles::grant(store, REALM, &user, &RoleRef::realm("editor"))
        .await
        .unwrap();
    let access = claims(&app.password_grant("openid").await).await;
    assert!(realm_roles(&access).contains(&"editor".to_owned()));
    assert_eq!(access["resource_access"]["svc"]["roles"], json!(["call"]));
    assert_eq!(access["aud"], json!(["Domino", "svc"]));
    roles::revoke(store, &user, &RoleRef::realm("editor"))
        .await
        .unwrap();
    assert!(
        roles::revoke(store, &user, &RoleRef::realm("editor"))
            .await
            .is_err(),
        "revoking twice"
    );
    let grants = roles::grants(store).await.unwrap();
    assert!(!grants.iter().any(|g| g.holder == user_holder));
    let access = claims(&app.password_grant("openid").await).await;
    assert!(access.get("resource_access").is_none(), "{access}");

    // A service account holds its roles and the default roles.
    roles::grant(
        store,
        REALM,
        &HolderName::Client("svc".into()),
        &RoleRef::realm("admin"),
    )
    .await
    .unwrap();
    let resp = app.svc_grant().await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "profile email");
    let access = claims(&body).await;
    let held = realm_roles(&access);
    assert!(held.contains(&"admin".to_owned()) && held.contains(&"offline_access".to_owned()));
    // Its own client's roles are no extra audience.
    assert_eq!(access["resource_access"]["svc"]["roles"], json!(["call"]));
    assert_eq!(access["aud"], "Domino");

    // Removing a role removes its grants.
    roles::remove(store, &RoleRef::realm("admin"))
        .await
        .unwrap();
    let resp = app.svc_grant().await;
    let access = claims(&resp.json::<Value>().await.unwrap()).await;
    assert!(!realm_roles(&access).contains(&"admin".to_owned()));
}
