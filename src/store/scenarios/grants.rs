//! Refresh tokens: the rotation's guarantees, run against each backend
//! (`sqlite::grants` and `postgres::grants`), and the fixture the Postgres
//! races between pools share.

use std::sync::Arc;

use crate::domain::client::{Client, ClientSpec, GrantType};
use crate::store::{RefreshClaim, RefreshRecord, SessionRecord, Store};

pub(crate) const NOW: i64 = 1_800_000_000;

/// The user `doc` and two public clients, `app` and `other`, that may use
/// codes and refresh tokens.
pub(crate) struct Fixture {
    pub(crate) user_id: String,
}

impl Fixture {
    pub(crate) async fn new(s: &dyn Store) -> Fixture {
        let user = super::user(s, "doc").await;
        for id in ["app", "other"] {
            let (client, _) = Client::from_spec(&ClientSpec {
                client_id: id.into(),
                public: true,
                redirect_uris: vec!["http://127.0.0.1:9/cb".into()],
                grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
                ..ClientSpec::default()
            })
            .unwrap();
            s.insert_client(&client).await.unwrap();
        }
        Fixture { user_id: user.id }
    }

    /// Inserts a session of `doc`, live for an hour from `NOW`.
    pub(crate) async fn session(&self, s: &dyn Store, id: &str) {
        s.insert_session(&super::session(id, &self.user_id, NOW, NOW + 3600))
            .await
            .unwrap();
    }

    /// A live refresh token of `app` for `doc` in the session `session`.
    pub(crate) fn token_in(&self, hash: &str, family: &str, session: &str) -> RefreshRecord {
        RefreshRecord {
            token_hash: hash.into(),
            family_id: family.into(),
            session_id: session.into(),
            client_id: "app".parse().unwrap(),
            user_id: self.user_id.clone(),
            scope: "openid".into(),
            auth_time: NOW,
            issued_at: NOW,
            expires_at: NOW + 1800,
            used_at: None,
            revoked_at: None,
        }
    }

    /// What a purge must tell apart: `expired` deny-list entries
    /// (`old-0`, ...) and a live one (`live`); an expired session `gone`
    /// with its expired refresh token `gone-rt`; a live session `s` with
    /// its token `live-rt`.
    pub(crate) async fn expiring_grants(&self, s: &dyn Store, expired: u32) {
        for i in 0..expired {
            s.deny_jti(&format!("old-{i}"), NOW - 1).await.unwrap();
        }
        s.deny_jti("live", NOW + 60).await.unwrap();
        s.insert_session(&super::session("gone", &self.user_id, NOW - 7200, NOW - 1))
            .await
            .unwrap();
        let mut token = self.token_in("gone-rt", "gone-f", "gone");
        token.expires_at = NOW - 1;
        s.insert_refresh(&token).await.unwrap();
        self.session(s, "s").await;
        s.insert_refresh(&self.token("live-rt", "live-f"))
            .await
            .unwrap();
    }

    /// The same in the session `s`.
    fn token(&self, hash: &str, family: &str) -> RefreshRecord {
        self.token_in(hash, family, "s")
    }
}

/// A token is read with its user and session (and the configuration's
/// change counter) in one statement. Of many
/// rotations of one token at once, one spends it and stores its
/// successor; the others are replays and store nothing. A token of a
/// revoked family, or one named with another session or client, is not
/// spent; a successor of a family revoked meanwhile is born revoked.
pub(crate) async fn a_refresh_token_rotates_once(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let f = Fixture::new(s).await;
    f.session(s, "s").await;
    f.session(s, "s2").await;
    s.insert_refresh(&f.token("a", "f")).await.unwrap();

    // The grant's one read: the token with its user and session.
    let found = s.get_refresh_with_holder("a").await.unwrap().unwrap();
    assert_eq!(found.token, f.token("a", "f"));
    assert_eq!(
        (found.user.id.as_str(), found.user.username.as_str()),
        (f.user_id.as_str(), "doc")
    );
    assert_eq!(found.session.map(|s| s.id), Some("s".to_owned()));
    // The configuration's change counter comes with it.
    assert_eq!(found.config_version, s.config_version().await.unwrap());
    assert!(s.get_refresh_with_holder("nope").await.unwrap().is_none());
    assert!(s.get_refresh_with_holder("a\0").await.unwrap().is_none());

    let racers: Vec<_> = (0..20)
        .map(|i| {
            let (store, successor) = (store.clone(), f.token(&format!("b{i}"), "f"));
            tokio::spawn(async move { store.rotate_refresh("a", &successor).await.unwrap() })
        })
        .collect();
    let mut winners = Vec::new();
    for (i, racer) in racers.into_iter().enumerate() {
        match racer.await.unwrap() {
            RefreshClaim::Claimed(spent) => {
                assert_eq!((spent.token_hash.as_str(), spent.used_at), ("a", Some(NOW)));
                winners.push(format!("b{i}"));
            }
            RefreshClaim::Replayed(spent) => assert_eq!(spent.token_hash, "a"),
            other => panic!("racer {i}: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation wins");
    for i in 0..20 {
        let stored = s.get_refresh(&format!("b{i}")).await.unwrap();
        assert_eq!(stored.is_some(), winners.contains(&format!("b{i}")), "b{i}");
    }
    let live = s.get_refresh(&winners[0]).await.unwrap().unwrap();
    assert_eq!((live.used_at, live.revoked_at), (None, None));

    // Named with another session or client: not spent, nothing stored.
    let mut wrong = f.token("c1", "f");
    wrong.session_id = "s2".into();
    assert!(matches!(
        s.rotate_refresh(&winners[0], &wrong).await.unwrap(),
        RefreshClaim::Inactive
    ));
    let mut wrong = f.token("c2", "f");
    wrong.client_id = "other".parse().unwrap();
    assert!(matches!(
        s.rotate_refresh(&winners[0], &wrong).await.unwrap(),
        RefreshClaim::Inactive
    ));
    for hash in ["c1", "c2"] {
        assert_eq!(s.get_refresh(hash).await.unwrap(), None);
    }

    // A revoked family's token is not spent.
    s.revoke_family("f", NOW).await.unwrap();
    assert!(matches!(
        s.rotate_refresh(&winners[0], &f.token("c3", "f"))
            .await
            .unwrap(),
        RefreshClaim::Inactive
    ));
    assert_eq!(s.get_refresh("c3").await.unwrap(), None);

    // A family with a revoked member (revoked while this one was handed
    // out) gets its successor born revoked.
    s.insert_refresh(&f.token("d", "g")).await.unwrap();
    let mut old = f.token("d0", "g");
    old.revoked_at = Some(NOW - 5);
    s.insert_refresh(&old).await.unwrap();
    let d = s.get_refresh("d").await.unwrap().unwrap();
    assert_eq!(d.revoked_at, None);
    assert!(matches!(
        s.rotate_refresh("d", &f.token("e", "g")).await.unwrap(),
        RefreshClaim::Claimed(_)
    ));
    let e = s.get_refresh("e").await.unwrap().unwrap();
    assert_eq!(e.revoked_at, Some(NOW - 5));

    // Expired or unknown: not spent.
    let mut expired = f.token("x", "h");
    expired.expires_at = NOW;
    s.insert_refresh(&expired).await.unwrap();
    assert!(matches!(
        s.rotate_refresh("x", &f.token("y", "h")).await.unwrap(),
        RefreshClaim::Inactive
    ));
    assert!(matches!(
        s.rotate_refresh("nope", &f.token("z", "h")).await.unwrap(),
        RefreshClaim::Unknown
    ));
    assert!(matches!(
        s.rotate_refresh("a\0", &f.token("z", "h")).await.unwrap(),
        RefreshClaim::Unknown
    ));
}

/// A purge statement deletes at most `limit` rows of its table, and only
/// expired ones: more expired deny-list entries than one chunk holds, an
/// expired session with its refresh token, beside a live one.
pub(crate) async fn expired_grants_are_purged_in_chunks(store: Arc<dyn Store>) {
    use crate::store::Expiring;
    let s = store.as_ref();
    let f = Fixture::new(s).await;
    f.expiring_grants(s, 7).await;

    let purge = |table| s.purge_expired(table, NOW, 5);
    assert_eq!(purge(Expiring::DeniedTokens).await.unwrap(), 5, "a chunk");
    assert_eq!(purge(Expiring::DeniedTokens).await.unwrap(), 2, "the rest");
    assert_eq!(purge(Expiring::DeniedTokens).await.unwrap(), 0);
    for i in 0..7 {
        assert!(!s.is_jti_denied(&format!("old-{i}")).await.unwrap());
    }
    assert!(s.is_jti_denied("live").await.unwrap());
    assert_eq!(purge(Expiring::AuthCodes).await.unwrap(), 0);
    assert_eq!(purge(Expiring::RefreshTokens).await.unwrap(), 1);
    assert_eq!(s.get_refresh("gone-rt").await.unwrap(), None);
    assert!(s.get_refresh("live-rt").await.unwrap().is_some());
    assert_eq!(purge(Expiring::Sessions).await.unwrap(), 1);
    assert_eq!(s.get_session("gone").await.unwrap(), None);
    assert!(s.get_session("s").await.unwrap().is_some());
    for table in Expiring::ALL {
        assert_eq!(purge(table).await.unwrap(), 0, "{table:?}: nothing left");
    }
}

/// A session's insert runs again after a broken connection
/// (`Conns::fetch_rerunnable`): its second run finds the session its first
/// stored and succeeds, changing nothing; another session with the same id
/// is refused (as the store's failure: the id is the server's, and the
/// answer does not name the session that holds it), and the stored one
/// stays as it was.
pub(crate) async fn a_session_inserted_twice_is_stored_once(store: Arc<dyn Store>) {
    use crate::store::StoreError;
    let s = store.as_ref();
    let f = Fixture::new(s).await;
    let mine = super::session("twice", &f.user_id, NOW, NOW + 3600);
    s.insert_session(&mine).await.unwrap();
    s.insert_session(&mine).await.unwrap();
    assert_eq!(s.get_session("twice").await.unwrap(), Some(mine.clone()));

    let other_user = super::user(s, "nurse").await;
    let theirs = [
        super::session("twice", &other_user.id, NOW, NOW + 3600),
        super::session("twice", &f.user_id, NOW + 1, NOW + 3600),
        SessionRecord {
            cookie_hash: Some("cookie".into()),
            ..mine.clone()
        },
    ];
    for other in theirs {
        match s.insert_session(&other).await {
            Err(StoreError::Unavailable(why)) => assert!(!why.contains("twice"), "{why}"),
            answer => panic!("{other:?}: {answer:?}"),
        }
    }
    assert_eq!(s.get_session("twice").await.unwrap(), Some(mine));
}
