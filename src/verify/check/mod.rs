//! The verdict on one token against one key set: header and `alg` policy,
//! `kid` lookup, then jsonwebtoken's signature and claim checks (`explain`
//! puts a refusal into words). No I/O.

mod explain;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, AlgorithmFamily, Header, Validation};
use serde::Serialize;
use serde_json::Value;

use super::keyset::KeySet;
use super::rsa::{RSA_ALGORITHMS, VerifyingKey};
use super::{Code, Rejection};
use explain::{diagnose_header, explain, malformed, names};

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

#[cfg(test)]
mod tests;
