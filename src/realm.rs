//! The realm as the world sees it: issuer, JWKS, realm info and discovery.
//! The bodies are rendered once (discovery) or once per key change (JWKS,
//! realm info) and served as bytes, each with a strong ETag computed then.

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::HeaderValue;
use serde_json::{Value, json};

use crate::domain::client::GrantType;
use crate::domain::scope::KNOWN_CLIENT_SCOPES;
use crate::keys::{Documents, KeyRing};

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
    "given_name",
    "family_name",
    "azp",
    "sid",
    "auth_time",
    "nonce",
    "at_hash",
    "client_id",
];

/// The realm's fixed parts. What depends on the keys lives with them, in
/// `state.keys.current().documents`, so that it changes with the signer.
#[derive(Debug, Clone)]
pub struct Realm {
    pub name: String,
    pub issuer: String,
    pub discovery: Bytes,
    /// The strong ETag of `discovery`.
    pub discovery_etag: HeaderValue,
    /// `Cache-Control` of the public documents: `public, max-age=<jwks_max_age>`.
    pub cache_control: HeaderValue,
}

impl Realm {
    /// `<public_url><prefix>/realms/<realm>`; `prefix` is `/auth` or empty
    /// (`Config::realms_prefix`).
    pub fn issuer_for(public_url: &str, prefix: &str, realm: &str) -> String {
        crate::domain::token::issuer_url(public_url, prefix, realm)
    }

    pub fn new(public_url: &str, prefix: &str, name: &str, max_age: u64) -> Realm {
        let issuer = Self::issuer_for(public_url, prefix, name);
        let oidc = format!("{issuer}/protocol/openid-connect");
        let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
        let discovery = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{oidc}/auth"),
            "token_endpoint": format!("{oidc}/token"),
            "userinfo_endpoint": format!("{oidc}/userinfo"),
            "jwks_uri": format!("{oidc}/certs"),
            "introspection_endpoint": format!("{oidc}/token/introspect"),
            "revocation_endpoint": format!("{oidc}/revoke"),
            "end_session_endpoint": format!("{oidc}/logout"),
            "grant_types_supported": GrantType::ALL.map(GrantType::as_str),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": KNOWN_CLIENT_SCOPES,
            "claims_supported": CLAIMS_SUPPORTED,
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "authorization_response_iss_parameter_supported": true,
            "frontchannel_logout_supported": false,
            "backchannel_logout_supported": false,
        });
        let (discovery, discovery_etag) = render(&discovery);
        Realm {
            name: name.to_owned(),
            discovery,
            discovery_etag,
            cache_control: HeaderValue::from_str(&format!("public, max-age={max_age}"))
                .unwrap_or(HeaderValue::from_static("no-cache")),
            issuer,
        }
    }

    /// The JWKS and the realm document for `keys`.
    pub fn documents(&self, keys: &KeyRing) -> Documents {
        let info = json!({
            "realm": self.name,
            "public_key": keys.signer().public.spki_base64(),
            "token-service": format!("{}/protocol/openid-connect", self.issuer),
            "account-service": format!("{}/account", self.issuer),
            "tokens-not-before": 0,
        });
        let (jwks, jwks_etag) = render(&keys.jwks());
        let (info, info_etag) = render(&info);
        Documents {
            jwks,
            jwks_etag,
            info,
            info_etag,
        }
    }
}

fn render(value: &Value) -> (Bytes, HeaderValue) {
    let body = Bytes::from(value.to_string());
    let etag = etag(&body);
    (body, etag)
}

/// A strong entity tag for `body` (RFC 9110 §8.8.3): the first 128 bits of
/// its SHA-256, base64url, quoted. Equal bodies get equal tags, so instances
/// serving the same keys agree and caches revalidate across them.
pub fn etag(body: &[u8]) -> HeaderValue {
    let digest = digest::digest(&digest::SHA256, body);
    let tag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16]));
    // Base64url and quotes only: always a valid header value.
    HeaderValue::try_from(tag).unwrap_or(HeaderValue::from_static("\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_strong_quoted_and_follow_the_body() {
        let a = etag(b"{\"keys\":[]}");
        let text = a.to_str().unwrap();
        assert!(text.starts_with('"') && text.ends_with('"') && text.len() == 24);
        assert_eq!(a, etag(b"{\"keys\":[]}"));
        assert_ne!(a, etag(b"{\"keys\":[1]}"));
    }
}
