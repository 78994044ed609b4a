//! express-jwt + jwks-rsa (tests/node, unmodified) as a resource server in
//! front of the issuer: it accepts our access tokens from the JWKS and
//! refuses a refresh token (HS512 under a key the JWKS never publishes), an
//! ID token (another audience) and garbage. Needs node and
//! tests/node/node_modules (scripts/test.sh).

use crate::node::NodeApp;
use crate::process::ServerProcess;
use crate::seeded::{Http, config};

fn node_app(server: &ServerProcess) -> NodeApp {
    let issuer = server.url("/auth/realms/DominoRealm");
    NodeApp::start(
        "express_jwt_app.js",
        "express-jwt",
        &[
            (
                "JWKS_URI",
                format!("{issuer}/protocol/openid-connect/certs"),
            ),
            ("ISSUER", issuer),
            ("AUDIENCE", "Domino".into()),
        ],
    )
}

#[tokio::test]
async fn express_jwt_accepts_access_tokens_and_refuses_refresh_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cfg = config(dir, "");
    let server = ServerProcess::start(dir, &cfg);
    let app = node_app(&server);
    let api = Http::of(&server);
    let body = api.grant("doc", "openid").await;

    let (status, seen) = app.call(body["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["typ"], "Bearer");
    assert_eq!(seen["azp"], "domino-play");
    let keep = api.keep("doc").await;
    assert_eq!(app.call(&keep).await.0, 200);

    for (what, token) in [
        ("refresh token", body["refresh_token"].as_str().unwrap()),
        ("ID token", body["id_token"].as_str().unwrap()),
        ("garbage", "e30.e30.c2ln"),
    ] {
        let (status, seen) = app.call(token).await;
        assert_eq!(status, 401, "{what}: {seen}");
        assert_eq!(seen["error"], "invalid_token", "{what}: {seen}");
    }
}
