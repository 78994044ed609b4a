//! Users read with their sessions; the configuration's change counter.

use std::sync::Arc;

use super::user;
use crate::store::{BearerHolder, SessionRecord, Store};

/// A user read with one of their sessions in one statement: the
/// session when it is theirs, none when it is missing or another's, no
/// user when the user is missing; a NUL names nothing.
pub(crate) async fn a_user_is_read_with_their_session(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let doc = user(s, "doc").await;
    let nurse = user(s, "nurse").await;
    let session = SessionRecord {
        cookie_hash: Some("c1".into()),
        ..super::session("s1", &doc.id, 1_000, 9_000)
    };
    s.insert_session(&session).await.unwrap();
    let (found, with) = s
        .get_user_with_session(&doc.id, "s1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.username.as_str(), with),
        ("doc", Some(session.clone()))
    );
    let (found, with) = s
        .get_user_with_session(&doc.id, "s2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, with), (doc.id.clone(), None));
    let (_, with) = s
        .get_user_with_session(&nurse.id, "s1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(with, None, "another user's session");
    assert!(
        s.get_user_with_session("nobody", "s1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.get_user_with_session("a\0", "s1")
            .await
            .unwrap()
            .is_none()
    );
    let (_, with) = s
        .get_user_with_session(&doc.id, "s\0")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(with, None);

    // By the session's browser cookie, with its user, in one read.
    let (by_cookie, owner) = s
        .find_session_by_cookie_with_user("c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((by_cookie, owner.id), (session, doc.id.clone()));
    for unknown in ["c2", "s1", "c\0"] {
        assert!(
            s.find_session_by_cookie_with_user(unknown)
                .await
                .unwrap()
                .is_none(),
            "{unknown:?}"
        );
    }
}

/// A bearer's session with its user and its `jti`'s denial, in one read:
/// a denied token is denied whether or not its session exists; a NUL in
/// either names nothing (no session, no denial).
pub(crate) async fn a_bearer_is_read_with_its_session_and_denial(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let doc = user(s, "doc").await;
    let session = super::session("s1", &doc.id, 1_000, 9_000);
    s.insert_session(&session).await.unwrap();
    s.deny_jti("revoked", 9_000).await.unwrap();
    let state = |sid: &'static str, jti: &'static str| async move {
        match s.get_bearer_holder(sid, jti).await.unwrap() {
            BearerHolder::Denied => "denied".to_owned(),
            BearerHolder::NoSession => "no session".to_owned(),
            BearerHolder::Session(found) => format!("{} of {}", found.0.id, found.1.username),
        }
    };
    assert_eq!(state("s1", "live").await, "s1 of doc");
    assert_eq!(state("s1", "revoked").await, "denied");
    assert_eq!(state("s2", "revoked").await, "denied", "no session, denied");
    assert_eq!(state("s2", "live").await, "no session");
    assert_eq!(state("s\0", "revoked").await, "denied");
    assert_eq!(
        state("s1", "l\0").await,
        "s1 of doc",
        "a NUL is never denied"
    );
}

/// The change counter moves with every write of clients, mappers, roles
/// and role grants, and not with other writes.
pub(crate) async fn the_config_version_moves_with_the_configuration(store: Arc<dyn Store>) {
    use crate::domain::role::{Holder, Role, RoleRef, RoleSpec};
    let s = store.as_ref();
    let mut last = s.config_version().await.unwrap();
    let mut moved = |now: i64, what: &str| {
        assert!(now > last, "{what}: {now} after {last}");
        last = now;
    };
    let doc = user(s, "doc").await;
    let client = crate::domain::client::Client::from_spec(&crate::domain::client::ClientSpec {
        client_id: "app".into(),
        grant_types: vec![crate::domain::client::GrantType::ClientCredentials],
        ..Default::default()
    })
    .unwrap()
    .0;
    s.insert_client(&client).await.unwrap();
    moved(s.config_version().await.unwrap(), "client added");
    let mapper: crate::domain::mapper::MapperSpec = serde_json::from_value(
        serde_json::json!({"name": "team", "type": "hardcoded", "claim": "team", "value": "x"}),
    )
    .unwrap();
    s.insert_mapper(&mapper).await.unwrap();
    moved(s.config_version().await.unwrap(), "mapper added");
    let role = Role::from_spec(&RoleSpec {
        name: "auditor".into(),
        ..Default::default()
    })
    .unwrap();
    s.insert_role(&role, false).await.unwrap();
    moved(s.config_version().await.unwrap(), "role added");
    let holder = Holder::User(doc.id.clone());
    s.grant_role(&holder, &RoleRef::realm("auditor"))
        .await
        .unwrap();
    moved(s.config_version().await.unwrap(), "role granted");
    s.revoke_role(&holder, &RoleRef::realm("auditor"))
        .await
        .unwrap();
    moved(s.config_version().await.unwrap(), "role revoked");
    s.delete_mapper("team").await.unwrap();
    moved(s.config_version().await.unwrap(), "mapper removed");
    s.delete_client("app").await.unwrap();
    moved(s.config_version().await.unwrap(), "client removed");
    user(s, "nurse").await;
    assert_eq!(
        s.config_version().await.unwrap(),
        last,
        "a user is not configuration"
    );
}
