//! Token verification, as the server does it (`LiveKeys::verify`, for
//! userinfo/introspection/logout hints) and as `token verify` does it
//! (`verify::verify` against a key set), with arbitrary strings, arbitrary
//! header/payload JSON, and arbitrary claims correctly signed by the real
//! key; and the key-set parsers `token verify` feeds with fetched documents.
//! Never panics; a forged token never verifies.

#![no_main]

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domino_idp::domain::token::Claims;
use domino_idp::verify::{Expectations, KeySet, verify};
use domino_idp_fuzz::app;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const ISSUER: &str = "http://idp.test/auth/realms/DominoRealm";

#[derive(Arbitrary, Debug)]
enum Input {
    /// Any string as a token.
    Raw(String),
    /// Three base64url parts of arbitrary bytes.
    Parts {
        header: Vec<u8>,
        payload: Vec<u8>,
        signature: Vec<u8>,
    },
    /// Arbitrary header and payload text with the real signature of
    /// something else (a forgery).
    Forged { header: String, payload: String },
    /// Arbitrary claims (JSON object text) signed by the real key.
    Signed(String),
    /// A JWKS document to build a key set from.
    Jwks(String),
    /// PEM text to build a key set from.
    Pem(Vec<u8>),
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn keyset() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(|| {
        KeySet::from_ring("fuzz", &app().state.keys.current().ring).expect("key set")
    })
}

/// A genuine token, whose signature a forgery borrows.
fn genuine() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let claims: Claims = serde_json::from_value(serde_json::json!({
            "iss": ISSUER, "sub": "doc", "aud": "Domino", "iat": 1_900_000_000u64, "exp": 4_000_000_000u64,
        }))
        .expect("claims");
        app().state.keys.sign(&claims).expect("sign")
    })
}

fn check(token: &str) -> (bool, bool) {
    let keys = &app().state.keys;
    let server = keys.verify(token, Some(ISSUER), Some("Domino"), 5).is_ok();
    let _ = keys.verify(token, None, None, 0);
    let _ = keys.verify_ignoring_expiry(token, ISSUER);
    let expect = Expectations::new(Some(ISSUER.into()), vec!["Domino".into()], 5);
    let cli = verify(token, keyset(), &expect).is_ok();
    (server, cli)
}

fuzz_target!(|input: Input| {
    match input {
        Input::Raw(token) => {
            let _ = check(&token);
        }
        Input::Parts {
            header,
            payload,
            signature,
        } => {
            let token = format!("{}.{}.{}", b64(&header), b64(&payload), b64(&signature));
            assert_eq!(check(&token), (false, false), "a random signature verified");
        }
        Input::Forged { header, payload } => {
            let signature = genuine().rsplit('.').next().unwrap_or("");
            let token = format!(
                "{}.{}.{signature}",
                b64(header.as_bytes()),
                b64(payload.as_bytes())
            );
            if token != genuine() {
                assert_eq!(check(&token), (false, false), "a forgery verified: {token}");
            }
        }
        Input::Signed(claims) => {
            let Ok(claims) = serde_json::from_str::<Claims>(&claims) else {
                return;
            };
            if let Ok(token) = app().state.keys.sign(&claims) {
                let _ = check(&token);
            }
        }
        Input::Jwks(text) => {
            if let Ok(doc) = serde_json::from_str(&text)
                && let Ok(keys) = KeySet::from_jwks("fuzz", &doc)
            {
                let _ = keys.kids();
                let expect = Expectations::new(None, vec![], 0);
                let _ = verify(genuine(), &keys, &expect);
            }
        }
        Input::Pem(bytes) => {
            if let Ok(keys) = KeySet::from_pem("fuzz", &bytes) {
                let expect = Expectations::new(None, vec![], 0);
                let _ = verify(genuine(), &keys, &expect);
            }
        }
    }
});
