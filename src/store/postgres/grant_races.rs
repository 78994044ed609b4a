//! The shared rotation scenario, and races between separate pools, as
//! between instances, against the server `IDP_TEST_POSTGRES_URL` names
//! (skipped when it is unset).

use std::sync::Arc;

use super::PgStore;
use super::testdb;
use crate::store::scenarios::grants::{Fixture, NOW};
use crate::store::{CodeRecord, CodeRedemption, GrantStore, RefreshClaim, StoreError};

const ROUNDS: usize = 40;

/// The grant fixture, and three pools on its database.
struct Pools {
    pools: Vec<Arc<PgStore>>,
    grants: Fixture,
}

async fn fixture() -> Option<Pools> {
    let (store, url) = testdb::fresh().await?;
    let grants = Fixture::new(&store).await;
    let mut pools = vec![Arc::new(store)];
    for _ in 0..2 {
        pools.push(Arc::new(PgStore::open(&url).await.unwrap()));
    }
    Some(Pools { pools, grants })
}

impl Pools {
    async fn session(&self, id: &str) {
        self.grants.session(self.pools[0].as_ref(), id).await;
    }

    fn token(&self, hash: &str, family: &str, session: &str) -> crate::store::RefreshRecord {
        self.grants.token_in(hash, family, session)
    }
}

crate::store::scenarios::scenario_tests!(testdb::fresh: expired_grants_are_purged_in_chunks, a_session_inserted_twice_is_stored_once);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refresh_token_rotates_once() {
    let Some((store, _)) = testdb::fresh().await else {
        return;
    };
    crate::store::scenarios::a_refresh_token_rotates_once(Arc::new(store)).await;
}

/// Rotations of one token from separate pools: one wins, the other
/// stores nothing; a family revoked from a third pool while a rotation
/// is in flight leaves no live token.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rotation_raced_from_two_pools_wins_once() {
    let Some(f) = fixture().await else { return };
    f.session("s").await;
    for i in 0..ROUNDS {
        let (hash, family) = (format!("rt-{i}"), format!("f-{i}"));
        f.pools[0]
            .insert_refresh(&f.token(&hash, &family, "s"))
            .await
            .unwrap();
        let (a, b, c) = (f.pools[1].clone(), f.pools[2].clone(), f.pools[0].clone());
        let (sa, sb) = (
            f.token(&format!("a-{i}"), &family, "s"),
            f.token(&format!("b-{i}"), &family, "s"),
        );
        let (ha, hb, fam) = (hash.clone(), hash.clone(), family.clone());
        let (ra, rb, rc) = tokio::join!(
            tokio::spawn(async move { a.rotate_refresh(&ha, &sa).await.unwrap() }),
            tokio::spawn(async move { b.rotate_refresh(&hb, &sb).await.unwrap() }),
            tokio::spawn(async move {
                if i % 2 == 0 {
                    c.revoke_family(&fam, NOW + 1).await.map(drop).unwrap();
                }
            }),
        );
        rc.unwrap();
        let outcomes = [ra.unwrap(), rb.unwrap()];
        let won = outcomes
            .iter()
            .filter(|o| matches!(o, RefreshClaim::Claimed(_)))
            .count();
        assert!(won <= 1, "round {i}: {outcomes:?}");
        if i % 2 == 1 {
            assert_eq!(won, 1, "round {i}: {outcomes:?}");
        }
        let mut live = 0;
        for h in [format!("a-{i}"), format!("b-{i}")] {
            if let Some(t) = f.pools[0].get_refresh(&h).await.unwrap() {
                live += usize::from(t.revoked_at.is_none());
                if i % 2 == 0 {
                    assert!(t.revoked_at.is_some(), "round {i}: {h} outlived its family");
                }
            }
        }
        assert!(live <= 1, "round {i}");
    }
}

/// A rotation whose answer was lost with its connection runs again
/// (`Conns::fetch_rerunnable`): its second run answers as the first did and
/// stores nothing more, while another rotation of the same token, with a
/// successor of its own, is still refused as a replay.
#[tokio::test]
async fn a_rotation_run_twice_answers_as_the_first() {
    let Some(f) = fixture().await else { return };
    f.session("s").await;
    let store = f.pools[0].as_ref();
    store
        .insert_refresh(&f.token("rt", "f", "s"))
        .await
        .unwrap();
    let successor = f.token("next", "f", "s");
    let first = store.rotate_refresh("rt", &successor).await.unwrap();
    let again = store.rotate_refresh("rt", &successor).await.unwrap();
    let (RefreshClaim::Claimed(first), RefreshClaim::Claimed(again)) = (first, again) else {
        panic!("a second run of the rotation was refused");
    };
    assert_eq!(first.token_hash, "rt");
    assert_eq!(again.used_at, first.used_at);
    let other = store
        .rotate_refresh("rt", &f.token("other", "f", "s"))
        .await
        .unwrap();
    assert!(
        !matches!(other, RefreshClaim::Claimed(_)),
        "a replay with another successor was accepted: {other:?}"
    );
    assert!(store.get_refresh("other").await.unwrap().is_none());
    let next = store.get_refresh("next").await.unwrap().unwrap();
    assert!(next.used_at.is_none() && next.revoked_at.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_code_raced_from_two_pools_is_redeemed_once() {
    let Some(f) = fixture().await else { return };
    f.session("s").await;
    for i in 0..ROUNDS {
        let hash = format!("code-{i}");
        f.pools[0]
            .insert_code(&CodeRecord {
                code_hash: hash.clone(),
                client_id: "app".parse().unwrap(),
                redirect_uri: "http://127.0.0.1:9/cb".parse().unwrap(),
                user_id: f.grants.user_id.clone(),
                session_id: "s".into(),
                scope: "openid".into(),
                nonce: None,
                code_challenge: None,
                auth_time: NOW,
                expires_at: NOW + 60,
            })
            .await
            .unwrap();
        let (a, b) = (f.pools[1].clone(), f.pools[2].clone());
        let (ha, hb) = (hash.clone(), hash.clone());
        let (ra, rb) = tokio::join!(
            tokio::spawn(async move { a.redeem_code(&ha, NOW).await.unwrap() }),
            tokio::spawn(async move { b.redeem_code(&hb, NOW).await.unwrap() }),
        );
        let outcomes = [ra.unwrap(), rb.unwrap()];
        let won = outcomes
            .iter()
            .filter(|o| matches!(o, CodeRedemption::Redeemed(_)))
            .count();
        assert_eq!(won, 1, "round {i}: {outcomes:?}");
    }
}

/// A successor inserted while its family is revoked, or its session
/// ended, from another pool never stays live, whichever commits first.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revocation_wins_against_a_rotation_in_flight() {
    let Some(f) = fixture().await else { return };
    for i in 0..ROUNDS {
        let (session, family) = (format!("s-{i}"), format!("f-{i}"));
        f.session(&session).await;
        f.pools[0]
            .insert_refresh(&f.token(&format!("a-{i}"), &family, &session))
            .await
            .unwrap();
        let successor = f.token(&format!("b-{i}"), &family, &session);
        let (a, b) = (f.pools[1].clone(), f.pools[2].clone());
        let (fam, sess) = (family.clone(), session.clone());
        let revoke = tokio::spawn(async move {
            if i % 2 == 0 {
                a.revoke_family(&fam, NOW + 1).await.map(drop)
            } else {
                a.end_session(&sess, NOW + 1).await.map(drop)
            }
        });
        let insert = tokio::spawn(async move { b.insert_refresh(&successor).await });
        revoke.await.unwrap().unwrap();
        insert.await.unwrap().unwrap();
        for hash in [format!("a-{i}"), format!("b-{i}")] {
            let t = f.pools[0].get_refresh(&hash).await.unwrap().unwrap();
            assert!(t.revoked_at.is_some(), "round {i}: {hash} is still live");
        }
    }
    // Tokens of live families in live sessions are born live.
    f.session("live").await;
    f.pools[0]
        .insert_refresh(&f.token("live-1", "live", "live"))
        .await
        .unwrap();
    let t = f.pools[0].get_refresh("live-1").await.unwrap().unwrap();
    assert_eq!(t.revoked_at, None);
    // A session that is gone cannot get a token.
    assert!(matches!(
        f.pools[0]
            .insert_refresh(&f.token("orphan", "o", "no-such-session"))
            .await,
        Err(StoreError::Unavailable(_))
    ));
}
