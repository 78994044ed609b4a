//! The Domino Data Lab side (seeds 000 and 001): the identity endpoints at
//! the root, the built-in `domino-play` client, and the token exchange of an
//! API key for a Domino Token (RFC 8693), as the agent and the proxy call it.

use std::collections::BTreeSet;
use std::time::Duration;

use domino_idp::domain::client::Client;
use domino_idp::domain::mapper::MapperSpec;
use domino_idp::domain::user::UserSpec;
use serde_json::{Value, json};

use crate::clients::public_client;
use crate::helpers::*;

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const API_KEY: &str = "urn:domino:params:oauth:token-type:api-key";

/// The `domino-play` client as the store holds it, if it does.
async fn domino_play(app: &TestApp) -> Option<Client> {
    app.state.store.get_client("domino-play").await.unwrap()
}

/// A key for `username`, made by the operation the CLI calls.
async fn key_for(app: &TestApp, username: &str) -> String {
    domino_idp::app::apikeys::create(app.state.store.as_ref(), username, None, None, 0)
        .await
        .expect("key created")
        .key
}

/// The agent's request, exactly: the built-in public `domino-play`, no secret.
async fn exchange(app: &TestApp, key: &str) -> reqwest::Response {
    app.oidc_post(
        "token",
        &[
            ("grant_type", EXCHANGE),
            ("subject_token", key),
            ("subject_token_type", API_KEY),
            ("client_id", "domino-play"),
        ],
        None,
    )
    .await
}

/// The same at the helpers' confidential `domino-play` (`play_client()`).
async fn exchange_confidential(app: &TestApp, key: &str) -> reqwest::Response {
    app.oidc_post(
        "token",
        &[
            ("grant_type", EXCHANGE),
            ("subject_token", key),
            ("subject_token_type", API_KEY),
        ],
        Some(("domino-play", CLIENT_SECRET)),
    )
    .await
}

async fn domino_token(app: &TestApp, key: &str) -> String {
    token_of(exchange(app, key).await).await
}

async fn token_of(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn get_with(app: &TestApp, path: &str, header: (&str, &str)) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header(header.0, header.1)
        .send()
        .await
        .unwrap()
}

fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

fn keys_of(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn mapper(spec: Value) -> MapperSpec {
    serde_json::from_value(spec).unwrap()
}

#[tokio::test]
async fn version_needs_no_credentials_and_ignores_bogus_ones() {
    let app = spawn_app().await;
    for header in [
        ("x-unused", "1"),
        ("x-domino-api-key", "dik_bogus"),
        ("authorization", "Bearer not-a-token"),
        ("authorization", "Basic Zm9vOmJhcg=="),
    ] {
        let resp = get_with(&app, "/version", header).await;
        assert_eq!(resp.status(), 200, "{header:?}");
        assert_eq!(
            resp.json::<Value>().await.unwrap(),
            json!({"version": "6.2.0"})
        );
    }
    let app = spawn_with(|c| c.domino_api_version = "7.1.3".into()).await;
    let body: Value = app.get_json("/version").await;
    assert_eq!(body, json!({"version": "7.1.3"}));
}

#[tokio::test]
async fn users_self_answers_for_an_api_key_a_domino_token_and_a_keep_token() {
    let app = spawn_app().await;
    app.add_doc().await;
    let key = key_for(&app, "doc").await;
    let by_key: Value = get_with(&app, "/v4/users/self", ("X-Domino-Api-Key", &key))
        .await
        .json()
        .await
        .unwrap();
    let user = app.state.store.get_user("doc").await.unwrap().unwrap();
    assert_eq!(
        by_key,
        json!({"firstName": "Doctor", "lastName": "Notes", "fullName": "Doctor Notes",
               "userName": "doc", "email": "doctor.notes@projectkeep.io", "avatarUrl": "",
               "id": user.id})
    );
    let token = domino_token(&app, &key).await;
    let (name, value) = bearer(&token);
    let resp = get_with(&app, "/v4/users/self", (name, &value)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert_eq!(resp.json::<Value>().await.unwrap(), by_key);
    let keep: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    let (name, value) = bearer(keep["bearer"].as_str().unwrap());
    let resp = get_with(&app, "/v4/users/self", (name, &value)).await;
    assert_eq!(resp.json::<Value>().await.unwrap(), by_key);
    // No credentials: 401 in the application's shape, with a challenge.
    let resp = app.get("/v4/users/self").await;
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer realm=\"DominoRealm\""
    );
    let body = expect_error(resp, 401).await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("X-Domino-Api-Key")
    );
}

#[tokio::test]
async fn bearer_tokens_are_checked_as_a_resource_server_would() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let key = key_for(&app, "doc").await;
    let good = token_of(exchange_confidential(&app, &key).await).await;
    let claims = verify_with_jwks(&good, &app.jwks().await, &app.issuer());
    let kid = app.state.keys.signer().kid().to_owned();
    let resign = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut c = claims.as_object().unwrap().clone();
        c.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        edit(&mut c);
        app.state.keys.sign(&c).unwrap()
    };
    let foreign_with_our_kid = {
        use aws_lc_rs::encoding::AsDer;
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pkcs8 = pem::encode(&pem::Pem::new(
            "PRIVATE KEY",
            pair.as_der().unwrap().as_ref().to_vec(),
        ));
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        h.kid = Some(kid.clone());
        jsonwebtoken::encode(
            &h,
            &claims,
            &jsonwebtoken::EncodingKey::from_rsa_pem(pkcs8.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let id_token = app.password_grant("openid profile").await["id_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let client_token = {
        let resp = app
            .oidc_post(
                "token",
                &[("grant_type", "client_credentials")],
                Some(("domino-play", CLIENT_SECRET)),
            )
            .await;
        resp.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (what, token) in [
        ("a foreign key with our kid", foreign_with_our_kid),
        (
            "another audience",
            resign(&|c| {
                c.insert("aud".into(), json!("Elsewhere"));
            }),
        ),
        (
            "another issuer",
            resign(&|c| {
                c.insert(
                    "iss".into(),
                    json!("https://evil.example/auth/realms/DominoRealm"),
                );
            }),
        ),
        (
            "expired",
            resign(&|c| {
                c.insert("exp".into(), json!(now - 60));
            }),
        ),
        (
            "no session",
            resign(&|c| {
                c.remove("sid");
            }),
        ),
        (
            "an unknown session",
            resign(&|c| {
                c.insert("sid".into(), json!(uuid::Uuid::new_v4().to_string()));
            }),
        ),
        ("an ID token", id_token),
        ("a client's own token", client_token),
        ("garbage", "a.b.c".into()),
    ] {
        let (name, value) = bearer(&token);
        let resp = get_with(&app, "/v4/users/self", (name, &value)).await;
        let body = expect_error(resp, 401).await;
        assert_eq!(body["error"], "invalid_credentials", "{what}: {body}");
    }
    // The audience may be one of several.
    let (name, value) = bearer(&resign(&|c| {
        c.insert("aud".into(), json!(["Other", "Domino"]));
    }));
    assert_eq!(
        get_with(&app, "/v4/users/self", (name, &value))
            .await
            .status(),
        200
    );
    // A disabled user's token stops at once; the Domino Token's session ends with it.
    let (name, value) = bearer(&good);
    assert_eq!(
        get_with(&app, "/v4/users/self", (name, &value))
            .await
            .status(),
        200
    );
    app.state.store.set_enabled("doc", false).await.unwrap();
    expect_error(get_with(&app, "/v4/users/self", (name, &value)).await, 401).await;
    app.state.store.set_enabled("doc", true).await.unwrap();
    assert_eq!(
        get_with(&app, "/v4/users/self", (name, &value))
            .await
            .status(),
        200
    );
    app.clock.advance(Duration::from_secs(300 + 6));
    expect_error(get_with(&app, "/v4/users/self", (name, &value)).await, 401).await;
}

#[tokio::test]
async fn users_lists_enabled_users_and_filters_exactly_without_case() {
    let app = spawn_app().await;
    app.add_doc().await;
    app.add_user(UserSpec {
        username: "jack-london".into(),
        password: Some(domino_idp::config::Secret::new(PASSWORD)),
        email: Some("Jack.London@oaklandpub.com".into()),
        cn: Some("J. London".into()),
        attributes: [(
            "given_name".to_owned(),
            domino_idp::domain::user::AttributeValue::One("Jack".into()),
        )]
        .into(),
        ..Default::default()
    })
    .await;
    app.add_user(UserSpec {
        username: "gone".into(),
        password: Some(domino_idp::config::Secret::new(PASSWORD)),
        enabled: false,
        ..Default::default()
    })
    .await;
    let key = key_for(&app, "doc").await;
    let list = |query: &'static str| {
        let key = key.clone();
        let app = &app;
        async move {
            let resp = get_with(
                app,
                &format!("/v4/users{query}"),
                ("X-Domino-Api-Key", &key),
            )
            .await;
            assert_eq!(resp.status(), 200, "{query}");
            resp.json::<Value>().await.unwrap()
        }
    };
    let all = list("").await;
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["doc", "jack-london"],
        "disabled users are not listed"
    );
    let jack = &all[1];
    assert_eq!(
        keys_of(jack),
        [
            "avatarUrl",
            "email",
            "firstName",
            "fullName",
            "id",
            "lastName",
            "userName"
        ]
        .into()
    );
    assert_eq!(
        (jack["firstName"].as_str(), jack["lastName"].as_str()),
        (Some("Jack"), Some("London"))
    );
    assert_eq!(jack["fullName"], "J. London");
    assert_eq!(list("?userName=JACK-london").await, json!([jack]));
    assert_eq!(
        list("?email=jack.london%40OAKLANDPUB.com").await,
        json!([jack])
    );
    assert_eq!(
        list("?userName=doc&email=jack.london@oaklandpub.com").await,
        json!([])
    );
    assert_eq!(list("?userName=jack").await, json!([]));
    assert_eq!(list("?userName=gone").await, json!([]));
    assert_eq!(list("?other=1").await, all);
    let resp = get_with(
        &app,
        "/v4/users?userName=a&userName=b",
        ("X-Domino-Api-Key", &key),
    )
    .await;
    expect_error(resp, 400).await;
    expect_error(app.get("/v4/users").await, 401).await;
}

#[tokio::test]
async fn principal_is_anonymous_without_credentials_and_knows_the_admins() {
    let app = spawn_with(|c| c.admin_group = "ops".into()).await;
    app.add_doc().await;
    app.add_user(UserSpec {
        username: "root".into(),
        password: Some(domino_idp::config::Secret::new(PASSWORD)),
        groups: vec!["ops".into()],
        ..Default::default()
    })
    .await;
    let resp = app.get("/v4/auth/principal").await;
    assert_eq!(resp.status(), 200);
    let anonymous: Value = resp.json().await.unwrap();
    assert_eq!(anonymous["isAnonymous"], true);
    assert_eq!(anonymous["isAdmin"], false);
    assert_eq!(anonymous["allowedSystemOperations"], json!([]));
    expect_error(
        get_with(
            &app,
            "/v4/auth/principal",
            ("X-Domino-Api-Key", "dik_bogus"),
        )
        .await,
        401,
    )
    .await;
    let doc_key = key_for(&app, "doc").await;
    let root_key = key_for(&app, "root").await;
    let doc: Value = get_with(&app, "/v4/auth/principal", ("X-Domino-Api-Key", &doc_key))
        .await
        .json()
        .await
        .unwrap();
    let doc_id = app.state.store.get_user("doc").await.unwrap().unwrap().id;
    assert_eq!(
        doc,
        json!({"isAnonymous": false, "isAdmin": false, "canonicalId": doc_id,
               "canonicalName": "doc", "allowedSystemOperations": []})
    );
    let root: Value = get_with(&app, "/v4/auth/principal", ("X-Domino-Api-Key", &root_key))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(root["isAdmin"], true);
}

#[tokio::test]
async fn an_api_key_is_exchanged_for_a_domino_token_with_its_claims() {
    let app = spawn_with(|c| {
        c.mappers = vec![
            mapper(
                json!({"name": "unit", "type": "hardcoded", "claim": "org.unit",
                          "value": "R&D", "clients": ["domino-play"]}),
            ),
            mapper(
                json!({"name": "elsewhere", "type": "hardcoded", "claim": "other",
                          "value": "x", "clients": ["keep"]}),
            ),
            mapper(
                json!({"name": "first", "type": "user-attribute", "claim": "given_name",
                          "attribute": "nickname", "clients": ["domino-play"],
                          "outputs": ["access"]}),
            ),
        ];
    })
    .await;
    app.add_doc().await;
    let key = key_for(&app, "doc").await;
    let resp = exchange(&app, &key).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        keys_of(&body),
        [
            "access_token",
            "expires_in",
            "issued_token_type",
            "scope",
            "token_type"
        ]
        .into(),
        "{body}"
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(
        body["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(body["scope"], "MAIL $DATA profile email");
    let token = body["access_token"].as_str().unwrap();
    let claims = verify_with_jwks(token, &app.jwks().await, &app.issuer());
    assert_eq!(claims["name"], "Doctor Notes");
    assert_eq!(claims["preferred_username"], "doc");
    assert_eq!(claims["email"], "doctor.notes@projectkeep.io");
    // No `nickname` attribute: the mapper adds nothing and the name stays.
    assert_eq!(claims["given_name"], "Doctor");
    assert_eq!(claims["family_name"], "Notes");
    assert_eq!(claims["azp"], "domino-play");
    assert_eq!(claims["org"]["unit"], "R&D");
    assert!(claims.get("other").is_none(), "{claims}");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    assert!(claims["sid"].is_string());
    // The session makes it a token of doc's at userinfo.
    let resp = app.userinfo(token).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["preferred_username"],
        "doc"
    );
    // A key is good for as many tokens as asked, each its own.
    assert_ne!(domino_token(&app, &key).await, token);
    // The discovery document lists the grant.
    let doc: Value = app
        .get_json("/auth/realms/DominoRealm/.well-known/openid-configuration")
        .await;
    assert!(
        doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&EXCHANGE.into())
    );
}

#[tokio::test]
async fn the_exchange_refuses_each_bad_request_as_the_contract_says() {
    let app = spawn_app().await;
    app.add_doc().await;
    app.add_user(UserSpec {
        username: "nurse".into(),
        password: Some(domino_idp::config::Secret::new(PASSWORD)),
        ..Default::default()
    })
    .await;
    let key = key_for(&app, "doc").await;
    let nurse = key_for(&app, "nurse").await;
    let post = |form: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.oidc_post("token", &form, None).await
        }
    };
    let base = |subject: &str| {
        vec![
            ("grant_type", EXCHANGE.to_owned()),
            ("subject_token", subject.to_owned()),
            ("subject_token_type", API_KEY.to_owned()),
            ("client_id", "domino-play".to_owned()),
        ]
    };
    let with = |mut form: Vec<(&'static str, String)>, k: &'static str, v: &str| {
        form.retain(|(name, _)| *name != k);
        form.push((k, v.to_owned()));
        form
    };
    let without = |mut form: Vec<(&'static str, String)>, k: &'static str| {
        form.retain(|(name, _)| *name != k);
        form
    };
    for (what, form, error) in [
        ("a bogus key", base("dik_bogus"), "invalid_grant"),
        (
            "an unknown key",
            base(&format!("dik_{}", "A".repeat(43))),
            "invalid_grant",
        ),
        (
            "an access token",
            with(base(""), "subject_token", "a.b.c"),
            "invalid_grant",
        ),
        (
            "another token type",
            with(
                base(&key),
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            ),
            "invalid_request",
        ),
        (
            "no token type",
            without(base(&key), "subject_token_type"),
            "invalid_request",
        ),
        (
            "no subject token",
            without(base(&key), "subject_token"),
            "invalid_request",
        ),
        (
            "a refresh token asked for",
            with(
                base(&key),
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:refresh_token",
            ),
            "invalid_request",
        ),
        (
            "an actor",
            with(base(&key), "actor_token", "x"),
            "invalid_request",
        ),
        (
            "another audience",
            with(base(&key), "audience", "Elsewhere"),
            "invalid_target",
        ),
    ] {
        let resp = post(form).await;
        let body = expect_oauth_error(resp, 400, error).await;
        assert!(
            !body.to_string().contains(&key),
            "{what}: the key is echoed"
        );
    }
    // A revoked key, a disabled user's, a removed user's.
    let revoked = key_for(&app, "doc").await;
    let records = app.state.store.list_api_keys(None).await.unwrap();
    let id = records
        .iter()
        .find(|r| r.key_hash == domino_idp::domain::opaque::digest(&revoked))
        .unwrap()
        .id
        .clone();
    domino_idp::app::apikeys::revoke(app.state.store.as_ref(), &id)
        .await
        .unwrap();
    expect_oauth_error(exchange(&app, &revoked).await, 400, "invalid_grant").await;
    assert_eq!(exchange(&app, &key).await.status(), 200);
    app.state.store.set_enabled("doc", false).await.unwrap();
    expect_oauth_error(exchange(&app, &key).await, 400, "invalid_grant").await;
    app.state.store.delete_user("nurse").await.unwrap();
    expect_oauth_error(exchange(&app, &nurse).await, 400, "invalid_grant").await;
    // A client not allowed the grant.
    app.add_client(public_client("webapp")).await;
    app.state.store.set_enabled("doc", true).await.unwrap();
    let resp = post(with(base(&key), "client_id", "webapp")).await;
    expect_oauth_error(resp, 400, "unauthorized_client").await;
    // The built-in client has no secret to send.
    let resp = post(with(base(&key), "client_secret", "a-secret-of-sorts")).await;
    expect_oauth_error(resp, 401, "invalid_client").await;
}

#[tokio::test]
async fn the_builtin_domino_play_gives_way_to_a_configured_or_added_one() {
    // By default it exists: public, only the exchange.
    let tmp = tempfile::tempdir().unwrap();
    let mut app = spawn_in(tmp.path(), |_| {}).await;
    let builtin = domino_play(&app).await.unwrap();
    assert!(builtin.is_builtin() && builtin.is_public());
    assert_eq!(builtin.grant_types.len(), 1);
    app.add_doc().await;
    let key = key_for(&app, "doc").await;
    assert_eq!(exchange(&app, &key).await.status(), 200);
    // Added over it (as the tests' helpers and `client add` do): replaced.
    app.add_client(play_client()).await;
    let added = domino_play(&app).await.unwrap();
    assert!(!added.is_builtin() && !added.is_public());
    expect_oauth_error(exchange(&app, &key).await, 401, "invalid_client").await;
    let resp = exchange_confidential(&app, &key).await;
    assert_eq!(
        resp.status(),
        200,
        "a confidential client authenticates as usual"
    );
    // Adding it again is a conflict: only the built-in one gives way.
    let again = domino_idp::app::clients::create(app.state.store.as_ref(), &play_client()).await;
    assert!(again.is_err());
    // A restart does not bring the built-in one back.
    app.stop().await;
    let mut app = spawn_in(tmp.path(), |_| {}).await;
    let kept = domino_play(&app).await.unwrap();
    assert_eq!(kept.secret_hash, added.secret_hash);
    app.stop().await;

    // A `[[clients]]` entry replaces a built-in one from an earlier start.
    let tmp = tempfile::tempdir().unwrap();
    let mut app = spawn_in(tmp.path(), |_| {}).await;
    app.stop().await;
    let app = spawn_in(tmp.path(), |c| c.clients = vec![play_client()]).await;
    let seeded = domino_play(&app).await.unwrap();
    assert!(!seeded.is_builtin() && seeded.secret_matches(CLIENT_SECRET));

    // Turned off: no domino-play at all.
    let app = spawn_with(|c| c.builtin_domino_play = false).await;
    assert!(domino_play(&app).await.is_none());
    app.add_doc().await;
    let key = key_for(&app, "doc").await;
    expect_oauth_error(exchange(&app, &key).await, 401, "invalid_client").await;
}

#[test]
fn client_add_replaces_the_builtin_domino_play_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let run = |args: &[&str]| {
        let out = idp_command(dir).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // What a first `serve` leaves behind (without the console's own client).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut app = spawn_in(dir, |c| c.admin_console = false).await;
        app.stop().await;
    });
    let listed: Value = serde_json::from_str(&run(&["client", "list", "--json"])).unwrap();
    assert_eq!(listed[0]["client_id"], "domino-play");
    assert_eq!(listed[0]["grant_types"], json!([EXCHANGE]));
    run(&[
        "client",
        "add",
        "domino-play",
        "--public",
        "--grant",
        "token_exchange",
        "--grant",
        "password",
    ]);
    let listed: Value = serde_json::from_str(&run(&["client", "list", "--json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["grant_types"], json!([EXCHANGE, "password"]));
}
