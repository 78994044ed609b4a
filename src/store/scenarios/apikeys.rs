//! API keys and the session their exchanges share.

use std::sync::Arc;

use super::user;
use crate::store::{ApiKeyRecord, FailureKind, LockPolicy, Store, StoreError};

fn key(id: &str, user_id: &str, key_hash: &str) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        user_id: user_id.into(),
        name: format!("key {id}"),
        key_hash: key_hash.into(),
        created_at: 1_000,
        expires_at: None,
        last_used_at: None,
    }
}

/// API keys: found by digest, listed per user, touched at most once a
/// minute, deleted once, and gone with their user.
pub(crate) async fn api_keys_live_and_die_with_their_user(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let doc = user(s, "doc").await;
    let nurse = user(s, "nurse").await;
    s.insert_api_key(&key("k1", &doc.id, "h1")).await.unwrap();
    s.insert_api_key(&ApiKeyRecord {
        created_at: 2_000,
        expires_at: Some(9_000),
        ..key("k2", &doc.id, "h2")
    })
    .await
    .unwrap();
    s.insert_api_key(&key("k3", &nurse.id, "h3")).await.unwrap();
    for (taken, what) in [
        (key("k1", &doc.id, "h9"), "id"),
        (key("k9", &doc.id, "h1"), "digest"),
    ] {
        assert!(
            matches!(s.insert_api_key(&taken).await, Err(StoreError::Conflict(_))),
            "a taken {what}"
        );
    }
    assert!(matches!(
        s.insert_api_key(&key("k8", "no-such-user", "h8")).await,
        Err(StoreError::Conflict(_))
    ));
    let found = s.find_api_key("h2").await.unwrap().unwrap();
    assert_eq!((found.id.as_str(), found.expires_at), ("k2", Some(9_000)));
    assert_eq!(s.find_api_key("nope").await.unwrap(), None);
    assert_eq!(s.find_api_key("h\0").await.unwrap(), None);
    let ids = |keys: Vec<ApiKeyRecord>| keys.into_iter().map(|k| k.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.list_api_keys(Some(&doc.id)).await.unwrap()),
        ["k1", "k2"]
    );
    assert_eq!(ids(s.list_api_keys(None).await.unwrap()).len(), 3);
    // Used: recorded; used again within the minute: not rewritten.
    s.touch_api_key("k1", 5_000).await.unwrap();
    s.touch_api_key("k1", 5_030).await.unwrap();
    assert_eq!(
        s.find_api_key("h1").await.unwrap().unwrap().last_used_at,
        Some(5_000)
    );
    s.touch_api_key("k1", 5_060).await.unwrap();
    assert_eq!(
        s.find_api_key("h1").await.unwrap().unwrap().last_used_at,
        Some(5_060)
    );
    // The key with its user and its shared session, in one read; the
    // session is replaced only from the one the key named.
    let found = s.find_api_key_holder("h2").await.unwrap().unwrap();
    assert_eq!(
        (found.key.id.as_str(), found.user.id.as_str()),
        ("k2", doc.id.as_str())
    );
    assert_eq!((found.session_id, found.session), (None, None));
    assert!(s.find_api_key_holder("nope").await.unwrap().is_none());
    assert!(s.find_api_key_holder("h\0").await.unwrap().is_none());
    let session = |id: &str| super::session(id, &doc.id, 5_000, 6_000);
    assert!(
        s.start_api_key_session("k2", None, &session("ks1"))
            .await
            .unwrap()
    );
    assert!(
        !s.start_api_key_session("k2", None, &session("ks2"))
            .await
            .unwrap(),
        "lost the race"
    );
    assert_eq!(s.get_session("ks2").await.unwrap(), None, "nothing written");
    assert!(
        !s.start_api_key_session("k9", None, &session("ks2"))
            .await
            .unwrap(),
        "no such key"
    );
    let found = s.find_api_key_holder("h2").await.unwrap().unwrap();
    assert_eq!(found.session_id.as_deref(), Some("ks1"));
    assert_eq!(found.session, Some(session("ks1")));
    let (joined, owner) = s.get_session_with_user("ks1").await.unwrap().unwrap();
    assert_eq!((joined, owner.id), (session("ks1"), doc.id.clone()));
    assert!(s.get_session_with_user("nope").await.unwrap().is_none());
    assert!(s.extend_api_key_session("ks1", 5_500, 9_000).await.unwrap());
    assert!(
        !s.extend_api_key_session("ks1", 9_000, 9_500).await.unwrap(),
        "expired"
    );
    assert!(
        s.start_api_key_session("k2", Some("ks1"), &session("ks2"))
            .await
            .unwrap()
    );
    // Revoked once, and its session ends with it.
    let gone = s.delete_api_key("k2").await.unwrap().unwrap();
    assert!(
        s.get_session("ks2")
            .await
            .unwrap()
            .unwrap()
            .ended_at
            .is_some()
    );
    assert!(
        s.get_session("ks1")
            .await
            .unwrap()
            .unwrap()
            .ended_at
            .is_none()
    );
    assert_eq!(gone.user_id, doc.id);
    assert_eq!(s.delete_api_key("k2").await.unwrap(), None);
    assert_eq!(s.find_api_key("h2").await.unwrap(), None);
    // The user's removal takes their keys, and only theirs.
    assert!(s.delete_user("doc").await.unwrap());
    assert_eq!(s.find_api_key("h1").await.unwrap(), None);
    assert_eq!(ids(s.list_api_keys(None).await.unwrap()), ["k3"]);
}

/// An API key read with its address's lockout in one statement: the lockout
/// whether or not a key has the digest, the key as `find_api_key_holder`
/// reads it, and nothing of another kind's or address's counter.
pub(crate) async fn an_api_key_is_read_with_its_address_lock(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let doc = user(s, "doc").await;
    s.insert_api_key(&key("k1", &doc.id, "h1")).await.unwrap();
    let read = |hash: &'static str, address: &'static str, now: i64| async move {
        let (locked, found) = s
            .find_api_key_holder_and_lock(hash, address, now)
            .await
            .unwrap();
        (locked, found.map(|f| (f.key.id, f.user.username)))
    };
    let doc_key = || Some(("k1".to_owned(), "doc".to_owned()));
    assert_eq!(read("h1", "192.0.2.1", 10_000).await, (None, doc_key()));
    assert_eq!(read("nope", "192.0.2.1", 10_000).await, (None, None));
    assert_eq!(read("h\0", "192.0.2.1", 10_000).await, (None, None));
    let once = LockPolicy {
        max_failures: 1,
        wait_increment_ms: 1000,
        max_wait_ms: 5000,
        failure_reset_ms: 60_000,
        quick_check_ms: 0,
        quick_wait_ms: 0,
    };
    for (kind, counter) in [
        (FailureKind::Ip, "192.0.2.1"),
        (FailureKind::User, "192.0.2.2"),
    ] {
        s.record_login_failure(kind, counter, 10_000, &once)
            .await
            .unwrap();
    }
    assert_eq!(
        read("h1", "192.0.2.1", 10_500).await,
        (Some(11_000), doc_key())
    );
    assert_eq!(
        read("nope", "192.0.2.1", 10_500).await,
        (Some(11_000), None)
    );
    assert_eq!(read("h\0", "192.0.2.1", 10_500).await, (Some(11_000), None));
    assert_eq!(
        read("h1", "192.0.2.1", 11_000).await,
        (None, doc_key()),
        "over"
    );
    assert_eq!(
        read("h1", "192.0.2.2", 10_500).await,
        (None, doc_key()),
        "a name's"
    );
}
