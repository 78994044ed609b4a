//! Argon2id hashing on its own threads, one per core, each reusing its
//! argon2 memory (`workers`): a login storm queues here instead of starving
//! the async runtime or growing the heap. An unknown user is verified
//! against a dummy hash, so it costs the same; a stored hash with cheaper
//! parameters is padded to that cost (`timing`), and a costlier one is
//! refused before it is stored (`check_cost`). Hashes imported from
//! Keycloak (`keycloak`) may be PBKDF2 (`pbkdf2`): checked as they are,
//! padded like any cheaper hash, replaced on the next successful login.

pub mod keycloak;
mod pbkdf2;
mod timing;
mod workers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::password_hash::{Output, PasswordHash as Phc, SaltString, rand_core::OsRng};
use argon2::{Argon2, Params, PasswordHasher as _};

use self::timing::Reference;
use self::workers::{Scratch, Workers};
use crate::domain::opaque::random_bytes;
use crate::domain::user::{InvalidInput, Password};

/// The hashing service shared by every request.
pub struct PasswordHasher {
    params: Params,
    workers: Workers,
    dummy_hash: String,
    /// How long recent checks with `params` took.
    reference: Arc<Reference>,
}

/// The result of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub valid: bool,
    /// The stored hash uses other parameters than the configured ones.
    pub needs_rehash: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing was cancelled")]
    Cancelled,
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params.clone(),
    )
}

fn hash_blocking(params: &Params, password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2(params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Hash(e.to_string()))
}

/// What an unknown user is checked against: a PHC string with `params`, a
/// random salt and a random value as long as `params` makes them. Checking
/// a password against it is a full argon2 computation with `params`, as
/// against a real hash of theirs, and no password matches it; made without
/// computing argon2, so the server starts without waiting for one. It is
/// read back before it is returned, so that every check of it parses.
fn dummy_hash(params: &Params) -> Result<String, HashError> {
    let invalid = |e: argon2::password_hash::Error| HashError::Hash(e.to_string());
    let salt = SaltString::generate(&mut OsRng);
    let random: [u8; Output::MAX_LENGTH] = random_bytes();
    let value = random
        .get(..params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN))
        .ok_or_else(|| HashError::Hash("the output length is out of range".into()))?;
    let phc = Phc {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(argon2::Version::V0x13.into()),
        params: params.try_into().map_err(invalid)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(value).map_err(invalid)?),
    }
    .to_string();
    Phc::new(&phc).map_err(invalid)?;
    Ok(phc)
}

/// How many interleaved checks `costs_more` times of each hash: at most,
/// and at least before it stops early.
const COST_RUNS: usize = 7;
const MIN_COST_RUNS: usize = 3;

/// Whether theirs costs more than ours, from interleaved timings `pair`
/// gives (ours, theirs). The fastest of each decides, so a run slowed by a
/// busy machine does not; it stops early once theirs is plainly costlier
/// (twice ours), but never on fewer than `MIN_COST_RUNS` pairs: one check
/// preempted on a loaded machine once refused a cheaper hash.
fn costlier(mut pair: impl FnMut() -> (Duration, Duration)) -> bool {
    let (mut ours_best, mut theirs_best) = (Duration::MAX, Duration::MAX);
    for run in 1..=COST_RUNS {
        let (ours, theirs) = pair();
        ours_best = ours_best.min(ours);
        theirs_best = theirs_best.min(theirs);
        if run >= MIN_COST_RUNS && theirs_best > ours_best.saturating_mul(2) {
            break;
        }
    }
    theirs_best > ours_best
}

/// The parameters new hashes get: the argon2 crate's defaults (m=19456 KiB,
/// t=2, p=1), as OWASP recommends.
pub fn configured_params() -> Params {
    Params::default()
}

/// The work of one argon2 check: memory blocks times passes. The lanes (`p`)
/// share the memory rather than add to it, and run one after the other here.
fn cost(params: &Params) -> u64 {
    (params.block_count() as u64).saturating_mul(u64::from(params.t_cost()))
}

fn same_cost(a: &Params, b: &Params) -> bool {
    a.m_cost() == b.m_cost() && a.t_cost() == b.t_cost() && a.p_cost() == b.p_cost()
}

/// Refuses a stored hash (a valid PHC string, see `check_phc`) that costs
/// more to check than `configured`: a wrong password for its user would
/// take longer than for an unknown user, telling who exists, and no padding
/// can hide that without slowing every login down to it.
pub fn check_cost(phc: &str, configured: &Params) -> Result<(), InvalidInput> {
    let params = Phc::new(phc)
        .ok()
        .and_then(|phc| Params::try_from(&phc).ok())
        .ok_or_else(|| InvalidInput("password_hash has invalid argon2 parameters".into()))?;
    if cost(&params) <= cost(configured) {
        return Ok(());
    }
    Err(InvalidInput(format!(
        "password_hash costs more to check (m={},t={},p={}) than the configured argon2 parameters \
         (m={},t={},p={}), so a wrong password for this user answers slower than for an unknown \
         user and tells that the user exists; give `password` instead, or set the password with \
         `domino-idp user set-password` after the first start, or accept the leak with \
         allow_costlier_password_hashes = true (the hash is replaced on the user's next login)",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        configured.m_cost(),
        configured.t_cost(),
        configured.p_cost(),
    )))
}

/// Accepts an argon2 PHC string (`$argon2id$v=19$m=...`), as `password_hash` in config.
pub fn check_phc(phc: &str) -> Result<(), InvalidInput> {
    let parsed = Phc::new(phc).map_err(|_| {
        InvalidInput(
            "password_hash is not a PHC string like $argon2id$v=19$m=19456,t=2,p=1$...".into(),
        )
    })?;
    if !matches!(
        parsed.algorithm.as_str(),
        "argon2id" | "argon2i" | "argon2d"
    ) {
        return Err(InvalidInput(
            "password_hash must be an argon2 hash (argon2id recommended)".into(),
        ));
    }
    Params::try_from(&parsed)
        .map_err(|_| InvalidInput("password_hash has invalid argon2 parameters".into()))?;
    if parsed.hash.is_none() {
        return Err(InvalidInput("password_hash has no hash part".into()));
    }
    Ok(())
}

/// Accepts a hash to store for an imported user: an argon2 PHC string (as
/// `check_phc`) or a PBKDF2 one (`$pbkdf2-sha256$i=27500$salt$hash`).
pub fn check_stored(phc: &str) -> Result<(), InvalidInput> {
    if let Ok(parsed) = Phc::new(phc)
        && pbkdf2::is_pbkdf2(parsed.algorithm.as_str())
    {
        return match pbkdf2::parts(&parsed) {
            Some(_) => Ok(()),
            None => Err(InvalidInput(
                "the PBKDF2 hash has invalid parameters, salt or value".into(),
            )),
        };
    }
    check_phc(phc)
}

/// The iterations, salt and hash bytes of a PBKDF2 PHC string, with its
/// algorithm id; `None` for anything else.
pub fn pbkdf2_parts(phc: &str) -> Option<(String, u32, Vec<u8>, Vec<u8>)> {
    Phc::new(phc).ok().and_then(|p| pbkdf2::parts(&p))
}

impl PasswordHasher {
    /// Argon2id with `configured_params()`.
    pub async fn new(concurrency: usize) -> Result<Self, HashError> {
        Self::with_params(configured_params(), concurrency).await
    }

    pub async fn with_params(params: Params, concurrency: usize) -> Result<Self, HashError> {
        let workers = Workers::start(concurrency, params.block_count())?;
        // Parses (`dummy_hash` read it back), so the check below always
        // runs and padded checks never wait for a reference that cannot come.
        let dummy_hash = dummy_hash(&params)?;
        // The first reference: one check of the dummy hash, as an unknown
        // user's login does. It runs on a worker while the server starts;
        // a padded check that needs it before it is done waits for it.
        let reference = Arc::new(Reference::new());
        let (first, dummy) = (reference.clone(), dummy_hash.clone());
        workers.submit(move |scratch| {
            if let Ok(phc) = Phc::new(&dummy) {
                let started = Instant::now();
                verify_in(scratch, b"", &phc);
                first.record(started.elapsed());
            }
        })?;
        Ok(PasswordHasher {
            params,
            workers,
            dummy_hash,
            reference,
        })
    }

    /// Waits until the check that takes the first timing reference, queued
    /// at start, has run (a measurement starts its clock after it).
    pub async fn started(&self) {
        self.reference.first_check().await;
    }

    /// How many hashes may run at once.
    pub fn concurrency(&self) -> usize {
        self.workers.threads()
    }

    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let params = self.params.clone();
        let password = password.clone();
        self.workers
            .run(move |_| hash_blocking(&params, password.expose()))
            .await?
    }

    /// Checks `password` against `stored`; with no stored hash (unknown user)
    /// it checks against the dummy hash and reports invalid, at the same cost.
    /// A stored hash with other parameters that checks faster than the
    /// configured ones answers only when a configured check would have.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<Verification, HashError> {
        let params = self.params.clone();
        let password = password.clone();
        let known = stored.is_some();
        let target = stored.unwrap_or(&self.dummy_hash).to_owned();
        let dummy = self.dummy_hash.clone();
        let (verification, took, configured_cost) = self
            .workers
            .run(move |scratch| {
                let (phc, usable) = match Phc::new(&target) {
                    Ok(phc) => (phc, known),
                    // A corrupt stored hash must not be cheaper than a real check.
                    Err(_) => match Phc::new(&dummy) {
                        Ok(phc) => (phc, false),
                        Err(_) => {
                            let refused = Verification {
                                valid: false,
                                needs_rehash: false,
                            };
                            return (refused, Duration::ZERO, false);
                        }
                    },
                };
                let started = Instant::now();
                let matches = check_in(scratch, password.expose().as_bytes(), &phc);
                let took = started.elapsed();
                let configured_cost = Params::try_from(&phc).is_ok_and(|p| same_cost(&p, &params));
                let current = configured_cost && phc.algorithm.as_str() == "argon2id";
                let verification = Verification {
                    valid: usable && matches,
                    needs_rehash: usable && matches && !current,
                };
                (verification, took, configured_cost)
            })
            .await?;
        if configured_cost {
            self.reference.record(took);
        } else {
            // Off the worker, which is free for the next check meanwhile.
            let wait = self.reference.shortfall(took).await;
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
        Ok(verification)
    }

    /// Whether a stored hash (see `check_stored`) costs more to check than the
    /// configured parameters: an argon2 one by its parameters (`check_cost`), a
    /// PBKDF2 one, whose work does not compare with argon2's on paper, by
    /// timing checks of each on a worker (`costlier`).
    pub async fn costs_more(&self, stored: &str) -> Result<bool, HashError> {
        if pbkdf2_parts(stored).is_none() {
            return Ok(check_phc(stored).is_ok() && check_cost(stored, &self.params).is_err());
        }
        let stored = stored.to_owned();
        let dummy = self.dummy_hash.clone();
        self.workers
            .run(move |scratch| {
                let (Ok(theirs), Ok(ours)) = (Phc::new(&stored), Phc::new(&dummy)) else {
                    return false;
                };
                let mut time = |phc: &Phc<'_>| {
                    let started = Instant::now();
                    check_in(scratch, b"not the password", phc);
                    started.elapsed()
                };
                costlier(|| (time(&ours), time(&theirs)))
            })
            .await
    }
}

/// Checks `password` against a stored hash of any kind kept here.
fn check_in(scratch: &mut Scratch, password: &[u8], phc: &Phc<'_>) -> bool {
    if pbkdf2::is_pbkdf2(phc.algorithm.as_str()) {
        return pbkdf2::verify(password, phc);
    }
    verify_in(scratch, password, phc)
}

/// What `argon2::PasswordVerifier::verify_password` does, in the worker's
/// memory instead of a fresh allocation; the comparison is `Output`'s,
/// constant-time.
fn verify_in(scratch: &mut Scratch, password: &[u8], phc: &Phc<'_>) -> bool {
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(phc.algorithm) else {
        return false;
    };
    let version = match phc.version.map(argon2::Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(phc) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = [0u8; Output::MAX_LENGTH];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params);
    let count = argon.params().block_count();
    let hashed = scratch.with_blocks(count, |blocks| {
        argon.hash_password_into_with_memory(password, salt, out, blocks)
    });
    hashed.is_ok() && Output::new(out).is_ok_and(|computed| computed == *expected)
}

#[cfg(test)]
mod tests;
