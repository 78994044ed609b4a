//! Why a token was refused, in words that say what it holds and what was
//! expected: jsonwebtoken's errors turned into `Rejection`s.

use std::str::FromStr as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::{Error as JwtError, ErrorKind};
use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Expectations;
use crate::verify::rsa::VerifyingKey;
use crate::verify::{Code, Rejection};

/// Turns a jsonwebtoken failure after a good signature into a reason that
/// says what the token holds and what was expected.
pub(super) fn explain(
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
pub(super) fn diagnose_header(token: &str, err: &JwtError) -> Rejection {
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

pub(super) fn malformed(why: String) -> Rejection {
    Rejection::new(Code::Malformed, format!("malformed token: {why}"))
}

pub(super) fn names(algs: &[Algorithm]) -> String {
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
