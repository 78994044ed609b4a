//! The realm as the world sees it: issuer, JWKS, realm info and discovery.
//! The bodies are rendered once per key change and served as bytes.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::keys::KeyRing;

/// Claims that tokens from this issuer may carry (for discovery).
const CLAIMS_SUPPORTED: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "iat",
    "exp",
    "jti",
    "CN",
    "scope",
    "email",
    "name",
    "preferred_username",
];

#[derive(Debug, Clone)]
pub struct Realm {
    pub name: String,
    pub issuer: String,
    pub jwks: Bytes,
    pub info: Bytes,
    pub discovery: Bytes,
}

impl Realm {
    pub fn issuer_for(public_url: &str, realm: &str) -> String {
        format!("{}/auth/realms/{realm}", public_url.trim_end_matches('/'))
    }

    pub fn new(public_url: &str, name: &str, keys: &KeyRing) -> Realm {
        let issuer = Self::issuer_for(public_url, name);
        let info = json!({
            "realm": name,
            "public_key": keys.signer().public.spki_base64(),
            "token-service": format!("{issuer}/protocol/openid-connect"),
            "account-service": format!("{issuer}/account"),
            "tokens-not-before": 0,
        });
        // Only what this build serves; the OIDC endpoints join when they exist.
        let discovery = json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/protocol/openid-connect/certs"),
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": CLAIMS_SUPPORTED,
        });
        Realm {
            name: name.to_owned(),
            jwks: render(&keys.jwks()),
            info: render(&info),
            discovery: render(&discovery),
            issuer,
        }
    }
}

fn render(value: &Value) -> Bytes {
    Bytes::from(value.to_string())
}
