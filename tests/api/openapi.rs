//! `GET /openapi.json`: valid JSON, the crate's version, and exactly the
//! routes the router serves (scripts/schemathesis.sh fuzzes against it).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::*;

/// Every route of `build_router`, as "METHOD /path/template". A router
/// cannot be listed, so this list stands in for it: the document must name
/// exactly these, and the server must serve each (`every_route_is_served`).
/// A new route belongs here, in its `#[utoipa::path]`, and so in the document.
const ROUTES: &[&str] = &[
    "POST /auth",
    "POST /api/v1/auth",
    "GET /version",
    "GET /v4/users/self",
    "GET /v4/users",
    "GET /v4/auth/principal",
    "GET /auth/realms/{realm}",
    "OPTIONS /auth/realms/{realm}",
    "GET /auth/realms/{realm}/protocol/openid-connect/certs",
    "OPTIONS /auth/realms/{realm}/protocol/openid-connect/certs",
    "GET /auth/realms/{realm}/.well-known/openid-configuration",
    "OPTIONS /auth/realms/{realm}/.well-known/openid-configuration",
    "GET /.well-known/openid-configuration",
    "OPTIONS /.well-known/openid-configuration",
    "POST /auth/realms/{realm}/protocol/openid-connect/token",
    "OPTIONS /auth/realms/{realm}/protocol/openid-connect/token",
    "GET /auth/realms/{realm}/protocol/openid-connect/auth",
    "POST /auth/realms/{realm}/protocol/openid-connect/auth",
    "POST /auth/realms/{realm}/login-actions/authenticate",
    "GET /auth/realms/{realm}/protocol/openid-connect/userinfo",
    "POST /auth/realms/{realm}/protocol/openid-connect/userinfo",
    "OPTIONS /auth/realms/{realm}/protocol/openid-connect/userinfo",
    "POST /auth/realms/{realm}/protocol/openid-connect/token/introspect",
    "OPTIONS /auth/realms/{realm}/protocol/openid-connect/token/introspect",
    "POST /auth/realms/{realm}/protocol/openid-connect/revoke",
    "OPTIONS /auth/realms/{realm}/protocol/openid-connect/revoke",
    "GET /auth/realms/{realm}/protocol/openid-connect/logout",
    "POST /auth/realms/{realm}/protocol/openid-connect/logout",
    "OPTIONS /auth/realms/{realm}/protocol/openid-connect/logout",
    "GET /auth/realms/{realm}/protocol/openid-connect/3p-cookies/step1.html",
    "GET /auth/realms/{realm}/protocol/openid-connect/3p-cookies/step1.js",
    "GET /auth/realms/{realm}/protocol/openid-connect/3p-cookies/step2.html",
    "GET /auth/realms/{realm}/protocol/openid-connect/3p-cookies/step2.js",
    "GET /auth/realms/{realm}/protocol/openid-connect/login-status-iframe.html",
    "GET /auth/realms/{realm}/protocol/openid-connect/login-status-iframe.js",
    "GET /auth/realms/{realm}/protocol/openid-connect/login-status-iframe.html/init",
    "GET /health/live",
    "GET /health/ready",
    "GET /metrics",
    "GET /openapi.json",
];

fn routes() -> impl Iterator<Item = (&'static str, &'static str)> {
    ROUTES
        .iter()
        .map(|r| r.split_once(' ').expect("METHOD /path"))
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn document(app: &TestApp) -> Value {
    let resp = app.get("/openapi.json").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let text = resp.text().await.expect("body");
    serde_json::from_str(&text).expect("the document is JSON")
}

#[tokio::test]
async fn documents_every_route_and_the_crate_version() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));

    let paths = doc["paths"].as_object().expect("paths");
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| ((*m).to_owned(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = routes()
        .map(|(m, p)| (m.to_ascii_lowercase(), p.to_owned()))
        .collect();
    assert_eq!(
        documented, routed,
        "the document and the router disagree (documented vs routed)"
    );

    for (path, item) in paths {
        if path.contains("{realm}") {
            let realm = &item["parameters"][0];
            assert_eq!(realm["name"], "realm", "{path}");
            assert_eq!(realm["in"], "path", "{path}");
            assert_eq!(
                realm["schema"]["enum"],
                serde_json::json!(["DominoRealm"]),
                "{path}"
            );
        }
    }
}

#[tokio::test]
async fn the_realm_in_the_document_is_the_configured_one() {
    let app = spawn_with(|c| c.realm = "Elsewhere".into()).await;
    let doc = document(&app).await;
    let realm = &doc["paths"]["/auth/realms/{realm}"]["parameters"][0]["schema"]["enum"];
    assert_eq!(realm, &serde_json::json!(["Elsewhere"]));
}

/// Each listed route reaches a handler: neither the router's 404 fallback
/// nor its 405. Its answer carries `Cache-Control: no-store` exactly when
/// the document says its successful answers do (but for an `OPTIONS`
/// without `Origin`, which is no preflight: a real one is the CORS
/// middleware's, outside the routes' layers).
#[tokio::test]
async fn every_route_is_served() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    for (method, path) in routes() {
        let documented = doc["paths"][path][method.to_lowercase()]["responses"]
            .as_object()
            .expect("documented")
            .values()
            .any(|r| r["headers"]["Cache-Control"]["description"] == "`no-store`");
        let url = app.url(&path.replace("{realm}", "DominoRealm"));
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let resp = app
            .client
            .request(method.clone(), &url)
            .send()
            .await
            .expect("request sent");
        let status = resp.status().as_u16();
        let no_store = resp
            .headers()
            .get("cache-control")
            .is_some_and(|v| v == "no-store");
        if method != reqwest::Method::OPTIONS {
            assert_eq!(no_store, documented, "{method} {path}: Cache-Control");
        }
        let body = resp.text().await.unwrap_or_default();
        assert_ne!(status, 405, "{method} {path}: {body}");
        assert!(
            !body.contains("no endpoint at") && !body.contains("Realm does not exist"),
            "{method} {path} is not served: {body}"
        );
    }
}
