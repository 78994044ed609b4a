//! Refresh tokens as Keycloak shapes them: HS512 JWTs with `typ: "Refresh"`
//! that the JWKS cannot verify, readable by clients, and trusted only
//! through the store (single use; a well-signed one not in the store is
//! refused; an opaque one from before keeps working).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domino_idp::clock::Clock as _;
use domino_idp::domain::opaque;
use domino_idp::store::RefreshRecord;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::*;

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn refresh_tokens_are_hs512_jwts_that_the_jwks_cannot_verify() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let body = app.password_grant("openid").await;
    let rt = body["refresh_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(rt).unwrap();
    assert_eq!(header.alg, Algorithm::HS512);
    let claims = payload(rt);
    let issuer = app.issuer();
    assert_eq!(claims["typ"], "Refresh");
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["aud"], issuer);
    assert_eq!(claims["azp"], "domino-play");
    assert_eq!(claims["sub"], "CN=Doctor Notes/O=ProjectKeep");
    assert_eq!(claims["sid"], body["session_state"]);
    assert_eq!(claims["session_state"], body["session_state"]);
    assert_eq!(claims["scope"], body["scope"]);
    assert!(claims["jti"].is_string());
    let ttl = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(ttl, body["refresh_expires_in"].as_i64().unwrap());
    // Not a key the JWKS publishes, so no resource server takes it.
    let jwks = app.jwks().await;
    let kids: Vec<&Value> = jwks["keys"].as_array().unwrap().iter().collect();
    assert!(kids.iter().all(|k| k["kty"] == "RSA"));
    let resp = app
        .client
        .get(app.oidc("userinfo"))
        .bearer_auth(rt)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Rotated on use; its successor is a JWT too; the spent one is refused.
    let next: Value = app.refresh_grant(rt).await.json().await.unwrap();
    let rt2 = next["refresh_token"].as_str().unwrap();
    assert_eq!(payload(rt2)["typ"], "Refresh");
    assert_ne!(payload(rt2)["jti"], claims["jti"]);
    assert_eq!(payload(rt2)["sid"], claims["sid"]);
    expect_oauth_error(app.refresh_grant(rt).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn introspection_reads_a_refresh_jwt_from_the_store() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let body = app.password_grant("openid").await;
    let rt = body["refresh_token"].as_str().unwrap();
    let info = app.play_introspect(rt).await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["typ"], "Refresh");
    assert_eq!(info["token_type"], "Refresh");
    assert_eq!(info["client_id"], "domino-play");
    assert_eq!(info["sid"], body["session_state"]);
    assert_eq!(info["username"], "doc");
    // Spent: inactive, although its signature still holds.
    let _ = app.refresh_grant(rt).await;
    assert_eq!(app.play_introspect(rt).await["active"], false);
}

/// The store is the authority: the realm secret itself cannot make a
/// refresh token the store does not hold.
#[tokio::test]
async fn a_well_signed_refresh_jwt_the_store_does_not_hold_is_refused() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let body = app.password_grant("openid").await;
    let rt = body["refresh_token"].as_str().unwrap();
    // The secret every instance shares; offering another does not replace it.
    let secret = app
        .state
        .store
        .realm_secret("refresh-token-hs512", "not-this-one", 0)
        .await
        .unwrap();
    let secret = URL_SAFE_NO_PAD.decode(secret).unwrap();
    let mut claims = payload(rt);
    claims["jti"] = json!(uuid::Uuid::new_v4().to_string());
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims,
        &EncodingKey::from_secret(&secret),
    )
    .unwrap();
    // Both verify with the realm's key...
    let mut v = jsonwebtoken::Validation::new(Algorithm::HS512);
    v.set_audience(&[app.issuer()]);
    for token in [rt, forged.as_str()] {
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(&secret), &v)
            .expect("signed with the realm's refresh key");
    }
    // ...and counts for nothing.
    expect_oauth_error(app.refresh_grant(&forged).await, 400, "invalid_grant").await;
    assert_eq!(app.play_introspect(&forged).await["active"], false);
    // The real one is untouched by the attempt.
    assert_eq!(app.refresh_grant(rt).await.status(), 200);
}

/// A refresh token issued before refresh tokens were JWTs (an opaque
/// string whose digest is stored) keeps working until it expires.
#[tokio::test]
async fn an_opaque_refresh_token_from_before_the_upgrade_still_works() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let body = app.password_grant("openid").await;
    let sid = body["session_state"].as_str().unwrap();
    let user = app.state.store.get_user("doc").await.unwrap().unwrap();
    let now = app.clock.now();
    let legacy = opaque::generate();
    app.state
        .store
        .insert_refresh(&RefreshRecord {
            token_hash: opaque::digest(&legacy),
            family_id: uuid::Uuid::new_v4().to_string(),
            session_id: sid.to_owned(),
            client_id: "domino-play".parse().unwrap(),
            user_id: user.id.clone(),
            scope: "openid".into(),
            auth_time: now,
            issued_at: now,
            expires_at: now + 600,
            used_at: None,
            revoked_at: None,
        })
        .await
        .unwrap();
    assert_eq!(app.play_introspect(&legacy).await["active"], true);
    let resp = app.refresh_grant(&legacy).await;
    assert_eq!(resp.status(), 200);
    let next: Value = resp.json().await.unwrap();
    assert_eq!(
        payload(next["refresh_token"].as_str().unwrap())["typ"],
        "Refresh"
    );
    expect_oauth_error(app.refresh_grant(&legacy).await, 400, "invalid_grant").await;
}
