//! `http_relative_path = "/"`: Keycloak 17's layout, realms at
//! `/realms/<realm>` (what python-keycloak's `server_url="<base>/"` and
//! keycloak-js with a bare URL expect). The issuer, discovery, JWKS, the
//! grants, the login form and its cookies all move; `/auth/realms/...` is
//! not served; Keep's `/auth` login stays where it is.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::oidc_flow::{
    VERIFIER, authorize_url_at, location, query, set_cookie_header, submit_login,
};

#[tokio::test]
async fn realms_move_to_the_root_and_keeps_login_stays() {
    let app = spawn_with(|c| c.http_relative_path = "/".into()).await;
    app.add_doc_and_play().await;
    let issuer = format!("{}/realms/DominoRealm", app.base);
    let oidc = format!("{issuer}/protocol/openid-connect");

    let disco: Value = app
        .get_json("/realms/DominoRealm/.well-known/openid-configuration")
        .await;
    assert_eq!(disco["issuer"], issuer.as_str());
    assert_eq!(disco["token_endpoint"], format!("{oidc}/token"));
    assert_eq!(disco["jwks_uri"], format!("{oidc}/certs"));
    let realm: Value = app.get_json("/realms/DominoRealm").await;
    assert_eq!(realm["token-service"], oidc.as_str());
    assert_eq!(
        app.get("/realms/DominoRealm/protocol/openid-connect/certs")
            .await
            .status(),
        200
    );
    // The old layout is not served.
    expect_error(app.get("/auth/realms/DominoRealm").await, 404).await;
    expect_error(
        app.get("/auth/realms/DominoRealm/protocol/openid-connect/certs")
            .await,
        404,
    )
    .await;

    // A grant at the new token endpoint; the token names the new issuer.
    let tokens: Value = app
        .client
        .post(format!("{oidc}/token"))
        .basic_auth("domino-play", Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "password"),
            ("username", "doc"),
            ("password", PASSWORD),
            ("scope", "openid profile"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let claims = verify_with_jwks(access, &disco_jwks(&app).await, &issuer);
    assert_eq!(claims["iss"], issuer.as_str());
    let info = app
        .client
        .get(format!("{oidc}/userinfo?"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200);

    // The login form, its cookies and the code flow under the new path.
    let (resp, _) = submit_login(&authorize_url_at(&format!("{oidc}/auth"), &[]), PASSWORD).await;
    assert_eq!(resp.status(), 303);
    let cookie = set_cookie_header(&resp, "DOMINO_IDP_SESSION").unwrap();
    assert!(cookie.contains("Path=/realms/DominoRealm/"), "{cookie}");
    let code = query(&location(&resp), "code").unwrap();
    let exchanged = app
        .client
        .post(format!("{oidc}/token"))
        .basic_auth("domino-play", Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(exchanged.status(), 200);

    // Keep's login stays at /auth, and names the new issuer.
    let keep: Value = app
        .post_json("/auth", &json!({"username": "doc", "password": PASSWORD}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(keep["claims"]["iss"], issuer.as_str());

    // The OpenAPI document names the routes where they are.
    let doc: Value = app.get_json("/openapi.json").await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/realms/{realm}/protocol/openid-connect/token"));
    assert!(
        !paths.keys().any(|p| p.starts_with("/auth/realms")),
        "{:?}",
        paths.keys()
    );
    assert!(paths.contains_key("/auth"), "Keep's login stays");
}

async fn disco_jwks(app: &TestApp) -> Value {
    app.get_json("/realms/DominoRealm/protocol/openid-connect/certs")
        .await
}

#[tokio::test]
async fn a_bad_relative_path_is_refused_with_the_fix() {
    for bad in ["auth", "/auth/", "/../x", "/a b", "//x"] {
        let config = domino_idp::config::Config {
            http_relative_path: bad.into(),
            ..Default::default()
        };
        let err = config.validate().unwrap_err();
        assert!(
            err.problems
                .iter()
                .any(|p| p.contains("http_relative_path")),
            "{bad}: {:?}",
            err.problems
        );
    }
}
