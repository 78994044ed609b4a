//! keycloak-connect (Keycloak's Node adapter), unmodified, as a bearer-only
//! resource server in front of the issuer (tests/node/keycloak_connect_app.js):
//! it accepts this issuer's access tokens (it requires `typ: "Bearer"`, the
//! realm URL as `iss`, a key from the JWKS), the Keep token included; it
//! refuses ID tokens, foreign audiences when it verifies the audience, and
//! garbage; its role guards (`protect('realm:admin')`, `protect('app:role')`)
//! read the roles where Keycloak puts them. Needs node and tests/node/node_modules (scripts/test.sh).

use serde_json::Value;

use crate::node::NodeApp;
use crate::process::ServerProcess;
use crate::seeded::{Http, config};

fn node_app(server: &ServerProcess, resource: &str, verify_audience: bool) -> NodeApp {
    NodeApp::start(
        "keycloak_connect_app.js",
        "keycloak-connect",
        &[
            ("AUTH_SERVER_URL", server.url("/auth")),
            ("REALM", "DominoRealm".into()),
            ("RESOURCE", resource.into()),
            ("VERIFY_AUDIENCE", verify_audience.to_string()),
        ],
    )
}

#[tokio::test]
async fn keycloak_connect_accepts_our_access_tokens_and_only_those() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cfg = config(
        dir,
        r#"
[[mappers]]
name = "api-audience"
type = "audience"
audience = "orders-api"
clients = ["domino-play"]
"#,
    );
    let server = ServerProcess::start(dir, &cfg);
    let api = Http::of(&server);
    let app = node_app(&server, "orders-api", false);

    let tokens = api.grant("doc", "openid profile email").await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, body) = app.call(access).await;
    assert_eq!(status, 200, "an access token: {body}");
    assert_eq!(body["user"], "doc");
    assert_eq!(body["typ"], "Bearer");
    // The Keep token is an access token too.
    let (status, body) = app.call(&api.keep("doc").await).await;
    assert_eq!(status, 200, "a Keep token: {body}");
    // An ID token is not, and garbage is nothing.
    let (status, _) = app.call(tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(status, 403);
    let (status, _) = app.call("e30.e30.c2ln").await;
    assert_eq!(status, 403);

    // With audience verification, only tokens meant for the resource pass:
    // domino-play's carry `orders-api` (the audience mapper), Keep's do not.
    let strict = node_app(&server, "orders-api", true);
    let (status, body) = strict.call(access).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = strict.call(&api.keep("doc").await).await;
    assert_eq!(status, 403);
}

/// Roles as Keycloak has them, read by keycloak-connect's own guards: a realm
/// role held through a parent group, a client role held through a composite,
/// a service account's role; and the audience Keycloak's audience resolve
/// gives a token carrying a client's roles.
#[tokio::test]
async fn keycloak_connect_role_guards_and_audience() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cfg = config(
        dir,
        &format!(
            r#"
[[users]]
username = "chief"
password = "{password}"
email = "chief@projectkeep.io"
groups = ["/staff/admins/night"]
roles = ["orders-api:manager"]

[[clients]]
client_id = "orders-api"
secret = "orders-api-secret-0123456789"
grant_types = ["client_credentials"]

[[clients]]
client_id = "orders-worker"
secret = "orders-worker-secret-0123456789"
grant_types = ["client_credentials"]
service_account_roles = ["admin"]

[[roles]]
name = "admin"

[[roles]]
name = "role"
client = "orders-api"

[[roles]]
name = "manager"
client = "orders-api"
composites = ["orders-api:role"]

[[groups]]
path = "/staff/admins"
roles = ["admin"]
"#,
            password = crate::helpers::PASSWORD
        ),
    );
    let server = ServerProcess::start(dir, &cfg);
    let api = Http::of(&server);
    let app = node_app(&server, "orders-api", false);

    let chief = api.grant("chief", "openid").await;
    let chief = chief["access_token"].as_str().unwrap();
    let doc = api.grant("doc", "openid").await;
    let doc = doc["access_token"].as_str().unwrap();

    // A realm role through the parent of the user's group.
    let (status, body) = app.call_at("/admin", chief).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = app.call_at("/admin", doc).await;
    assert_eq!(status, 403, "doc is no admin");
    // A client role through a composite.
    let (status, body) = app.call_at("/role", chief).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = app.call_at("/role", doc).await;
    assert_eq!(status, 403, "doc has no role of orders-api");
    // The Keep token carries no roles (it has no client scopes).
    let (status, _) = app.call_at("/admin", &api.keep("chief").await).await;
    assert_eq!(status, 403);

    // A service account's realm role.
    let resp = api
        .http
        .post(api.oidc("token"))
        .basic_auth("orders-worker", Some("orders-worker-secret-0123456789"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let worker: Value = resp.json().await.unwrap();
    let worker = worker["access_token"].as_str().unwrap();
    let (status, body) = app.call_at("/admin", worker).await;
    assert_eq!(status, 200, "{body}");

    // Audience verification: chief's token carries orders-api's roles, so
    // orders-api is in its `aud`; doc's and the worker's are not for it.
    let strict = node_app(&server, "orders-api", true);
    let (status, body) = strict.call_at("/role", chief).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = strict.call(doc).await;
    assert_eq!(status, 403, "doc's token is not for orders-api");
    let (status, _) = strict.call(worker).await;
    assert_eq!(status, 403, "the worker's token is not for orders-api");
}
