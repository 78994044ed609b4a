//! `/version`, `/v4/users/self`, `/v4/users` and `/v4/auth/principal`: who
//! the caller is, by API key, Domino Token or Keep token.

use super::*;

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
