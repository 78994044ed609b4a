//! What a resource server asks about a token (userinfo, introspection at
//! `domino-play`), and the realm roles a token's claims carry.

use serde_json::Value;

use crate::helpers::{CLIENT_SECRET, TestApp};

impl TestApp {
    /// Userinfo with `token` as the bearer.
    pub async fn userinfo(&self, token: &str) -> reqwest::Response {
        self.client
            .get(self.oidc("userinfo"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// `token` introspected by `domino-play`: the JSON body.
    pub async fn play_introspect(&self, token: &str) -> Value {
        self.oidc_post(
            "token/introspect",
            &[("token", token)],
            Some(("domino-play", CLIENT_SECRET)),
        )
        .await
        .json()
        .await
        .unwrap()
    }
}

/// `realm_access.roles` of a token's claims; none when it has no such claim.
pub fn realm_roles(claims: &Value) -> Vec<String> {
    claims["realm_access"]["roles"]
        .as_array()
        .map(|a| a.iter().map(|r| r.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}
