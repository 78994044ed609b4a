//! Keep login (`POST /auth`, `POST /api/v1/auth`): the happy paths and refusals.

use serde_json::{Value, json};

use crate::helpers::*;
use domino_idp::config::{Secret, SubjectKind};
use domino_idp::domain::user::UserSpec;

fn payload_of(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .expect("decodes")
        .claims
}

#[tokio::test]
async fn login_returns_the_keep_response() {
    let app = spawn_app().await;
    app.add_doc().await;
    let resp = app.login("doc", PASSWORD).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.headers()["pragma"], "no-cache");
    let body: Value = resp.json().await.unwrap();
    let bearer = body["bearer"].as_str().unwrap();
    let claims = &body["claims"];
    // `claims` is exactly the JWT payload.
    assert_eq!(&payload_of(bearer), claims);
    assert_eq!(claims["iss"], app.issuer());
    assert_eq!(claims["sub"], "CN=Doctor Notes/O=ProjectKeep");
    assert_eq!(claims["CN"], "CN=Doctor Notes/O=ProjectKeep");
    assert_eq!(claims["aud"], "Domino");
    assert_eq!(claims["scope"], "MAIL $DATA");
    assert_eq!(claims["email"], "doctor.notes@projectkeep.io");
    assert_eq!(claims["name"], "Doctor Notes");
    assert_eq!(claims["preferred_username"], "doc");
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    let iat = claims["iat"].as_i64().unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    assert_eq!(exp - iat, 300);
    assert_eq!(body["expSeconds"], 300);
    assert_eq!(body["leeway"], 5);
    let issue_date = time::OffsetDateTime::parse(
        body["issueDate"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(issue_date.unix_timestamp(), iat);
    // Header: RS256, JWT, the signer's kid.
    let header = jsonwebtoken::decode_header(bearer).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.kid.as_deref(), Some(app.state.keys.signer().kid()));
}

#[tokio::test]
async fn api_v1_auth_and_form_bodies_work_too() {
    let app = spawn_app().await;
    app.add_doc().await;
    let resp = app
        .client
        .post(app.url("/api/v1/auth"))
        .form(&[("username", "doc"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["claims"]["sub"], "CN=Doctor Notes/O=ProjectKeep");
    let resp = app
        .client
        .post(app.url("/auth"))
        .header("content-type", "application/json; charset=utf-8")
        .body(json!({"username": "doc", "password": PASSWORD}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn login_by_email_and_any_case() {
    let app = spawn_app().await;
    app.add_doc().await;
    for name in ["DOC", "Doctor.Notes@ProjectKeep.io", "ｄｏｃ", " doc "] {
        let resp = app.login(name, PASSWORD).await;
        assert_eq!(resp.status(), 200, "login as {name:?}");
    }
}

#[tokio::test]
async fn wrong_password_unknown_user_and_disabled_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.add_doc().await;
    app.add_user(UserSpec {
        username: "gone".into(),
        password: Some(Secret::new(PASSWORD)),
        enabled: false,
        ..Default::default()
    })
    .await;
    let mut bodies = Vec::new();
    for (user, pw) in [("doc", "wrong"), ("nobody", PASSWORD), ("gone", PASSWORD)] {
        let body = expect_error(app.login(user, pw).await, 401).await;
        bodies.push(body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    assert_eq!(bodies[0]["message"], "invalid username or password");
}

#[tokio::test]
async fn scope_narrowing_drops_what_the_user_lacks() {
    let app = spawn_app().await;
    app.add_doc().await;
    let body: Value = app
        .post_json(
            "/auth",
            &json!({"username": "doc", "password": PASSWORD, "scope": "$DATA ADMIN"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["claims"]["scope"], "$DATA");
    let body: Value = app
        .post_json(
            "/auth",
            &json!({"username": "doc", "password": PASSWORD, "scope": "ADMIN"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["claims"]["scope"], "");
}

#[tokio::test]
async fn lifetime_is_clamped_to_max_jwt_duration() {
    let app = spawn_with(|c| {
        c.access_token_ttl = 900;
        c.max_jwt_duration = 600;
    })
    .await;
    app.add_doc().await;
    let body: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    assert_eq!(body["expSeconds"], 600);
    let claims = &body["claims"];
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    let body: Value = app
        .post_json(
            "/auth",
            &json!({"username": "doc", "password": PASSWORD, "expSeconds": 86400}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["expSeconds"], 600);
    let body: Value = app
        .post_json(
            "/auth",
            &json!({"username": "doc", "password": PASSWORD, "expSeconds": 60}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["expSeconds"], 60);
}

#[tokio::test]
async fn subject_and_audience_follow_config() {
    let app = spawn_with(|c| {
        c.subject = SubjectKind::Username;
        c.audience = "MyApi".into();
    })
    .await;
    app.add_doc().await;
    let body: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    assert_eq!(body["claims"]["sub"], "doc");
    assert_eq!(body["claims"]["CN"], "CN=Doctor Notes/O=ProjectKeep");
    assert_eq!(body["claims"]["aud"], "MyApi");
}

#[tokio::test]
async fn user_without_org_or_email() {
    let app = spawn_app().await;
    app.add_user(UserSpec {
        username: "plain".into(),
        password: Some(Secret::new(PASSWORD)),
        ..Default::default()
    })
    .await;
    let body: Value = app.login("plain", PASSWORD).await.json().await.unwrap();
    assert_eq!(body["claims"]["sub"], "CN=plain");
    assert!(body["claims"].get("email").is_none());
}

#[tokio::test]
async fn an_outdated_hash_is_upgraded_on_login() {
    let app = spawn_app().await;
    // A valid argon2id hash with weaker parameters than the defaults.
    let weak = domino_idp::domain::password::PasswordHasher::with_params(
        argon2::Params::new(1024, 1, 1, None).unwrap(),
        1,
    )
    .await
    .unwrap();
    let hash = weak
        .hash(&domino_idp::domain::user::Password::parse(PASSWORD).unwrap())
        .await
        .unwrap();
    app.add_user(UserSpec {
        username: "old".into(),
        password_hash: Some(Secret::new(hash.clone())),
        ..Default::default()
    })
    .await;
    assert_eq!(app.login("old", PASSWORD).await.status(), 200);
    let stored = app.state.store.get_user("old").await.unwrap().unwrap();
    assert_ne!(stored.password_hash.0, hash);
    assert!(
        stored
            .password_hash
            .0
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    assert_eq!(app.login("old", PASSWORD).await.status(), 200);
}
