//! Liveness and readiness.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use domino_idp::domain::user::User;
use domino_idp::store::{Store, StoreError, UserRecord};
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn live_and_ready() {
    let app = spawn_app().await;
    let live = app.get("/health/live").await;
    assert_eq!(live.status(), 200);
    assert_eq!(live.json::<Value>().await.unwrap()["status"], "UP");
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "UP");
    assert_eq!(body["checks"][0]["name"], "store");
    assert_eq!(
        body["checks"][1]["data"]["active_kid"],
        app.state.keys.signer().kid()
    );
}

/// The real SQLite store with a switch that makes it unreachable, to stand in
/// for a database that went away.
struct Flaky {
    inner: Arc<dyn Store>,
    down: AtomicBool,
}

#[async_trait::async_trait]
impl Store for Flaky {
    async fn migrate(&self) -> Result<(), StoreError> {
        self.inner.migrate().await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("connection refused".into()));
        }
        self.inner.ping().await
    }
    async fn insert_user(&self, r: &UserRecord) -> Result<User, StoreError> {
        self.inner.insert_user(r).await
    }
    async fn insert_user_if_absent(&self, r: &UserRecord) -> Result<bool, StoreError> {
        self.inner.insert_user_if_absent(r).await
    }
    async fn find_user_for_login(&self, key: &str) -> Result<Option<User>, StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("connection refused".into()));
        }
        self.inner.find_user_for_login(key).await
    }
    async fn get_user(&self, key: &str) -> Result<Option<User>, StoreError> {
        self.inner.get_user(key).await
    }
    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        self.inner.list_users().await
    }
    async fn set_password_hash(&self, id: &str, hash: &str) -> Result<bool, StoreError> {
        self.inner.set_password_hash(id, hash).await
    }
    async fn set_enabled(&self, key: &str, enabled: bool) -> Result<bool, StoreError> {
        self.inner.set_enabled(key, enabled).await
    }
    async fn delete_user(&self, key: &str) -> Result<bool, StoreError> {
        self.inner.delete_user(key).await
    }
}

#[tokio::test]
async fn ready_goes_red_and_logins_get_503_when_the_store_is_down() {
    let app = spawn_app().await;
    app.add_doc().await;
    let flaky = Arc::new(Flaky {
        inner: app.state.store.clone(),
        down: AtomicBool::new(false),
    });
    let mut state = app.state.clone();
    state.store = flaky.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, domino_idp::build_router(state)).await });
    let client = reqwest::Client::new();
    let status = |path: &'static str| {
        let req = client.get(format!("{base}{path}")).send();
        async move { req.await.unwrap().status() }
    };
    let login = || {
        client
            .post(format!("{base}/auth"))
            .json(&serde_json::json!({"username": "doc", "password": PASSWORD}))
            .send()
    };
    assert_eq!(status("/health/ready").await, 200);
    flaky.down.store(true, Ordering::SeqCst);
    let ready = client
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "DOWN");
    assert_eq!(body["checks"][0]["status"], "DOWN");
    let resp = login().await.unwrap();
    assert_eq!(resp.headers()["retry-after"], "5");
    let err = expect_error(resp, 503).await;
    assert!(
        !err["message"]
            .as_str()
            .unwrap()
            .contains("connection refused"),
        "{err}"
    );
    assert_eq!(status("/health/live").await, 200);
    flaky.down.store(false, Ordering::SeqCst);
    assert_eq!(status("/health/ready").await, 200);
    assert_eq!(login().await.unwrap().status(), 200);
}
