//! The token exchange of an API key for a Domino Token, and the built-in
//! `domino-play` client.

use super::*;

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
