//! Userinfo, introspection, revocation and logout.

use domino_idp::config::Secret;
use domino_idp::domain::client::{ClientSpec, GrantType};
use reqwest::header::COOKIE;
use serde_json::Value;

use crate::helpers::*;
use crate::oidc_flow::*;

const RS: (&str, &str) = ("resource-server", "rs-secret-0123456789");

async fn with_resource_server(app: &TestApp) {
    app.add_client(ClientSpec {
        client_id: RS.0.into(),
        secret: Some(Secret::new(RS.1)),
        grant_types: vec![GrantType::ClientCredentials],
        ..ClientSpec::default()
    })
    .await;
}

async fn introspect(app: &TestApp, token: &str) -> Value {
    let resp = app
        .oidc_post("token/introspect", &[("token", token)], Some(RS))
        .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn userinfo_answers_by_scope_get_and_post() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let body = app.password_grant("openid profile").await;
    let at = body["access_token"].as_str().unwrap();
    let resp = app.userinfo(at).await;
    assert_eq!(resp.status(), 200);
    let info: Value = resp.json().await.unwrap();
    assert_eq!(info["sub"], "CN=Doctor Notes/O=ProjectKeep");
    assert_eq!(info["preferred_username"], "doc");
    assert!(
        info.get("email").is_none(),
        "email scope not granted: {info}"
    );
    // RFC 6750 §2.2: form-encoded body parameter.
    let resp = app
        .client
        .post(app.oidc("userinfo"))
        .form(&[("access_token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn userinfo_refuses_bad_tokens_with_a_bearer_challenge() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let body = app.password_grant("openid").await;
    let id_token = body["id_token"].as_str().unwrap();
    let resp = app.client.get(app.oidc("userinfo")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer realm=")
    );
    for bad in [
        id_token,
        "garbage",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    ] {
        let resp = app.userinfo(bad).await;
        let challenge = resp.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.contains("invalid_token"), "{challenge}");
        expect_oauth_error(resp, 401, "invalid_token").await;
    }
    // A disabled user's token stops working at userinfo.
    app.state.store.set_enabled("doc", false).await.unwrap();
    let resp = app.userinfo(body["access_token"].as_str().unwrap()).await;
    expect_oauth_error(resp, 401, "invalid_token").await;
}

#[tokio::test]
async fn introspection_reports_active_and_inactive_tokens() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    with_resource_server(&app).await;
    let body = app.password_grant("openid MAIL").await;
    let at = body["access_token"].as_str().unwrap();
    let rt = body["refresh_token"].as_str().unwrap();
    let info = introspect(&app, at).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], "domino-play");
    assert_eq!(info["username"], "doc");
    assert_eq!(info["scope"], "openid MAIL");
    assert_eq!(info["token_type"], "Bearer");
    // A refresh token is only visible to the client it belongs to.
    assert_eq!(introspect(&app, rt).await["active"], false);
    let resp = app
        .oidc_post(
            "token/introspect",
            &[("token", rt)],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await;
    let info: Value = resp.json().await.unwrap();
    assert_eq!(info["active"], true);
    assert_eq!(info["token_type"], "Refresh");
    // Malformed, foreign and expired tokens.
    let expired = {
        let mut claims = serde_json::Map::new();
        claims.insert("iss".into(), app.issuer().into());
        claims.insert("exp".into(), 1_000.into());
        claims.insert("iat".into(), 900.into());
        claims.insert("jti".into(), "x".into());
        app.state.keys.sign(&claims).unwrap()
    };
    let foreign = {
        let mut claims = serde_json::Map::new();
        claims.insert("iss".into(), "https://elsewhere.example".into());
        claims.insert("exp".into(), 9_999_999_999i64.into());
        claims.insert("iat".into(), 900.into());
        app.state.keys.sign(&claims).unwrap()
    };
    for token in ["garbage", "x.y.z", &expired, &foreign, &"a".repeat(5000)] {
        assert_eq!(
            introspect(&app, token).await["active"],
            false,
            "{token:.20}"
        );
    }
    // Without client authentication: refused.
    let resp = app
        .oidc_post("token/introspect", &[("token", at)], None)
        .await;
    expect_oauth_error(resp, 401, "invalid_client").await;
    let resp = app.oidc_post("token/introspect", &[], Some(RS)).await;
    expect_oauth_error(resp, 400, "invalid_request").await;
}

#[tokio::test]
async fn revoking_an_access_token_denies_it_until_expiry() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    with_resource_server(&app).await;
    let body = app.password_grant("openid").await;
    let at = body["access_token"].as_str().unwrap();
    // Only the client it was issued to may revoke it.
    let resp = app.oidc_post("revoke", &[("token", at)], Some(RS)).await;
    expect_oauth_error(resp, 400, "unauthorized_client").await;
    assert_eq!(introspect(&app, at).await["active"], true);
    let resp = app
        .oidc_post(
            "revoke",
            &[("token", at), ("token_type_hint", "access_token")],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(introspect(&app, at).await["active"], false);
    expect_oauth_error(app.userinfo(at).await, 401, "invalid_token").await;
    // Unknown tokens: 200, as RFC 7009 §2.2 asks.
    let resp = app
        .oidc_post(
            "revoke",
            &[("token", "nonsense")],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_family() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let body = app.password_grant("openid").await;
    let rt = body["refresh_token"].as_str().unwrap();
    let resp = app
        .oidc_post(
            "revoke",
            &[("token", rt)],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let resp = app.refresh_grant(rt).await;
    expect_oauth_error(resp, 400, "invalid_grant").await;
}

/// Sixty presentations of one refresh token at once: the rotation runs
/// beside the signatures, and still exactly one is answered with tokens;
/// the rest are replays, which end the family (the winner's token too).
#[tokio::test]
async fn one_refresh_token_sent_sixty_times_at_once_is_rotated_once() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let body = app.password_grant("openid").await;
    let rt = body["refresh_token"].as_str().unwrap();
    let answers = futures_util::future::join_all((0..60).map(|_| app.refresh_grant(rt))).await;
    let mut winners = Vec::new();
    for resp in answers {
        match resp.status().as_u16() {
            200 => winners.push(resp.json::<Value>().await.unwrap()),
            _ => {
                expect_oauth_error(resp, 400, "invalid_grant").await;
            }
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert!(winners[0]["id_token"].is_string(), "{}", winners[0]);
    let successor = winners[0]["refresh_token"].as_str().unwrap();
    expect_oauth_error(app.refresh_grant(successor).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn logout_with_id_token_hint_ends_the_session_and_redirects() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let done = login_through_form(&app, &[]).await;
    let code = query(&done.redirect, "code").unwrap();
    let body: Value = exchange(&app, &code, VERIFIER).await.json().await.unwrap();
    let id_token = body["id_token"].as_str().unwrap();
    let http = no_redirects();
    let mut url = url::Url::parse(&app.oidc("logout")).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", id_token)
        .append_pair("post_logout_redirect_uri", "http://127.0.0.1:9/signed-out")
        .append_pair("state", "bye");
    let resp = http
        .get(url)
        .header(COOKIE, &done.session_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let to = location(&resp);
    assert!(to.as_str().starts_with("http://127.0.0.1:9/signed-out"));
    assert_eq!(query(&to, "state").as_deref(), Some("bye"));
    // The session's refresh tokens are revoked and the cookie no longer signs in.
    let resp = app
        .refresh_grant(body["refresh_token"].as_str().unwrap())
        .await;
    expect_oauth_error(resp, 400, "invalid_grant").await;
    let to = silent_authorize(&app, &done.session_cookie).await;
    assert_eq!(query(&to, "error").as_deref(), Some("login_required"));
}

#[tokio::test]
async fn logout_refuses_unregistered_redirects_and_asks_without_a_hint() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let done = login_through_form(&app, &[]).await;
    let http = no_redirects();
    // Unregistered post_logout_redirect_uri: an error page, no redirect.
    let resp = http
        .get(app.oidc("logout"))
        .query(&[
            ("client_id", "domino-play"),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.headers().get("location").is_none());
    // A bad hint: error page.
    let resp = http
        .get(app.oidc("logout"))
        .query(&[("id_token_hint", "forged.token.here")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // No hint: a confirmation page; a forged confirmation changes nothing.
    let resp = http
        .get(app.oidc("logout"))
        .header(COOKIE, &done.session_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let csrf_cookie = set_cookie(&resp, "DOMINO_IDP_CSRF").unwrap();
    let html = resp.text().await.unwrap();
    let csrf = hidden(&html, "csrf_token").unwrap();
    let forged = http
        .post(app.oidc("logout"))
        .header(COOKIE, &done.session_cookie)
        .form(&[("confirm", "yes"), ("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 200);
    let still = silent_authorize(&app, &done.session_cookie).await;
    assert!(query(&still, "code").is_some(), "still signed in");
    // The real confirmation signs out.
    let resp = http
        .post(app.oidc("logout"))
        .header(COOKIE, format!("{}; {csrf_cookie}", done.session_cookie))
        .form(&[("confirm", "yes"), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("signed out"));
    let after = silent_authorize(&app, &done.session_cookie).await;
    assert_eq!(query(&after, "error").as_deref(), Some("login_required"));
}

#[tokio::test]
async fn keycloak_adapter_logout_with_a_refresh_token() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    let body = app.password_grant("openid").await;
    let rt = body["refresh_token"].as_str().unwrap();
    let resp = app
        .client
        .post(app.oidc("logout"))
        .basic_auth("domino-play", Some(CLIENT_SECRET))
        .form(&[("refresh_token", rt)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = app.refresh_grant(rt).await;
    expect_oauth_error(resp, 400, "invalid_grant").await;
}

#[tokio::test]
async fn discovery_lists_every_endpoint() {
    let app = spawn_app().await;
    let doc: Value = app
        .get_json("/auth/realms/DominoRealm/.well-known/openid-configuration")
        .await;
    let iss = app.issuer();
    for (key, path) in [
        ("authorization_endpoint", "auth"),
        ("token_endpoint", "token"),
        ("userinfo_endpoint", "userinfo"),
        ("jwks_uri", "certs"),
        ("introspection_endpoint", "token/introspect"),
        ("revocation_endpoint", "revoke"),
        ("end_session_endpoint", "logout"),
    ] {
        assert_eq!(
            doc[key],
            format!("{iss}/protocol/openid-connect/{path}"),
            "{key}"
        );
    }
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    for g in [
        "authorization_code",
        "refresh_token",
        "password",
        "client_credentials",
    ] {
        assert!(
            doc["grant_types_supported"]
                .as_array()
                .unwrap()
                .contains(&g.into())
        );
    }
    for m in ["client_secret_basic", "client_secret_post", "none"] {
        assert!(
            doc["token_endpoint_auth_methods_supported"]
                .as_array()
                .unwrap()
                .contains(&m.into())
        );
    }
    assert!(
        doc["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&"openid".into())
    );
    assert!(
        doc["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&"sub".into())
    );
}

#[tokio::test]
async fn browser_apps_on_registered_origins_may_call_the_api() {
    let app = spawn_app().await;
    app.add_doc_and_play().await;
    // The origin of domino-play's redirect URI (http://127.0.0.1:9/callback).
    let ok = app.token_preflight("http://127.0.0.1:9").await;
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "http://127.0.0.1:9"
    );
    let evil = app.token_preflight("https://evil.example").await;
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    // The public documents are readable from any page.
    let jwks = app
        .client
        .get(app.oidc("certs"))
        .header("origin", "https://anywhere.example")
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.headers()["access-control-allow-origin"], "*");
}
