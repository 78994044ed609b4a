//! A ring's memory of the tokens it verified. A bearer presents the same
//! token for its whole life (code in a Domino run reads its token file
//! anew for every call, a browser app sends its access token with each
//! request), and checking its RS256 signature again was a quarter of what
//! such a request cost. Envoy's `jwt_authn` keeps such a cache for the same
//! reason.
//!
//! - Only a full success is remembered, under the SHA-256 of the whole
//!   token (header, claims and signature), with the issuer, audience and
//!   leeway it was checked for: another check of the same token verifies
//!   again.
//! - What is kept is the token's kid and its time bounds, about 250 bytes;
//!   the claims are read again from the presented token (its exact bytes
//!   are the ones verified), which costs what copying kept claims would
//!   and a twentieth of the memory (kept claims took 4.7 KB a token).
//! - Expiry and not-before are checked again at every use, as jsonwebtoken
//!   checks them; a token past them is verified again, so that its refusal
//!   is the verifier's own.
//! - The memory belongs to one `KeyRing`: a new ring (a rotation, a key
//!   retired in an emergency, a reload that changed anything) starts empty.
//! - It holds at most `CAPACITY` tokens; when full, expired ones go, and if
//!   that frees nothing, all of them.
//!
//! What a token's use may still stop (the deny-list, its session, its user)
//! is read from the store at every use, as before.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_lc_rs::digest::{SHA256, digest};

use crate::domain::token::Claims;

/// The most tokens one ring remembers (about 250 bytes each).
pub(super) const CAPACITY: usize = 1024;

/// What a token was checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Check<'a> {
    pub issuer: Option<&'a str>,
    pub audience: Option<&'a str>,
    pub leeway: u64,
}

struct Entry {
    issuer: Option<String>,
    audience: Option<String>,
    leeway: u64,
    kid: String,
    exp: u64,
    nbf: Option<u64>,
}

impl Entry {
    fn for_check(&self, check: &Check<'_>) -> bool {
        self.issuer.as_deref() == check.issuer
            && self.audience.as_deref() == check.audience
            && self.leeway == check.leeway
    }

    /// jsonwebtoken's own rule: expired when `exp < now - leeway`, not yet
    /// valid when `nbf > now + leeway`.
    fn in_time(&self, now: u64, leeway: u64) -> bool {
        self.exp >= now.saturating_sub(leeway)
            && self.nbf.is_none_or(|nbf| nbf <= now.saturating_add(leeway))
    }
}

/// The key a token is remembered under.
pub(super) type Digest = [u8; 32];

pub(super) fn digest_of(token: &str) -> Digest {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    out
}

#[derive(Default)]
pub(super) struct Verified {
    entries: Mutex<HashMap<Digest, Entry>>,
}

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verified")
            .field("tokens", &self.len())
            .finish()
    }
}

impl Verified {
    /// The kid of a token verified for `check`, still in time at `now`.
    pub(super) fn get(&self, digest: &Digest, check: &Check<'_>, now: u64) -> Option<String> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(digest)?;
        (entry.for_check(check) && entry.in_time(now, check.leeway)).then(|| entry.kid.clone())
    }

    /// Remembers a token that passed the full check. One whose `exp` or
    /// `nbf` is not a whole number of seconds is not remembered: only the
    /// verifier reads those.
    pub(super) fn put(
        &self,
        digest: Digest,
        check: &Check<'_>,
        kid: &str,
        claims: &Claims,
        now: u64,
    ) {
        let Some(exp) = claims.get("exp").and_then(|v| v.as_u64()) else {
            return;
        };
        let nbf = match claims.get("nbf") {
            None => None,
            Some(v) => match v.as_u64() {
                Some(nbf) => Some(nbf),
                None => return,
            },
        };
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY && !entries.contains_key(&digest) {
            entries.retain(|_, e| e.in_time(now, e.leeway));
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            digest,
            Entry {
                issuer: check.issuer.map(str::to_owned),
                audience: check.audience.map(str::to_owned),
                leeway: check.leeway,
                kid: kid.to_owned(),
                exp,
                nbf,
            },
        );
    }

    pub(super) fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn claims(exp: u64) -> Claims {
        json!({"iss": "https://idp", "sub": "doc", "iat": NOW - 10, "exp": exp})
            .as_object()
            .cloned()
            .unwrap()
    }

    fn check(leeway: u64) -> Check<'static> {
        Check {
            issuer: Some("https://idp"),
            audience: None,
            leeway,
        }
    }

    #[test]
    fn a_token_is_remembered_for_the_check_it_passed() {
        let v = Verified::default();
        let d = digest_of("a.b.c");
        v.put(d, &check(5), "kid-1", &claims(NOW + 60), NOW);
        assert_eq!(v.get(&d, &check(5), NOW).as_deref(), Some("kid-1"));
        assert!(v.get(&digest_of("a.b.d"), &check(5), NOW).is_none());
        // Another issuer, audience or leeway: verified again.
        let other_issuer = Check {
            issuer: Some("https://evil"),
            ..check(5)
        };
        let with_audience = Check {
            audience: Some("Domino"),
            ..check(5)
        };
        assert!(v.get(&d, &other_issuer, NOW).is_none());
        assert!(v.get(&d, &with_audience, NOW).is_none());
        assert!(v.get(&d, &check(6), NOW).is_none());
    }

    #[test]
    fn expiry_and_not_before_are_checked_at_every_use() {
        let v = Verified::default();
        let d = digest_of("t");
        v.put(d, &check(5), "k", &claims(NOW + 60), NOW);
        assert!(v.get(&d, &check(5), NOW + 65).is_some(), "within leeway");
        assert!(v.get(&d, &check(5), NOW + 66).is_none(), "expired");
        let mut early = claims(NOW + 60);
        early.insert("nbf".into(), json!(NOW + 30));
        let e = digest_of("early");
        v.put(e, &check(5), "k", &early, NOW);
        assert!(v.get(&e, &check(5), NOW).is_none(), "not yet valid");
        assert!(v.get(&e, &check(5), NOW + 25).is_some(), "within leeway");
    }

    #[test]
    fn only_whole_second_times_are_remembered() {
        let v = Verified::default();
        let mut odd = claims(NOW + 60);
        odd.insert("exp".into(), json!(1.8e9 + 60.5));
        v.put(digest_of("odd"), &check(0), "k", &odd, NOW);
        let mut odd_nbf = claims(NOW + 60);
        odd_nbf.insert("nbf".into(), json!("soon"));
        v.put(digest_of("odd-nbf"), &check(0), "k", &odd_nbf, NOW);
        assert_eq!(v.len(), 0);
    }

    #[test]
    fn a_full_memory_drops_expired_tokens_first_then_everything() {
        let v = Verified::default();
        for i in 0..CAPACITY - 1 {
            v.put(
                digest_of(&format!("live-{i}")),
                &check(0),
                "k",
                &claims(NOW + 600),
                NOW,
            );
        }
        v.put(digest_of("short"), &check(0), "k", &claims(NOW + 1), NOW);
        assert_eq!(v.len(), CAPACITY);
        // At NOW + 2 the short one has expired: it alone makes room.
        v.put(
            digest_of("new"),
            &check(0),
            "k",
            &claims(NOW + 600),
            NOW + 2,
        );
        assert_eq!(v.len(), CAPACITY);
        assert!(v.get(&digest_of("short"), &check(0), NOW).is_none());
        assert!(v.get(&digest_of("live-0"), &check(0), NOW + 2).is_some());
        // Nothing expired: the memory starts over.
        v.put(
            digest_of("one-more"),
            &check(0),
            "k",
            &claims(NOW + 600),
            NOW + 2,
        );
        assert_eq!(v.len(), 1);
        assert!(v.get(&digest_of("one-more"), &check(0), NOW + 2).is_some());
    }
}
