//! The verdicts of `check` on tokens signed and tampered with here.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use serde_json::json;

use super::*;
use crate::verify::testkit::{ISS, claims, jwk, keys, now, sign};

fn jwks() -> KeySet {
    let [a, b] = keys();
    KeySet::from_jwks(
        "JWKS test",
        &json!({"keys": [jwk(a, "kid-a"), jwk(b, "kid-b")]}),
    )
    .unwrap()
}

fn expect() -> Expectations {
    Expectations::new(Some(ISS.into()), vec!["Domino".into()], 5)
}

fn code(token: &str, keys: &KeySet, expect: &Expectations) -> Code {
    verify(token, keys, expect).unwrap_err().code
}

#[test]
fn a_good_token_verifies_by_kid() {
    let [_, b] = keys();
    let token = sign(b, Algorithm::RS256, Some("kid-b"), &claims(json!({})));
    let ok = verify(&token, &jwks(), &expect()).unwrap();
    assert_eq!(ok.key, "kid kid-b");
    assert_eq!(ok.claims["sub"], "CN=Doctor Notes/O=ProjectKeep");
    assert_eq!(ok.issuer.as_deref(), Some(ISS));
}

#[test]
fn without_a_kid_every_key_is_tried() {
    let [_, b] = keys();
    let token = sign(b, Algorithm::RS256, None, &claims(json!({})));
    assert_eq!(verify(&token, &jwks(), &expect()).unwrap().key, "kid kid-b");
}

#[test]
fn an_unknown_kid_is_named_with_the_known_ones() {
    let [a, _] = keys();
    let token = sign(
        a,
        Algorithm::RS256,
        Some("rotated-away"),
        &claims(json!({})),
    );
    let err = verify(&token, &jwks(), &expect()).unwrap_err();
    assert_eq!(err.code, Code::UnknownKid);
    assert!(err.message.contains("rotated-away") && err.message.contains("kid-a, kid-b"));
}

#[test]
fn a_key_without_kid_serves_any_kid_and_a_wrong_key_fails_the_signature() {
    let [a, b] = keys();
    let pem = KeySet::from_pem("key file a.pem", a.public_pem.as_bytes()).unwrap();
    let token = sign(a, Algorithm::RS256, Some("whatever"), &claims(json!({})));
    assert!(
        verify(&token, &pem, &expect())
            .unwrap()
            .key
            .contains("thumbprint")
    );
    let forged = sign(b, Algorithm::RS256, Some("kid-a"), &claims(json!({})));
    assert_eq!(code(&forged, &pem, &expect()), Code::InvalidSignature);
    assert_eq!(code(&forged, &jwks(), &expect()), Code::InvalidSignature);
}

#[test]
fn hmac_with_the_public_key_as_secret_is_refused() {
    let [a, _] = keys();
    let pem = KeySet::from_pem("key file a.pem", a.public_pem.as_bytes()).unwrap();
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let mut header = jsonwebtoken::Header::new(alg);
        header.kid = Some("kid-a".into());
        let secret = EncodingKey::from_secret(a.public_pem.as_bytes());
        let forged = jsonwebtoken::encode(&header, &claims(json!({})), &secret).unwrap();
        let err = verify(&forged, &pem, &expect()).unwrap_err();
        assert_eq!(err.code, Code::HmacRefused, "{alg:?}");
        assert!(err.message.contains("HMAC"), "{}", err.message);
        assert_eq!(code(&forged, &jwks(), &expect()), Code::HmacRefused);
    }
}

#[test]
fn unsigned_and_malformed_tokens_are_refused() {
    let [a, _] = keys();
    let good = sign(a, Algorithm::RS256, Some("kid-a"), &claims(json!({})));
    let payload = good.split('.').nth(1).unwrap();
    for header in [r#"{"alg":"none"}"#, r#"{"alg":"None","typ":"JWT"}"#] {
        let none = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(header));
        assert_eq!(code(&none, &jwks(), &expect()), Code::AlgNone);
    }
    let weird = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"XS1"}"#));
    assert_eq!(code(&weird, &jwks(), &expect()), Code::AlgorithmNotAccepted);
    let truncated = &good[..good.rfind('.').unwrap()];
    for bad in ["", "garbage", "a.b.c", "a.b.c.d.e", truncated] {
        let err = verify(bad, &jwks(), &expect()).unwrap_err();
        assert_eq!(err.code, Code::Malformed, "{bad}");
        assert!(
            err.message.starts_with("malformed token"),
            "{}",
            err.message
        );
    }
    let cut_signature = &good[..good.len() - 7];
    let cut = code(cut_signature, &jwks(), &expect());
    assert!(
        matches!(cut, Code::InvalidSignature | Code::Malformed),
        "{cut}"
    );
    let mut tampered = good.clone().into_bytes();
    let at = tampered.len() - 20;
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(code(&tampered, &jwks(), &expect()), Code::InvalidSignature);
}

#[test]
fn algorithms_follow_the_key() {
    let [a, _] = keys();
    // The JWK says RS256; an RS512 signature by the same key is not accepted.
    let rs512 = sign(a, Algorithm::RS512, Some("kid-a"), &claims(json!({})));
    let err = verify(&rs512, &jwks(), &expect()).unwrap_err();
    assert_eq!(err.code, Code::AlgorithmNotAccepted);
    assert!(err.message.contains("RS512"), "{}", err.message);
    // A bare PEM key accepts the PKCS#1 v1.5 family, not PSS.
    let pem = KeySet::from_pem("key file", a.public_pem.as_bytes()).unwrap();
    assert!(verify(&rs512, &pem, &expect()).is_ok());
    let ps256 = sign(a, Algorithm::PS256, None, &claims(json!({})));
    assert_eq!(code(&ps256, &pem, &expect()), Code::AlgorithmNotAccepted);
    // A pinned algorithm (a Keep provider's) narrows further.
    let pinned = Expectations {
        algorithm: Some(Algorithm::RS256),
        ..expect()
    };
    assert_eq!(code(&rs512, &pem, &pinned), Code::AlgorithmNotAccepted);
}

#[test]
fn a_pinned_kid_must_be_in_the_header() {
    let [a, _] = keys();
    let pem = KeySet::from_pem("key file", a.public_pem.as_bytes()).unwrap();
    let pinned = Expectations {
        kid: Some("kid-a".into()),
        ..expect()
    };
    let with = sign(a, Algorithm::RS256, Some("kid-a"), &claims(json!({})));
    let other = sign(a, Algorithm::RS256, Some("kid-x"), &claims(json!({})));
    let without = sign(a, Algorithm::RS256, None, &claims(json!({})));
    assert!(verify(&with, &pem, &pinned).is_ok());
    assert_eq!(code(&other, &pem, &pinned), Code::KidMismatch);
    assert_eq!(code(&without, &pem, &pinned), Code::KidMismatch);
}

#[test]
fn expiry_and_not_before_honour_the_leeway() {
    let [a, _] = keys();
    let just_expired = sign(
        a,
        Algorithm::RS256,
        None,
        &claims(json!({"exp": now() - 3})),
    );
    assert!(
        verify(&just_expired, &jwks(), &expect()).is_ok(),
        "within leeway"
    );
    let expired = sign(
        a,
        Algorithm::RS256,
        None,
        &claims(json!({"exp": now() - 3600})),
    );
    let err = verify(&expired, &jwks(), &expect()).unwrap_err();
    assert_eq!(err.code, Code::ExpiredSignature);
    assert!(err.message.contains("expired at"), "{}", err.message);
    let lenient = Expectations {
        leeway: 7200,
        ..expect()
    };
    assert!(verify(&expired, &jwks(), &lenient).is_ok());
    let unchecked = Expectations {
        check_expiry: false,
        ..expect()
    };
    assert!(
        !verify(&expired, &jwks(), &unchecked)
            .unwrap()
            .expiry_checked
    );

    let early = sign(
        a,
        Algorithm::RS256,
        None,
        &claims(json!({"nbf": now() + 600})),
    );
    let err = verify(&early, &jwks(), &expect()).unwrap_err();
    assert_eq!(err.code, Code::ImmatureSignature);
    assert!(err.message.contains("not valid before"), "{}", err.message);

    let no_exp = sign(a, Algorithm::RS256, None, &claims(json!({"exp": null})));
    assert_eq!(code(&no_exp, &jwks(), &expect()), Code::MissingClaim);
    let text_exp = sign(a, Algorithm::RS256, None, &claims(json!({"exp": "soon"})));
    assert_eq!(code(&text_exp, &jwks(), &expect()), Code::InvalidClaim);
}

#[test]
fn issuer_and_audience_must_match_and_be_present() {
    let [a, _] = keys();
    let t = |extra| sign(a, Algorithm::RS256, None, &claims(extra));
    let err = verify(&t(json!({"iss": "https://evil/"})), &jwks(), &expect()).unwrap_err();
    assert_eq!(err.code, Code::InvalidIssuer);
    assert!(err.message.contains("https://evil/") && err.message.contains(ISS));
    assert_eq!(
        code(&t(json!({"iss": null})), &jwks(), &expect()),
        Code::InvalidIssuer
    );

    let err = verify(&t(json!({"aud": "Other"})), &jwks(), &expect()).unwrap_err();
    assert_eq!(err.code, Code::InvalidAudience);
    assert!(err.message.contains("Other") && err.message.contains("Domino"));
    assert_eq!(
        code(&t(json!({"aud": null})), &jwks(), &expect()),
        Code::InvalidAudience
    );
    let array = t(json!({"aud": ["account", "Domino"]}));
    assert!(verify(&array, &jwks(), &expect()).is_ok());
    let several = Expectations {
        audiences: vec!["api://x".into(), "account".into()],
        ..expect()
    };
    assert!(verify(&array, &jwks(), &several).is_ok());

    // Unchecked when no expectation is set.
    let open = Expectations::new(None, Vec::new(), 5);
    assert!(verify(&t(json!({"iss": null, "aud": "Other"})), &jwks(), &open).is_ok());
}
