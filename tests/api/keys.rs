//! What tests read from published keys: the kids of a JWKS, and the realm
//! document's `public_key` as a consumer configured with it (Keep's keyFile)
//! would load it.

use base64::Engine as _;
use jsonwebtoken::DecodingKey;
use serde_json::Value;

/// The `kid` of each key in a JWKS, in its order.
pub fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// The realm document's `public_key` (base64 DER SPKI), wrapped as PEM and
/// loaded as an RSA verification key.
pub fn realm_public_key(realm: &Value) -> DecodingKey {
    let der = base64::engine::general_purpose::STANDARD
        .decode(realm["public_key"].as_str().unwrap())
        .unwrap();
    let pem = pem::encode(&pem::Pem::new("PUBLIC KEY", der));
    DecodingKey::from_rsa_pem(pem.as_bytes()).unwrap()
}
