//! What an API key costs the database when it is used often (issue 17):
//! its last use is written at most once a minute, and its token exchanges
//! share one login session, so a hot key's uses and exchanges write nothing;
//! and what still holds: revoking the key ends that session (its Domino
//! Tokens stop at once), ending the session makes the next exchange start
//! another, a disabled user's tokens are refused.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;
use crate::store_double::Flaky;

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const API_KEY: &str = "urn:domino:params:oauth:token-type:api-key";
/// Longer than any request needs here, shorter than SQLite's busy timeout
/// (5 s): a request that waited for the held write lock runs out of it.
const PROMPT: Duration = Duration::from_secs(3);

async fn key_for(app: &TestApp, username: &str) -> String {
    domino_idp::app::apikeys::create(app.state.store.as_ref(), username, None, None, 0)
        .await
        .expect("key created")
        .key
}

/// `GET /v4/users/self` with the key; its status.
async fn self_with_key(app: &TestApp, key: &str) -> u16 {
    prompt_status(users_self(app).header("X-Domino-Api-Key", key)).await
}

/// `GET /v4/users/self` with a bearer token; its status.
async fn self_with_token(app: &TestApp, token: &str) -> u16 {
    prompt_status(users_self(app).bearer_auth(token)).await
}

fn users_self(app: &TestApp) -> reqwest::RequestBuilder {
    app.client.get(app.url("/v4/users/self"))
}

/// The status of `req`, which must be answered within `PROMPT`.
async fn prompt_status(req: reqwest::RequestBuilder) -> u16 {
    req.timeout(PROMPT)
        .send()
        .await
        .expect("answered promptly")
        .status()
        .as_u16()
}

/// The agent's exchange of `key` at the built-in `domino-play`.
fn exchange_request(app: &TestApp, key: &str) -> reqwest::RequestBuilder {
    exchange_request_at(app, &app.oidc("token"), key)
}

/// The same at another server's token endpoint.
pub fn exchange_request_at(app: &TestApp, token_url: &str, key: &str) -> reqwest::RequestBuilder {
    app.client
        .post(token_url)
        .form(&[
            ("grant_type", EXCHANGE),
            ("subject_token", key),
            ("subject_token_type", API_KEY),
            ("client_id", "domino-play"),
        ])
        .timeout(PROMPT)
}

/// Exchanges the key: the token and its `sid`.
async fn exchange(app: &TestApp, key: &str) -> (String, String) {
    let resp = exchange_request(app, key)
        .send()
        .await
        .expect("answered promptly");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    let claims = verify_with_jwks(&token, &app.jwks().await, &app.issuer());
    (token, claims["sid"].as_str().expect("a sid").to_owned())
}

/// `requests` sent at once: their access tokens (each must get a 200).
pub async fn racing_tokens(
    requests: impl IntoIterator<Item = reqwest::RequestBuilder>,
) -> Vec<String> {
    let mut racing = tokio::task::JoinSet::new();
    for request in requests {
        racing.spawn(async move {
            let resp = request.send().await.expect("answered promptly");
            assert_eq!(resp.status(), 200);
            resp.json::<Value>().await.unwrap()["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        });
    }
    racing.join_all().await
}

async fn exchange_status(app: &TestApp, key: &str) -> u16 {
    let resp = exchange_request(app, key).send().await.unwrap();
    resp.status().as_u16()
}

async fn last_used(app: &TestApp) -> Option<i64> {
    let keys = app.state.store.list_api_keys(None).await.unwrap();
    assert_eq!(keys.len(), 1);
    keys[0].last_used_at
}

/// Another connection holding the write lock of the app's database
/// (SQLite: the whole file; Postgres: the tables of keys and sessions), as
/// a long write elsewhere would. Reads go on; a write waits.
enum WriteLock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl WriteLock {
    async fn take(app: &TestApp) -> WriteLock {
        use sqlx::Connection as _;
        let url = &app.state.config.database_url;
        if on_postgres() {
            let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
            sqlx::query("LOCK TABLE api_keys, sessions IN EXCLUSIVE MODE")
                .execute(&mut conn)
                .await
                .unwrap();
            WriteLock::Postgres(conn)
        } else {
            let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut conn)
                .await
                .unwrap();
            WriteLock::Sqlite(conn)
        }
    }

    async fn release(self) {
        use sqlx::Connection as _;
        match self {
            WriteLock::Sqlite(mut conn) => {
                sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
            WriteLock::Postgres(mut conn) => {
                sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
        }
    }
}

#[tokio::test]
async fn a_hot_key_writes_nothing_within_the_minute() {
    let app = spawn_app().await;
    app.add_doc().await;
    let key = key_for(&app, "doc").await;
    assert_eq!(last_used(&app).await, None);
    // The first use is recorded; the first exchange starts the key's session.
    assert_eq!(self_with_key(&app, &key).await, 200);
    let first_use = last_used(&app).await.expect("the first use is recorded");
    let (_, sid) = exchange(&app, &key).await;

    // Half a minute on, with the database's write lock held elsewhere: the
    // key, its exchange and the exchanged token all answer at once, so none
    // of them wrote (a write would wait for the lock past `PROMPT`).
    app.clock.advance(Duration::from_secs(30));
    let lock = WriteLock::take(&app).await;
    for _ in 0..3 {
        assert_eq!(self_with_key(&app, &key).await, 200);
    }
    let (token, again) = exchange(&app, &key).await;
    assert_eq!(again, sid, "the exchange reuses the key's session");
    assert_eq!(self_with_token(&app, &token).await, 200);
    assert_eq!(
        last_used(&app).await,
        Some(first_use),
        "a use within the minute of the recorded one is not written"
    );
    lock.release().await;

    // A minute after the recorded use, the next one is recorded.
    app.clock.advance(Duration::from_secs(31));
    assert_eq!(self_with_key(&app, &key).await, 200);
    let later = last_used(&app).await.unwrap();
    assert!(later >= first_use + 61, "{later} vs {first_use}");
}

/// A burst of first exchanges of a new key starts its session with one
/// write: one exchange at a time writes it, the others read what it wrote
/// (before, each of them tried, and the writes queued on the writer while
/// the signatures held the cores).
#[tokio::test]
async fn a_burst_of_first_exchanges_writes_the_session_once() {
    let app = spawn_app().await;
    app.add_doc().await;
    let key = key_for(&app, "doc").await;
    let store = Arc::new(Flaky::new(app.state.store.clone()));
    let state = app.state.with_store(store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, domino_idp::build_router(state)).await });
    let token_url = app.oidc("token").replacen(&app.url(""), &base, 1);
    let tokens = racing_tokens((0..20).map(|_| exchange_request_at(&app, &token_url, &key))).await;
    let jwks = app.jwks().await;
    let sids: HashSet<String> = tokens
        .iter()
        .map(|t| verify_with_jwks(t, &jwks, &app.issuer())["sid"].to_string())
        .collect();
    assert_eq!(sids.len(), 1, "one session per key: {sids:?}");
    assert_eq!(
        store.calls("start_api_key_session"),
        1,
        "the session was written once"
    );
}

#[tokio::test]
async fn a_keys_exchanges_share_a_session_that_revoking_the_key_ends() {
    let app = spawn_app().await;
    app.add_doc().await;
    let key = key_for(&app, "doc").await;
    let other = key_for(&app, "doc").await;
    // Exchanges racing for a key without a session end up in one session.
    let tokens = racing_tokens((0..12).map(|_| exchange_request(&app, &key))).await;
    let jwks = app.jwks().await;
    let sids: Vec<Value> = tokens
        .iter()
        .map(|t| verify_with_jwks(t, &jwks, &app.issuer())["sid"].clone())
        .collect();
    let (token, sid) = exchange(&app, &key).await;
    assert!(
        sids.iter().all(|s| *s == sid),
        "one session per key: {sids:?}"
    );
    let (second, same) = exchange(&app, &key).await;
    assert_eq!(same, sid);
    assert_ne!(second, token, "each exchange is its own token");
    let (other_token, other_sid) = exchange(&app, &other).await;
    assert_ne!(other_sid, sid, "each key has its own session");
    for t in [&token, &second, &other_token] {
        assert_eq!(self_with_token(&app, t).await, 200);
    }

    // A disabled user's tokens are refused, and its key's exchange; enabled
    // again, the session had not ended.
    app.state.store.set_enabled("doc", false).await.unwrap();
    assert_eq!(self_with_token(&app, &token).await, 401);
    assert_eq!(exchange_status(&app, &key).await, 400);
    app.state.store.set_enabled("doc", true).await.unwrap();
    assert_eq!(self_with_token(&app, &token).await, 200);

    // Ending the session (console, `session end`) ends its tokens; the next
    // exchange starts another.
    domino_idp::app::admin::end_session(&app.state, &sid, "test")
        .await
        .unwrap();
    assert_eq!(self_with_token(&app, &token).await, 401);
    let (token, sid2) = exchange(&app, &key).await;
    assert_ne!(sid2, sid);
    assert_eq!(self_with_token(&app, &token).await, 200);

    // Near its end the session is extended, not replaced: a token of it
    // outlives the session's first expiry.
    app.clock.advance(Duration::from_secs(36_000 - 100));
    let (late, sid3) = exchange(&app, &key).await;
    assert_eq!(sid3, sid2, "extended");
    app.clock.advance(Duration::from_secs(200));
    assert_eq!(self_with_token(&app, &late).await, 200);
    // Unused past its end, it is replaced.
    app.clock.advance(Duration::from_secs(36_001));
    let (fresh, sid4) = exchange(&app, &key).await;
    assert_ne!(sid4, sid3);

    // Revoking the key ends its session: its tokens stop at once; the other
    // key's do not.
    let (other_token, _) = exchange(&app, &other).await;
    let id = app
        .state
        .store
        .list_api_keys(None)
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.key_hash == domino_idp::domain::opaque::digest(&key))
        .unwrap()
        .id;
    domino_idp::app::apikeys::revoke(app.state.store.as_ref(), &id)
        .await
        .unwrap()
        .expect("revoked");
    assert_eq!(self_with_token(&app, &fresh).await, 401);
    assert_eq!(exchange_status(&app, &key).await, 400);
    assert_eq!(self_with_token(&app, &other_token).await, 200);
    // The session is listed no more.
    let live = app
        .state
        .store
        .list_live_sessions(None, app_now(&app), 100)
        .await
        .unwrap();
    assert!(live.iter().all(|s| s.session.id != sid4), "{live:?}");
}

fn app_now(app: &TestApp) -> i64 {
    use domino_idp::clock::Clock as _;
    app.clock.now()
}
