//! Roles, removals and API keys from the console.

use super::*;

/// The roles page: add a realm role, grant it to a user, see it in the
/// user's next token's `realm_access`, revoke it; a grant of a role that does
/// not exist is a 404 page with the form, never a 500.
#[tokio::test]
async fn roles_are_added_granted_and_revoked_from_the_console() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    app.add_user(admin_spec()).await;
    let (_, jar) = sign_in(&app, ADMIN).await;
    let cookies = jar.join("; ");
    let page = http()
        .get(app.url("/admin/roles"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("default-roles-"),
        "the built-in roles are listed"
    );
    let csrf = hidden(&html, "csrf_token");
    let post = |path: &'static str, form: Vec<(&'static str, &'static str)>| {
        let mut form = form;
        form.push(("csrf_token", csrf.as_str()));
        http()
            .post(app.url(path))
            .header("cookie", &cookies)
            .form(&form)
            .send()
    };
    let added = post(
        "/admin/roles",
        vec![("name", "auditor"), ("description", "reads logs")],
    )
    .await
    .unwrap();
    assert_eq!(added.status(), 303);
    let missing = post(
        "/admin/roles/grant",
        vec![
            ("role", "no-such-role"),
            ("kind", "user"),
            ("holder", "doc"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("grant-error"));
    let granted = post(
        "/admin/roles/grant",
        vec![("role", "auditor"), ("kind", "user"), ("holder", "doc")],
    )
    .await
    .unwrap();
    assert_eq!(granted.status(), 303);
    let claims = |token: String| {
        let payload = token.split('.').nth(1).unwrap().to_owned();
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap();
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
    };
    // A client with Keycloak's default scopes (`roles` among them).
    app.add_client(domino_idp::domain::client::ClientSpec {
        client_id: "kc-app".into(),
        secret: Some(domino_idp::config::Secret::new(CLIENT_SECRET)),
        grant_types: vec![domino_idp::domain::client::GrantType::Password],
        ..domino_idp::domain::client::ClientSpec::default()
    })
    .await;
    let roles_of_doc = || async {
        let body: serde_json::Value = app
            .oidc_post(
                "token",
                &[
                    ("grant_type", "password"),
                    ("username", "doc"),
                    ("password", PASSWORD),
                ],
                Some(("kc-app", CLIENT_SECRET)),
            )
            .await
            .json()
            .await
            .unwrap();
        claims(body["access_token"].as_str().unwrap().to_owned())["realm_access"]["roles"].clone()
    };
    let roles = roles_of_doc().await;
    assert!(
        roles.as_array().unwrap().iter().any(|r| r == "auditor"),
        "{roles}"
    );
    let revoked = post(
        "/admin/roles/revoke",
        vec![("role", "auditor"), ("kind", "user"), ("holder", "doc")],
    )
    .await
    .unwrap();
    assert_eq!(revoked.status(), 303);
    let roles = roles_of_doc().await;
    assert!(
        !roles.as_array().unwrap().iter().any(|r| r == "auditor"),
        "{roles}"
    );
}

#[tokio::test]
async fn users_clients_and_mappers_are_removed_from_the_console() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    app.add_user(admin_spec()).await;
    let team: MapperSpec = serde_json::from_value(
        serde_json::json!({"name": "team", "type": "hardcoded", "claim": "team", "value": "red"}),
    )
    .unwrap();
    mappers::create(app.state.store.as_ref(), &team)
        .await
        .unwrap();
    let (cookies, csrf) = admin_session(&app).await;
    let remove = |path: &str| {
        http()
            .post(app.url(path))
            .header("cookie", &cookies)
            .form(&[("csrf_token", &csrf)])
            .send()
    };
    for (path, back) in [
        ("/admin/users/doc/remove", "/admin/users?done=removed"),
        (
            "/admin/clients/domino-play/remove",
            "/admin/clients?done=removed",
        ),
        ("/admin/mappers/team/remove", "/admin/mappers?done=removed"),
    ] {
        let removed = remove(path).await.unwrap();
        assert_eq!(removed.status(), 303, "{path}");
        assert_eq!(removed.headers()[LOCATION], back, "{path}");
        // Gone now: a second removal is the not-found page.
        assert_eq!(remove(path).await.unwrap().status(), 404, "{path}");
    }
    let store = &app.state.store;
    assert!(store.get_user("doc").await.unwrap().is_none());
    assert!(store.get_client("domino-play").await.unwrap().is_none());
    let left = store.list_mappers().await.unwrap();
    assert!(left.iter().all(|m| m.name != "team"));
}

/// An admin creates an API key on a user's page: a bad lifetime is an error
/// next to the field and creates nothing; a good one shows the key once, it
/// works at the Domino API at once, and the page does not show it again.
#[tokio::test]
async fn an_api_key_is_created_from_the_console_and_shown_once() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    app.add_user(admin_spec()).await;
    let (cookies, csrf) = admin_session(&app).await;
    let create = |name: &'static str, days: &'static str| {
        http()
            .post(app.url("/admin/users/doc/apikeys"))
            .header("cookie", &cookies)
            .form(&[
                ("name", name),
                ("expires_days", days),
                ("csrf_token", csrf.as_str()),
            ])
            .send()
    };
    let bad = create("laptop", "soon").await.unwrap();
    assert_eq!(bad.status(), 400);
    let html = bad.text().await.unwrap();
    assert!(html.contains("id=\"key-error\""), "{html}");
    assert!(!html.contains("api-key-once") && html.contains("No API keys."));

    let made = create("laptop", "30").await.unwrap();
    assert_eq!(made.status(), 200);
    let html = made.text().await.unwrap();
    let key = html
        .split("id=\"api-key-once\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no key on the page: {html}"))
        .to_owned();
    assert!(html.contains(">laptop<"), "the key is listed: {html}");
    let me = http()
        .get(app.url("/v4/users/self"))
        .header("X-Domino-Api-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["userName"], "doc", "{me}");

    let again = http()
        .get(app.url("/admin/users/doc"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains(&key), "the key is shown once");
}
