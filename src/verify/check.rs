//! The verdict on one token against one key set: header and `alg` policy,
//! `kid` lookup, then jsonwebtoken's signature and claim checks. No I/O.

use std::str::FromStr as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::{Error as JwtError, ErrorKind};
use jsonwebtoken::{Algorithm, AlgorithmFamily, Header, Validation};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::keyset::{KeySet, RSA_ALGORITHMS, VerifyingKey};
use super::{Code, Rejection};

/// What the consumer expects of a token besides a good signature.
#[derive(Debug, Clone)]
pub struct Expectations {
    /// `iss` must equal this; `None` leaves the issuer unchecked.
    pub issuer: Option<String>,
    /// `aud` (string or array) must contain one of these; empty = unchecked.
    pub audiences: Vec<String>,
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    pub leeway: u64,
    /// `false` only for Keep's `disableJwtExpiryCheck`.
    pub check_expiry: bool,
    /// Only this algorithm (a Keep provider's `algorithm`).
    pub algorithm: Option<Algorithm>,
    /// Only tokens whose header names this kid (a Keep provider's `kid`).
    pub kid: Option<String>,
}

impl Expectations {
    pub fn new(issuer: Option<String>, audiences: Vec<String>, leeway: u64) -> Self {
        Expectations {
            issuer,
            audiences,
            leeway,
            check_expiry: true,
            algorithm: None,
            kid: None,
        }
    }
}

/// A token that passed every check.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    pub alg: Algorithm,
    /// The `kid` of the token's header.
    pub kid: Option<String>,
    /// The key that verified the signature, as `VerifyingKey::label` names it.
    pub key: String,
    pub source: String,
    /// The issuer that was required; `None` when `iss` was not checked.
    pub issuer: Option<String>,
    /// The audiences one of which was required; empty when `aud` was not checked.
    pub audiences: Vec<String>,
    pub expiry_checked: bool,
    pub claims: Value,
}

/// Checks `token` against `keys`: the header first (no `none`, no HMAC, an
/// accepted RSA `alg`), then the key by `kid`, then signature and claims.
pub fn verify(token: &str, keys: &KeySet, expect: &Expectations) -> Result<Verified, Rejection> {
    let header = inspect(token)?;
    admits(&header, &keys.source, expect)?;
    let alg = header.alg;
    let candidates = candidates(header.kid.as_deref(), keys)?;
    let usable: Vec<&VerifyingKey> = candidates
        .iter()
        .copied()
        .filter(|k| k.algorithms.contains(&alg))
        .collect();
    if usable.is_empty() {
        let accepted: Vec<String> = candidates
            .iter()
            .map(|k| format!("{} accepts {}", k.label(), names(&k.algorithms)))
            .collect();
        return Err(Rejection::new(
            Code::AlgorithmNotAccepted,
            format!("alg {alg:?} is not accepted: {}", accepted.join("; ")),
        ));
    }

    let validation = validation(alg, expect);
    let mut tried = Vec::new();
    for key in usable {
        match jsonwebtoken::decode::<Value>(token, &key.key, &validation) {
            Ok(data) => {
                return Ok(Verified {
                    alg,
                    kid: header.kid.clone(),
                    key: key.label(),
                    source: keys.source.clone(),
                    issuer: expect.issuer.clone(),
                    audiences: expect.audiences.clone(),
                    expiry_checked: expect.check_expiry,
                    claims: data.claims,
                });
            }
            Err(e) => match e.kind() {
                ErrorKind::InvalidSignature => tried.push(key.label()),
                ErrorKind::InvalidRsaKey(why) => {
                    tried.push(format!("{} (unusable: {why})", key.label()))
                }
                _ => return Err(explain(token, key, alg, expect, &e)),
            },
        }
    }
    Err(Rejection::new(
        Code::InvalidSignature,
        format!(
            "the signature does not verify with {} of {}",
            tried.join(", "),
            keys.source
        ),
    ))
}

/// Parses the header and refuses what no public-key source may accept:
/// unsigned tokens, HMAC (the "HS256 signed with the public key" forgery),
/// encrypted or otherwise malformed tokens.
pub fn inspect(token: &str) -> Result<Header, Rejection> {
    let parts = token.split('.').count();
    if parts != 3 {
        let hint = if parts == 5 {
            " (an encrypted JWE? only signed JWS tokens can be verified)"
        } else {
            ""
        };
        return Err(malformed(format!(
            "a JWT has three dot-separated parts, this one has {parts}{hint}"
        )));
    }
    let header = jsonwebtoken::decode_header(token).map_err(|e| diagnose_header(token, &e))?;
    if header.alg.family() == AlgorithmFamily::Hmac {
        return Err(Rejection::new(
            Code::HmacRefused,
            format!(
                "alg {:?} is an HMAC (shared-secret) algorithm and is refused: a public key is \
                 not a secret, so an HMAC token checked with one is a forgery",
                header.alg
            ),
        ));
    }
    Ok(header)
}

/// The header-level part of the expectations: pinned `alg` and `kid`, and
/// RSA algorithms only. Cheap, so a provider can be skipped before any fetch.
pub fn admits(header: &Header, source: &str, expect: &Expectations) -> Result<(), Rejection> {
    let alg = header.alg;
    if let Some(pinned) = expect.algorithm
        && alg != pinned
    {
        return Err(Rejection::new(
            Code::AlgorithmNotAccepted,
            format!("alg {alg:?} is not the configured algorithm {pinned:?}"),
        ));
    }
    if !RSA_ALGORITHMS.contains(&alg) {
        return Err(Rejection::new(
            Code::AlgorithmNotAccepted,
            format!(
                "alg {alg:?} is not accepted: {source} holds RSA keys, which verify {} only",
                names(&RSA_ALGORITHMS)
            ),
        ));
    }
    if let Some(pinned) = &expect.kid {
        match header.kid.as_deref() {
            Some(kid) if kid == pinned => {}
            Some(kid) => {
                return Err(Rejection::new(
                    Code::KidMismatch,
                    format!("the token's kid {kid:?} is not the configured kid {pinned:?}"),
                ));
            }
            None => {
                return Err(Rejection::new(
                    Code::KidMismatch,
                    format!("the token has no kid; the configured kid is {pinned:?}"),
                ));
            }
        }
    }
    Ok(())
}

/// The keys to try: those with the token's kid; failing that, keys without a
/// kid (a PEM file, a realm `public_key`); without a kid in the token, all.
fn candidates<'a>(kid: Option<&str>, keys: &'a KeySet) -> Result<Vec<&'a VerifyingKey>, Rejection> {
    let Some(kid) = kid else {
        return Ok(keys.keys.iter().collect());
    };
    let named: Vec<&VerifyingKey> = keys
        .keys
        .iter()
        .filter(|k| k.kid.as_deref() == Some(kid))
        .collect();
    if !named.is_empty() {
        return Ok(named);
    }
    let anonymous: Vec<&VerifyingKey> = keys.keys.iter().filter(|k| k.kid.is_none()).collect();
    if !anonymous.is_empty() {
        return Ok(anonymous);
    }
    Err(Rejection::new(
        Code::UnknownKid,
        format!(
            "unknown kid {kid:?}: no key of {} has it (it has {})",
            keys.source,
            keys.kids().join(", ")
        ),
    ))
}

fn validation(alg: Algorithm, expect: &Expectations) -> Validation {
    let mut v = Validation::new(alg);
    v.leeway = expect.leeway;
    v.validate_exp = expect.check_expiry;
    v.validate_nbf = true;
    // jsonwebtoken skips iss/aud checks when the claim is absent; require them.
    let mut required = Vec::new();
    if expect.check_expiry {
        required.push("exp");
    }
    match &expect.issuer {
        Some(iss) => {
            v.set_issuer(&[iss]);
            required.push("iss");
        }
        None => v.iss = None,
    }
    if expect.audiences.is_empty() {
        v.validate_aud = false;
    } else {
        v.set_audience(&expect.audiences);
        required.push("aud");
    }
    v.set_required_spec_claims(&required);
    v
}

/// Turns a jsonwebtoken failure after a good signature into a reason that
/// says what the token holds and what was expected.
fn explain(
    token: &str,
    key: &VerifyingKey,
    alg: Algorithm,
    expect: &Expectations,
    err: &JwtError,
) -> Rejection {
    // The signature verified with `key`, so reading the claims is safe.
    let mut relaxed = Validation::new(alg);
    relaxed.validate_exp = false;
    relaxed.validate_nbf = false;
    relaxed.validate_aud = false;
    relaxed.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Value>(token, &key.key, &relaxed)
        .map(|d| d.claims)
        .unwrap_or(Value::Null);
    let now = now();
    let leeway = expect.leeway;
    match err.kind() {
        ErrorKind::ExpiredSignature => {
            let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
            Rejection::new(
                Code::ExpiredSignature,
                format!(
                    "the token expired at {} ({}s ago; leeway {leeway}s)",
                    timestamp(exp),
                    now.saturating_sub(exp)
                ),
            )
        }
        ErrorKind::ImmatureSignature => {
            let nbf = claims.get("nbf").and_then(Value::as_u64).unwrap_or(0);
            Rejection::new(
                Code::ImmatureSignature,
                format!(
                    "the token is not valid before {} (in {}s; leeway {leeway}s)",
                    timestamp(nbf),
                    nbf.saturating_sub(now)
                ),
            )
        }
        ErrorKind::InvalidIssuer => Rejection::new(
            Code::InvalidIssuer,
            format!(
                "issuer mismatch: the token's iss is {}, expected {:?}",
                claims.get("iss").unwrap_or(&Value::Null),
                expect.issuer.as_deref().unwrap_or_default()
            ),
        ),
        ErrorKind::InvalidAudience => Rejection::new(
            Code::InvalidAudience,
            format!(
                "audience mismatch: the token's aud is {}, expected {}",
                claims.get("aud").unwrap_or(&Value::Null),
                one_of(&expect.audiences)
            ),
        ),
        ErrorKind::MissingRequiredClaim(claim) => {
            let (code, wanted) = match claim.as_str() {
                "iss" => (
                    Code::InvalidIssuer,
                    format!(
                        ", expected {:?}",
                        expect.issuer.as_deref().unwrap_or_default()
                    ),
                ),
                "aud" => (
                    Code::InvalidAudience,
                    format!(", expected {}", one_of(&expect.audiences)),
                ),
                _ => (Code::MissingClaim, String::new()),
            };
            // jsonwebtoken also reports a claim of the wrong JSON type as missing.
            match claims.get(claim.as_str()) {
                Some(value) if code == Code::MissingClaim => Rejection::new(
                    Code::InvalidClaim,
                    format!("the {claim} claim is not a NumericDate: {value}"),
                ),
                Some(value) => Rejection::new(
                    code,
                    format!("the token's {claim} is {value}, not a string{wanted}"),
                ),
                None => Rejection::new(code, format!("the token has no {claim} claim{wanted}")),
            }
        }
        ErrorKind::InvalidClaimFormat(claim) => Rejection::new(
            Code::InvalidClaim,
            format!("the {claim} claim is not a NumericDate"),
        ),
        ErrorKind::InvalidAlgorithm => Rejection::new(
            Code::AlgorithmNotAccepted,
            format!("alg {alg:?} does not fit {}", key.label()),
        ),
        _ => malformed(err.to_string()),
    }
}

/// Why jsonwebtoken could not read the header; `alg: none` gets its own reason.
fn diagnose_header(token: &str, err: &JwtError) -> Rejection {
    let alg = token
        .split('.')
        .next()
        .and_then(|h| URL_SAFE_NO_PAD.decode(h).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|h| h.get("alg").and_then(Value::as_str).map(str::to_owned));
    match alg {
        Some(alg) if alg.eq_ignore_ascii_case("none") => Rejection::new(
            Code::AlgNone,
            "alg \"none\": the token is unsigned, and unsigned tokens are never accepted",
        ),
        Some(alg) if Algorithm::from_str(&alg).is_err() => Rejection::new(
            Code::AlgorithmNotAccepted,
            format!("alg {alg:?} is not a supported JWS algorithm"),
        ),
        _ => malformed(format!(
            "the header is not base64url-encoded JOSE JSON ({err})"
        )),
    }
}

fn malformed(why: String) -> Rejection {
    Rejection::new(Code::Malformed, format!("malformed token: {why}"))
}

fn names(algs: &[Algorithm]) -> String {
    algs.iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn one_of(audiences: &[String]) -> String {
    match audiences {
        [one] => format!("{one:?}"),
        many => format!("one of {many:?}"),
    }
}

fn now() -> u64 {
    use crate::clock::{Clock as _, SystemClock};
    u64::try_from(SystemClock.now()).unwrap_or(0)
}

fn timestamp(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
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
}
