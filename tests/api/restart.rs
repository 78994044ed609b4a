//! A restart keeps users and the signing key; seeding is idempotent.

use serde_json::Value;

use crate::helpers::*;
use domino_idp::config::Secret;
use domino_idp::domain::user::UserSpec;

#[tokio::test]
async fn restart_keeps_users_and_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let mut first = spawn_in(tmp.path(), |_| {}).await;
    first.add_doc().await;
    let kid = first.state.keys.signer().kid().to_owned();
    let old: Value = first.login("doc", PASSWORD).await.json().await.unwrap();
    first.stop().await;

    let second = spawn_in(tmp.path(), |_| {}).await;
    assert_eq!(second.state.keys.signer().kid(), kid);
    let jwks = second.jwks().await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    // A token from before the restart still verifies against the new JWKS.
    let issuer = format!("http://{}/auth/realms/DominoRealm", first.addr);
    verify_with_jwks(old["bearer"].as_str().unwrap(), &jwks, &issuer);
    assert_eq!(second.login("doc", PASSWORD).await.status(), 200);
    let keys: Vec<_> = std::fs::read_dir(tmp.path().join("keys"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pem"))
        .collect();
    assert_eq!(keys.len(), 1, "one private key, reused: {keys:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&keys[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test]
async fn seeding_is_idempotent_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let seed = |c: &mut domino_idp::config::Config| {
        c.users = vec![
            doc_spec(),
            UserSpec {
                username: "ann".into(),
                password: Some(Secret::new("ann-pass")),
                ..Default::default()
            },
        ]
    };
    let mut first = spawn_in(tmp.path(), seed).await;
    assert_eq!(first.state.store.list_users().await.unwrap().len(), 2);
    // An operator changes ann's password after the first start.
    let store = first.state.store.clone();
    let ann = store.get_user("ann").await.unwrap().unwrap();
    let new_hash = first
        .state
        .passwords
        .hash(&domino_idp::domain::user::Password::parse("changed").unwrap())
        .await
        .unwrap();
    store.set_password_hash(&ann.id, &new_hash).await.unwrap();
    first.stop().await;

    let second = spawn_in(tmp.path(), seed).await;
    let users = second.state.store.list_users().await.unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(second.login("ann", "changed").await.status(), 200);
    assert_eq!(second.login("ann", "ann-pass").await.status(), 401);
    assert_eq!(second.login("doc", PASSWORD).await.status(), 200);
}
