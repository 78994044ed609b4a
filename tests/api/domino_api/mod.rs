//! The Domino Data Lab side (seeds 000 and 001): the identity endpoints at
//! the root, the built-in `domino-play` client, and the token exchange of an
//! API key for a Domino Token (RFC 8693), as the agent and the proxy call it.
//! `identity` covers the endpoints and who the caller is; `exchange` the
//! token exchange and the built-in client.

use std::collections::BTreeSet;
use std::time::Duration;

use domino_idp::domain::client::Client;
use domino_idp::domain::mapper::MapperSpec;
use domino_idp::domain::user::UserSpec;
use serde_json::{Value, json};

use crate::clients::public_client;
use crate::helpers::*;

mod exchange;
mod identity;

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const API_KEY: &str = "urn:domino:params:oauth:token-type:api-key";

/// The `domino-play` client as the store holds it, if it does.
async fn domino_play(app: &TestApp) -> Option<Client> {
    app.state.store.get_client("domino-play").await.unwrap()
}

/// A key for `username`, made by the operation the CLI calls.
async fn key_for(app: &TestApp, username: &str) -> String {
    domino_idp::app::apikeys::create(app.state.store.as_ref(), username, None, None, 0)
        .await
        .expect("key created")
        .key
}

/// The agent's request, exactly: the built-in public `domino-play`, no secret.
async fn exchange(app: &TestApp, key: &str) -> reqwest::Response {
    app.oidc_post(
        "token",
        &[
            ("grant_type", EXCHANGE),
            ("subject_token", key),
            ("subject_token_type", API_KEY),
            ("client_id", "domino-play"),
        ],
        None,
    )
    .await
}

/// The same at the helpers' confidential `domino-play` (`play_client()`).
async fn exchange_confidential(app: &TestApp, key: &str) -> reqwest::Response {
    app.oidc_post(
        "token",
        &[
            ("grant_type", EXCHANGE),
            ("subject_token", key),
            ("subject_token_type", API_KEY),
        ],
        Some(("domino-play", CLIENT_SECRET)),
    )
    .await
}

async fn domino_token(app: &TestApp, key: &str) -> String {
    token_of(exchange(app, key).await).await
}

async fn token_of(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn get_with(app: &TestApp, path: &str, header: (&str, &str)) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .header(header.0, header.1)
        .send()
        .await
        .unwrap()
}

fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

fn keys_of(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn mapper(spec: Value) -> MapperSpec {
    serde_json::from_value(spec).unwrap()
}
