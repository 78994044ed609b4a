//! Clients several tests register, and the grant a service client makes.

use domino_idp::config::Secret;
use domino_idp::domain::client::{ClientSpec, GrantType};

use crate::helpers::{REDIRECT_URI, TestApp, play_client};

pub const SVC_SECRET: &str = "svc-secret-0123456789";

/// A public client `id` that may redirect to `REDIRECT_URI`.
pub fn public_client(id: &str) -> ClientSpec {
    ClientSpec {
        client_id: id.into(),
        public: true,
        redirect_uris: vec![REDIRECT_URI.into()],
        ..ClientSpec::default()
    }
}

/// `svc`: a confidential client allowed only the client-credentials grant.
pub fn svc_client() -> ClientSpec {
    ClientSpec {
        client_id: "svc".into(),
        secret: Some(Secret::new(SVC_SECRET)),
        grant_types: vec![GrantType::ClientCredentials],
        ..ClientSpec::default()
    }
}

/// `domino-play` as a Keycloak client: the defaults a client gets when its
/// definition names no scopes (`roles` among them).
pub fn keycloak_play() -> ClientSpec {
    let defaults = ClientSpec::default();
    ClientSpec {
        default_scopes: defaults.default_scopes,
        optional_scopes: defaults.optional_scopes,
        ..play_client()
    }
}

impl TestApp {
    /// A client-credentials grant as `svc`, with no scope asked for.
    pub async fn svc_grant(&self) -> reqwest::Response {
        self.oidc_post(
            "token",
            &[("grant_type", "client_credentials")],
            Some(("svc", SVC_SECRET)),
        )
        .await
    }
}
