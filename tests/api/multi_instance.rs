//! Several issuers on one database, as behind a load balancer (SPEC §8):
//! each has its own listener, pool and in-memory keys; everything else is
//! shared through the database. Runs on whichever backend the suite runs on
//! (on SQLite the instances share one file, as on one machine).

use std::time::{Duration, Instant};

use base64::Engine as _;
use domino_idp::config::{Config, KeyStoreKind, Secret};
use domino_idp::keys::KeyHome;
use serde_json::Value;

use crate::apikey_sessions::{exchange_request_at, racing_tokens};
use crate::helpers::*;
use crate::keys::kids;
use crate::oidc_flow::{exchange, login_through_form, query};

/// What every instance shares: the database (empty: a new one), the name
/// clients use (here the first instance's address stands in for the
/// balancer's), the keys and their encryption key; quick reloads.
fn member<'a>(database_url: &'a str, public_url: &'a str) -> impl FnOnce(&mut Config) + 'a {
    move |c| {
        if !database_url.is_empty() {
            c.database_url = database_url.to_owned();
            c.public_url = Some(public_url.to_owned());
        }
        c.key_store = Some(KeyStoreKind::Database);
        c.key_encryption_key = Some(Secret::new(
            base64::engine::general_purpose::STANDARD.encode([5u8; 32]),
        ));
        c.key_reload_interval = 1;
        c.jwks_max_age = 1;
    }
}

/// Three issuers on one database; the first created it.
async fn cluster() -> (TestApp, TestApp, TestApp, Vec<tempfile::TempDir>) {
    let a = spawn_with(member("", "")).await;
    let url = a.state.config.database_url.clone();
    let dirs = vec![tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let b = spawn_in(dirs[0].path(), member(&url, &a.base)).await;
    let c = spawn_in(dirs[1].path(), member(&url, &a.base)).await;
    a.add_doc_and_play().await;
    (a, b, c, dirs)
}

#[tokio::test]
async fn log_in_on_one_refresh_on_another_introspect_on_a_third() {
    let (a, b, c, _dirs) = cluster().await;
    let jwks = a.jwks().await;
    assert_eq!(
        jwks,
        b.jwks().await,
        "every instance publishes the same keys"
    );
    assert_eq!(jwks, c.jwks().await);

    let first = a.password_grant("openid").await;
    let refreshed: Value = b
        .refresh_grant(first["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let access = refreshed["access_token"]
        .as_str()
        .expect("B refreshes A's token");
    let introspected: Value = c
        .oidc_post(
            "token/introspect",
            &[("token", access)],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true, "{introspected}");
    assert_eq!(introspected["username"], "doc");
    verify_with_jwks(access, &c.jwks().await, &a.issuer());

    // A Keep login on C verifies against A's JWKS; userinfo on B answers.
    let keep: Value = c.login("doc", PASSWORD).await.json().await.unwrap();
    verify_with_jwks(keep["bearer"].as_str().unwrap(), &jwks, &a.issuer());
    let info = b
        .client
        .get(b.oidc("userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200);

    // Revoked on A: inactive on C.
    let revoked = a
        .oidc_post(
            "revoke",
            &[("token", refreshed["refresh_token"].as_str().unwrap())],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await;
    assert_eq!(revoked.status(), 200);
    let after: Value = c
        .oidc_post(
            "token/introspect",
            &[("token", refreshed["refresh_token"].as_str().unwrap())],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["active"], false, "{after}");
}

#[tokio::test]
async fn a_rotation_on_one_instance_is_published_by_all() {
    let (a, b, c, _dirs) = cluster().await;
    let old = a.state.keys.signer().kid().to_owned();
    let home = KeyHome::new(&a.state.config, Some(a.state.store.clone())).unwrap();
    let rotation = home.rotate(0, false).await.unwrap();
    let new = rotation.kid;

    let deadline = Instant::now() + Duration::from_secs(10);
    for app in [&a, &b, &c] {
        loop {
            let published = kids(&app.jwks().await);
            if published.contains(&new) && app.state.keys.signer().kid() == new {
                assert!(published.contains(&old), "the old key stays published");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not take up {new}: {published:?}",
                app.base
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Tokens from B now carry the new kid and verify with C's JWKS.
    let body: Value = b.login("doc", PASSWORD).await.json().await.unwrap();
    let token = body["bearer"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(token).unwrap().kid.as_deref(),
        Some(new.as_str())
    );
    verify_with_jwks(token, &c.jwks().await, &a.issuer());
}

#[tokio::test]
async fn a_refresh_token_raced_at_two_instances_has_exactly_one_winner() {
    let (a, b, c, _dirs) = cluster().await;
    for race in 0..100 {
        let first = a.password_grant("openid").await;
        let token = first["refresh_token"].as_str().unwrap();
        let (rb, rc) = tokio::join!(b.refresh_grant(token), c.refresh_grant(token));
        let (sb, sc) = (rb.status().as_u16(), rc.status().as_u16());
        let bodies: [Value; 2] = [rb.json().await.unwrap(), rc.json().await.unwrap()];
        let wins: Vec<&Value> = [sb, sc]
            .iter()
            .zip(&bodies)
            .filter(|(s, _)| **s == 200)
            .map(|(_, b)| b)
            .collect();
        assert_eq!(wins.len(), 1, "race {race}: {sb} {sc} {bodies:?}");
        let loser = if sb == 200 { &bodies[1] } else { &bodies[0] };
        assert_eq!(
            [sb, sc].iter().filter(|s| **s == 400).count(),
            1,
            "race {race}"
        );
        assert_eq!(loser["error"], "invalid_grant", "race {race}: {loser}");
        // The replay revoked the family: the winner's new token is dead too.
        let successor = wins[0]["refresh_token"].as_str().unwrap();
        expect_oauth_error(a.refresh_grant(successor).await, 400, "invalid_grant").await;
    }
}

/// A new API key exchanged 30 times at once at each of two instances: every
/// exchange gets a token, and all of them share the one session that won
/// (each instance lets one exchange at a time write it; between instances
/// the key's row decides).
#[tokio::test]
async fn a_new_keys_exchanges_raced_at_two_instances_share_one_session() {
    let (a, b, c, _dirs) = cluster().await;
    let key = domino_idp::app::apikeys::create(a.state.store.as_ref(), "doc", None, None, 0)
        .await
        .expect("key created")
        .key;
    // The cluster's `domino-play` is the confidential one of the helpers.
    let at = |app: &TestApp| {
        exchange_request_at(app, &app.oidc("token"), &key)
            .basic_auth("domino-play", Some(CLIENT_SECRET))
    };
    let requests = (0..30).flat_map(|_| [at(&b), at(&c)]);
    let tokens = racing_tokens(requests).await;
    assert_eq!(tokens.len(), 60);
    let jwks = a.jwks().await;
    let sids: std::collections::HashSet<String> = tokens
        .iter()
        .map(|t| verify_with_jwks(t, &jwks, &a.issuer())["sid"].to_string())
        .collect();
    assert_eq!(sids.len(), 1, "one session per key: {sids:?}");
}

#[tokio::test]
async fn an_authorization_code_is_spent_once_across_instances() {
    let (a, b, c, _dirs) = cluster().await;
    for _ in 0..10 {
        let done = login_through_form(&a, &[]).await;
        let code = query(&done.redirect, "code").unwrap();
        let (rb, rc) = tokio::join!(
            exchange(&b, &code, crate::oidc_flow::VERIFIER),
            exchange(&c, &code, crate::oidc_flow::VERIFIER)
        );
        let mut statuses = [rb.status().as_u16(), rc.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 400]);
    }
}

#[tokio::test]
async fn instances_seeding_the_same_users_at_once_neither_duplicate_nor_fail() {
    let first = spawn_with(member("", "")).await;
    let url = first.state.config.database_url.clone();
    let seeding = |c: &mut Config| {
        member(&url, &first.base)(c);
        c.users = vec![doc_spec()];
        c.clients = vec![play_client()];
    };
    let dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let (p, q, r, s) = tokio::join!(
        spawn_in(dirs[0].path(), seeding),
        spawn_in(dirs[1].path(), seeding),
        spawn_in(dirs[2].path(), seeding),
        spawn_in(dirs[3].path(), seeding),
    );
    assert_eq!(first.state.store.list_users().await.unwrap().len(), 1);
    let clients = first.state.store.list_clients().await.unwrap();
    let ids: Vec<&str> = clients.iter().map(|c| c.client_id.as_str()).collect();
    assert_eq!(
        ids,
        ["admin-console", "domino-play"],
        "the seeded client and the console's"
    );
    for app in [&p, &q, &r, &s] {
        assert_eq!(app.login("doc", PASSWORD).await.status(), 200);
        assert_eq!(app.jwks().await, first.jwks().await);
    }
}
