//! Keys and tokens for the unit tests: RSA keys generated once per process,
//! tokens signed with jsonwebtoken.

use std::sync::OnceLock;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub struct TestKey {
    pub pkcs8: Vec<u8>,
    pub encoding: EncodingKey,
    /// `-----BEGIN PUBLIC KEY-----` (SPKI).
    pub public_pem: String,
    pub spki: Vec<u8>,
    pub n: String,
    pub e: String,
}

fn generate() -> TestKey {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let pkcs8 = pair.as_der().unwrap().as_ref().to_vec();
    let private_pem = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.clone()));
    let public = pair.public_key();
    let spki = public.as_der().unwrap().as_ref().to_vec();
    TestKey {
        encoding: EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
        public_pem: pem::encode(&pem::Pem::new("PUBLIC KEY", spki.clone())),
        n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        spki,
        pkcs8,
    }
}

/// Two distinct keys, generated on first use.
pub fn keys() -> &'static [TestKey; 2] {
    static KEYS: OnceLock<[TestKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| [generate(), generate()])
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub const ISS: &str = "https://idp.test/auth/realms/R";

/// Claims a consumer expecting `ISS` and `Domino` accepts, with `extra` merged in.
pub fn claims(extra: Value) -> Value {
    let mut c = json!({
        "iss": ISS, "aud": "Domino", "sub": "CN=Doctor Notes/O=ProjectKeep",
        "iat": now(), "exp": now() + 300,
    });
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            if v.is_null() {
                c.remove(k);
            } else {
                c.insert(k.clone(), v.clone());
            }
        }
    }
    c
}

pub fn sign(key: &TestKey, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

/// The JWK of `key` as this issuer publishes it.
pub fn jwk(key: &TestKey, kid: &str) -> Value {
    json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": key.n, "e": key.e})
}
