//! Brute-force counters: back-off, quick failures, reservations and the
//! settling of a success.

use std::sync::Arc;

use crate::store::{FailureKind, LockPolicy, Reservation, Store};

/// The policy every counter scenario runs under: three failures, then 1 s
/// doubling up to 5 s; a minute's quiet resets the count.
const POLICY: LockPolicy = LockPolicy {
    max_failures: 3,
    wait_increment_ms: 1000,
    max_wait_ms: 5000,
    failure_reset_ms: 60_000,
    quick_check_ms: 0,
    quick_wait_ms: 0,
};

async fn reserve(store: &dyn Store, key: &str, now: i64, nonce: i64) -> Reservation {
    store
        .reserve_login_attempt(FailureKind::User, key, now, &POLICY, 10_000, nonce)
        .await
        .unwrap()
}

/// Back-off doubles from `max_failures` on up to the cap; the other kind
/// is a separate counter; a quiet `failure_reset` starts the count again;
/// a key Postgres cannot hold as text still gets a counter.
pub(crate) async fn back_off_doubles_up_to_the_cap_and_resets(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let user = FailureKind::User;
    let mut t = 1_000_000;
    for expected in 1..=2 {
        let st = s
            .record_login_failure(user, "doc", t, &POLICY)
            .await
            .unwrap();
        assert_eq!((st.failures, st.locked_until), (expected, None));
        t += 10;
    }
    // 3rd failure: 1 s; 4th: 2 s; 5th: 4 s; 6th: capped at 5 s.
    for (n, wait) in [(3, 1000), (4, 2000), (5, 4000), (6, 5000), (7, 5000)] {
        let st = s
            .record_login_failure(user, "doc", t, &POLICY)
            .await
            .unwrap();
        assert_eq!(st.failures, n);
        assert_eq!(st.locked_until, Some(t + wait), "failure {n}");
        assert!(st.lock_started);
        assert_eq!(s.login_lock(user, "doc", t).await.unwrap(), Some(t + wait));
        assert_eq!(s.login_lock(user, "doc", t + wait).await.unwrap(), None);
        t += wait;
    }
    assert_eq!(
        s.login_lock(FailureKind::Ip, "doc", t - 1).await.unwrap(),
        None
    );
    assert_eq!(s.list_lockouts(t - 1).await.unwrap().len(), 1);
    t += POLICY.failure_reset_ms + 1;
    let st = s
        .record_login_failure(user, "doc", t, &POLICY)
        .await
        .unwrap();
    assert_eq!((st.failures, st.locked_until), (1, None));
    assert!(s.clear_login_failures(user, "doc").await.unwrap());
    assert!(!s.clear_login_failures(user, "doc").await.unwrap());
    // The first failure can lock already.
    let once = LockPolicy {
        max_failures: 1,
        ..POLICY
    };
    let st = s
        .record_login_failure(user, "x\0y", t, &once)
        .await
        .unwrap();
    assert_eq!((st.failures, st.locked_until), (1, Some(t + 1000)));
    assert_eq!(s.login_lock(user, "x\0y", t).await.unwrap(), Some(t + 1000));
}

/// Two failures within `quick_check` lock for `quick_wait`; the longer of
/// two lockouts wins; counters that neither lock nor count are purged.
pub(crate) async fn quick_failures_lock_and_old_rows_are_purged(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let quick = LockPolicy {
        quick_check_ms: 500,
        quick_wait_ms: 3000,
        ..POLICY
    };
    let ip = FailureKind::Ip;
    let st = s
        .record_login_failure(ip, "192.0.2.1", 10_000, &quick)
        .await
        .unwrap();
    assert_eq!(st.locked_until, None);
    let st = s
        .record_login_failure(ip, "192.0.2.1", 10_100, &quick)
        .await
        .unwrap();
    assert_eq!(st.locked_until, Some(13_100));
    // The third failure earns 1 s of back-off; the quick-login lockout is longer and wins.
    let st = s
        .record_login_failure(ip, "192.0.2.1", 10_200, &quick)
        .await
        .unwrap();
    assert_eq!(st.locked_until, Some(13_200));
    let lockouts = s.list_lockouts(10_300).await.unwrap();
    assert_eq!(lockouts[0].key, "192.0.2.1");
    assert_eq!(lockouts[0].failures, 3);
    // 10 s keeps the counter, 71 s (past its last failure plus
    // failure_reset) removes it, at most `limit` counters a statement.
    for key in ["192.0.2.2", "192.0.2.3"] {
        s.record_login_failure(ip, key, 10_300, &quick)
            .await
            .unwrap();
    }
    assert_eq!(s.purge_login_failures(10_000, 2).await.unwrap(), 0);
    assert_eq!(s.purge_login_failures(71_000, 2).await.unwrap(), 2);
    assert_eq!(s.purge_login_failures(71_000, 2).await.unwrap(), 1);
    assert_eq!(s.list_lockouts(10_300).await.unwrap(), vec![]);
    assert_eq!(s.purge_login_failures(71_000, 2).await.unwrap(), 0);
}

/// A right password settles both its reservations at once: the name's
/// failures reset and its places are free again, the address's failures
/// stay. A lockout of either counter that began during the check
/// withholds the success (the later one is returned) and resets nothing.
pub(crate) async fn a_success_settles_both_counters(store: Arc<dyn Store>) {
    let s = store.as_ref();
    let (user, ip, addr) = (FailureKind::User, FailureKind::Ip, "192.0.2.7");
    let reserve_ip = |now: i64, nonce: i64| async move {
        s.reserve_login_attempt(ip, addr, now, &POLICY, 10_000, nonce)
            .await
            .unwrap()
    };
    let t = 2_000_000;
    for i in 0..2 {
        s.record_login_failure(user, "doc", t + i, &POLICY)
            .await
            .unwrap();
        s.record_login_failure(ip, addr, t + i, &POLICY)
            .await
            .unwrap();
    }
    // Two failures of three: one place left on each counter.
    assert_eq!(reserve(s, "doc", t + 10, 1).await, Reservation::Granted);
    assert_eq!(reserve_ip(t + 10, 2).await, Reservation::Granted);
    assert_eq!(reserve(s, "doc", t + 10, 3).await, Reservation::Busy);
    assert_eq!(
        s.settle_login_success("doc", Some(addr), t + 11)
            .await
            .unwrap(),
        None
    );
    // The name's whole budget is back; the address's place is free but
    // its two failures still count.
    for nonce in 4..7 {
        assert_eq!(reserve(s, "doc", t + 12, nonce).await, Reservation::Granted);
    }
    assert_eq!(reserve(s, "doc", t + 12, 7).await, Reservation::Busy);
    assert_eq!(reserve_ip(t + 12, 8).await, Reservation::Granted);
    assert_eq!(reserve_ip(t + 12, 9).await, Reservation::Busy);
    for _ in 0..3 {
        s.release_login_attempt(user, "doc", false).await.unwrap();
    }
    s.release_login_attempt(ip, addr, false).await.unwrap();

    // The address locks during the check: the success is withheld and
    // the name keeps its failures.
    for i in 0..2 {
        s.record_login_failure(user, "doc", t + 20 + i, &POLICY)
            .await
            .unwrap();
    }
    assert_eq!(reserve(s, "doc", t + 22, 10).await, Reservation::Granted);
    assert_eq!(reserve_ip(t + 22, 11).await, Reservation::Granted);
    let other = s
        .record_login_failure(ip, addr, t + 23, &POLICY)
        .await
        .unwrap();
    assert_eq!(other.locked_until, Some(t + 1_023));
    assert_eq!(
        s.settle_login_success("doc", Some(addr), t + 24)
            .await
            .unwrap(),
        Some((ip, t + 1_023))
    );
    assert_eq!(reserve(s, "doc", t + 25, 12).await, Reservation::Granted);
    assert_eq!(reserve(s, "doc", t + 25, 13).await, Reservation::Busy);

    // The name itself locked (no address): withheld, nothing reset.
    let st = s
        .record_login_failure(user, "doc", t + 30, &POLICY)
        .await
        .unwrap();
    assert_eq!(st.locked_until, Some(t + 1_030));
    assert_eq!(
        s.settle_login_success("doc", None, t + 31).await.unwrap(),
        Some((user, t + 1_030))
    );
    let st = s
        .record_login_failure(user, "doc", t + 1_031, &POLICY)
        .await
        .unwrap();
    assert_eq!(st.failures, 4);
    // Counters that do not exist: nothing to settle, nothing locked.
    assert_eq!(
        s.settle_login_success("nobody", Some("198.51.100.1"), t)
            .await
            .unwrap(),
        None
    );
}

/// 40 reservations at once on `max_failures = 3`: exactly 3 granted.
/// Failures keep the budget spent, a lock refuses, a lapsed lease frees
/// its places, and a success gives the whole budget back.
pub(crate) async fn reservations_bound_the_checks(store: Arc<dyn Store>) {
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { reserve(store.as_ref(), "doc", 1_000_000, i + 1).await })
        })
        .collect();
    let mut granted = 0;
    for t in tasks {
        match t.await.unwrap() {
            Reservation::Granted => granted += 1,
            other => assert_eq!(other, Reservation::Busy),
        }
    }
    assert_eq!(granted, 3);
    let s = store.as_ref();
    // Two fail, one is given back: one place is free again.
    s.record_login_failure(FailureKind::User, "doc", 1_000_001, &POLICY)
        .await
        .unwrap();
    s.record_login_failure(FailureKind::User, "doc", 1_000_002, &POLICY)
        .await
        .unwrap();
    s.release_login_attempt(FailureKind::User, "doc", false)
        .await
        .unwrap();
    assert_eq!(
        reserve(s, "doc", 1_000_003, 100).await,
        Reservation::Granted
    );
    assert_eq!(reserve(s, "doc", 1_000_003, 101).await, Reservation::Busy);
    // Its failure is the third: locked.
    let st = s
        .record_login_failure(FailureKind::User, "doc", 1_000_004, &POLICY)
        .await
        .unwrap();
    assert_eq!(st.locked_until, Some(1_001_004));
    assert_eq!(
        reserve(s, "doc", 1_000_005, 102).await,
        Reservation::Locked(1_001_004)
    );
    // After the lockout, one guess at a time.
    assert_eq!(
        reserve(s, "doc", 1_001_005, 103).await,
        Reservation::Granted
    );
    assert_eq!(reserve(s, "doc", 1_001_005, 104).await, Reservation::Busy);
    // A reservation never settled (a crashed process) lapses with its lease.
    assert_eq!(
        reserve(s, "doc", 1_011_006, 105).await,
        Reservation::Granted
    );
    // A success resets the failures: the whole budget is back.
    s.release_login_attempt(FailureKind::User, "doc", true)
        .await
        .unwrap();
    for nonce in 106..108 {
        assert_eq!(
            reserve(s, "doc", 1_011_007, nonce).await,
            Reservation::Granted
        );
    }
    // Other keys are other counters.
    assert_eq!(
        reserve(s, "nurse", 1_011_007, 200).await,
        Reservation::Granted
    );
}

/// A reservation's statement runs again after a broken connection
/// (`Conns::fetch_rerunnable`): the second run of one call (its nonce and
/// its time) finds the place its first run took and is granted without
/// taking another; a new call takes the next place as before.
pub(crate) async fn a_reservation_run_twice_takes_one_place(store: Arc<dyn Store>) {
    let s = store.as_ref();
    for key in ["new", "known"] {
        if key == "known" {
            // A counter with a row already: the statement's update side.
            s.record_login_failure(FailureKind::User, key, 999_000, &POLICY)
                .await
                .unwrap();
        }
        assert_eq!(reserve(s, key, 1_000_000, 1).await, Reservation::Granted);
        assert_eq!(
            reserve(s, key, 1_000_000, 1).await,
            Reservation::Granted,
            "{key}: the second run"
        );
        // `max_failures` is 3, less one live failure for "known".
        let free = if key == "known" { 1 } else { 2 };
        for nonce in 0..free {
            assert_eq!(
                reserve(s, key, 1_000_000, 10 + nonce).await,
                Reservation::Granted,
                "{key}"
            );
        }
        assert_eq!(
            reserve(s, key, 1_000_000, 99).await,
            Reservation::Busy,
            "{key}"
        );
    }
}

/// `n` failures of one new key at once, spread over `stores` (separate
/// pools act as separate instances): every one is counted, each count seen
/// exactly once.
pub(crate) async fn failures_are_all_counted(stores: &[Arc<dyn Store>], n: usize) {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let s = stores[i % stores.len()].clone();
            let now = 5_000 + i64::try_from(i).unwrap();
            tokio::spawn(async move {
                s.record_login_failure(FailureKind::User, "doc", now, &POLICY)
                    .await
                    .unwrap()
                    .failures
            })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=u32::try_from(n).unwrap()).collect::<Vec<_>>());
}
