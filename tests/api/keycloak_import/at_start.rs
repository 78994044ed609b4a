//! `keycloak_import_dir`: the exports in a folder are imported at every
//! start, once (Keycloak's `--import-realm`).

use crate::helpers::*;

use super::*;

#[tokio::test]
async fn keycloak_import_dir_is_imported_at_every_start_without_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    let import_dir = dir.join("import");
    std::fs::create_dir(&import_dir).unwrap();
    std::fs::copy(
        fixture("hashed-realm.json"),
        import_dir.join("hashed-realm.json"),
    )
    .unwrap();
    // Another realm's export in the same folder is skipped.
    std::fs::copy(
        fixture("testrealm.json"),
        import_dir.join("test-realm.json"),
    )
    .unwrap();
    let tweak = |c: &mut domino_idp::config::Config| {
        c.realm = "hashed".into();
        c.keycloak_import_dir = Some(import_dir.clone());
    };
    let mut app = spawn_in(&dir, tweak).await;
    let imported = stored_hash(&app, "demo").await;
    assert!(imported.starts_with("$pbkdf2$i=20000$"), "{imported}");
    assert_eq!(keep_login(&app, "demo", "demo").await, 200);
    let users = app.state.store.list_users().await.unwrap().len();
    // Masked secrets: the confidential clients wait for `import keycloak
    // --client-secrets`; the public one is there.
    let clients = app.state.store.list_clients().await.unwrap();
    let spa = clients.iter().find(|c| c.client_id == "spa").unwrap();
    assert_eq!(
        spa.web_origins,
        ["http://localhost:5173"],
        "webOrigins as exported"
    );
    assert!(!clients.iter().any(|c| c.client_id == "portal"));
    app.stop().await;
    let app = spawn_in(&dir, tweak).await;
    assert_eq!(app.state.store.list_users().await.unwrap().len(), users);
    // The rehash of the first start's login is kept.
    assert!(stored_hash(&app, "demo").await.starts_with("$argon2id$"));
    assert_eq!(keep_login(&app, "demo", "demo").await, 200);
}
