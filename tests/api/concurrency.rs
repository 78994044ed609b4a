//! A login storm queues on the argon2 semaphore without starving the rest.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_parallel_logins_succeed_and_liveness_stays_fast() {
    let app = Arc::new(spawn_app().await);
    app.add_doc().await;
    let done = Arc::new(AtomicUsize::new(0));
    let mut logins = Vec::new();
    for _ in 0..50 {
        let app = app.clone();
        let done = done.clone();
        logins.push(tokio::spawn(async move {
            let status = app.login("doc", PASSWORD).await.status();
            done.fetch_add(1, Ordering::SeqCst);
            status
        }));
    }
    // Wait until the storm is under way, then ask for liveness and the JWKS:
    // they must answer while most logins are still queued behind argon2.
    while done.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let live = app.get("/health/live").await;
    assert_eq!(live.status(), 200);
    let jwks = app
        .get("/auth/realms/DominoRealm/protocol/openid-connect/certs")
        .await;
    assert_eq!(jwks.status(), 200);
    let finished_when_answered = done.load(Ordering::SeqCst);
    assert!(
        finished_when_answered < 50,
        "liveness waited for the whole login storm ({finished_when_answered} of 50 done)"
    );
    for login in logins {
        assert_eq!(login.await.unwrap(), 200);
    }
}
