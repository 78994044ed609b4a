//! What tests read from published keys: a token verified against the JWKS
//! as a consumer would, the kids of a JWKS, and the realm document's
//! `public_key` as a consumer configured with it (Keep's keyFile) would load it.

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

/// Verifies a JWT using only what the JWKS publishes (n/e), as a consumer would.
pub fn verify_with_jwks(token: &str, jwks: &Value, issuer: &str) -> Value {
    verify_with_jwks_for(token, jwks, issuer, "Domino")
}

/// `verify_with_jwks` for audience `aud` (an ID token's is the client id).
pub fn verify_with_jwks_for(token: &str, jwks: &Value, issuer: &str, aud: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).expect("header");
    let kid = header.kid.expect("kid in header");
    let jwk = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid is published");
    let key = jsonwebtoken::DecodingKey::from_rsa_components(
        jwk["n"].as_str().expect("n"),
        jwk["e"].as_str().expect("e"),
    )
    .expect("rsa components");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[aud]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("token verifies with the JWKS")
        .claims
}
