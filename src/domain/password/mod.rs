//! Argon2id hashing on its own threads, one per core, each reusing its
//! argon2 memory (`workers`): a login storm queues here instead of starving
//! the async runtime or growing the heap. An unknown user is verified
//! against a dummy hash, so it costs the same; a stored hash with cheaper
//! parameters is padded to that cost (`timing`), and a costlier one is
//! refused before it is stored (`check_cost`).

mod timing;
mod workers;

use std::time::{Duration, Instant};

use argon2::password_hash::{Output, PasswordHash as Phc, SaltString, rand_core::OsRng};
use argon2::{Argon2, Params, PasswordHasher as _};

use self::timing::Reference;
use self::workers::{Scratch, Workers};
use crate::domain::user::{InvalidInput, Password};

/// The hashing service shared by every request.
pub struct PasswordHasher {
    params: Params,
    workers: Workers,
    dummy_hash: String,
    /// How long recent checks with `params` took.
    reference: Reference,
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

impl PasswordHasher {
    /// Argon2id with `configured_params()`.
    pub async fn new(concurrency: usize) -> Result<Self, HashError> {
        Self::with_params(configured_params(), concurrency).await
    }

    pub async fn with_params(params: Params, concurrency: usize) -> Result<Self, HashError> {
        let workers = Workers::start(concurrency, params.block_count())?;
        let p = params.clone();
        let (dummy_hash, first_check) = workers
            .run(move |scratch| {
                let hash = hash_blocking(&p, &uuid::Uuid::new_v4().to_string())?;
                // The first reference: one check of the dummy hash, as an
                // unknown user's login does.
                let phc = Phc::new(&hash).map_err(|e| HashError::Hash(e.to_string()))?;
                let started = Instant::now();
                verify_in(scratch, b"", &phc);
                Ok::<_, HashError>((hash, started.elapsed()))
            })
            .await??;
        Ok(PasswordHasher {
            params,
            workers,
            dummy_hash,
            reference: Reference::new(first_check),
        })
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
                let matches = verify_in(scratch, password.expose().as_bytes(), &phc);
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
            let wait = self.reference.shortfall(took);
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
        Ok(verification)
    }
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
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::parse(s).unwrap()
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = PasswordHasher::new(2).await.unwrap();
        let hash = h.hash(&pw("s3cret")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        check_phc(&hash).unwrap();
        let ok = h.verify(&pw("s3cret"), Some(&hash)).await.unwrap();
        assert_eq!(
            ok,
            Verification {
                valid: true,
                needs_rehash: false
            }
        );
        let bad = h.verify(&pw("wrong"), Some(&hash)).await.unwrap();
        assert!(!bad.valid);
    }

    #[tokio::test]
    async fn unknown_user_and_corrupt_hash_are_invalid() {
        let h = PasswordHasher::new(2).await.unwrap();
        assert!(!h.verify(&pw("x"), None).await.unwrap().valid);
        assert!(!h.verify(&pw("x"), Some("not a hash")).await.unwrap().valid);
    }

    #[tokio::test]
    async fn old_parameters_ask_for_rehash() {
        let weak = PasswordHasher::with_params(Params::new(8, 1, 1, None).unwrap(), 1)
            .await
            .unwrap();
        let old = weak.hash(&pw("pw")).await.unwrap();
        let h = PasswordHasher::new(1).await.unwrap();
        let v = h.verify(&pw("pw"), Some(&old)).await.unwrap();
        assert_eq!(
            v,
            Verification {
                valid: true,
                needs_rehash: true
            }
        );
    }

    /// A hash of "pw" with these parameters.
    fn stored(m: u32, t: u32, p: u32) -> String {
        let params = Params::new(m, t, p, None).unwrap();
        let salt = SaltString::generate(&mut OsRng);
        Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(b"pw", &salt)
            .unwrap()
            .to_string()
    }

    /// `stored(8, 1, 1)` claiming other parameters (only parsed, never checked).
    fn claiming(m: u32, t: u32, p: u32) -> String {
        stored(8, 1, 1).replacen("m=8,t=1,p=1", &format!("m={m},t={t},p={p}"), 1)
    }

    #[test]
    fn only_a_costlier_hash_than_the_configured_one_is_refused() {
        let configured = configured_params();
        for (m, t, p) in [
            (19456, 2, 1),
            (1024, 1, 1),
            (19456, 2, 4),
            (38912, 1, 1),
            (7168, 5, 1),
        ] {
            check_cost(&claiming(m, t, p), &configured)
                .unwrap_or_else(|e| panic!("m={m},t={t},p={p}: {e}"));
        }
        for (m, t, p) in [(65536, 3, 1), (19456, 3, 1), (38916, 1, 1), (65536, 1, 4)] {
            let why = check_cost(&claiming(m, t, p), &configured)
                .unwrap_err()
                .to_string();
            assert!(why.contains(&format!("m={m},t={t},p={p}")), "{why}");
            assert!(
                why.contains("allow_costlier_password_hashes = true"),
                "{why}"
            );
        }
    }

    #[tokio::test]
    async fn a_cheaper_stored_hash_answers_when_a_configured_check_would() {
        let h = PasswordHasher::new(1).await.unwrap();
        let cheap = stored(1024, 1, 1);
        for _ in 0..5 {
            let started = Instant::now();
            assert!(!h.verify(&pw("wrong"), Some(&cheap)).await.unwrap().valid);
            let cheap_took = started.elapsed();
            assert!(cheap_took >= h.reference.shortest(), "{cheap_took:?}");
            assert!(!h.verify(&pw("wrong"), None).await.unwrap().valid);
        }
        // Padding does not change the outcome.
        let v = h.verify(&pw("pw"), Some(&cheap)).await.unwrap();
        assert_eq!(
            v,
            Verification {
                valid: true,
                needs_rehash: true
            }
        );
    }

    #[tokio::test]
    async fn the_reference_follows_the_configured_checks_only() {
        let h = PasswordHasher::with_params(Params::new(64, 1, 1, None).unwrap(), 1)
            .await
            .unwrap();
        // Neither a cheaper nor a costlier stored hash moves the reference.
        let before = h.reference.shortest();
        for other in [stored(8, 1, 1), stored(16384, 2, 1)] {
            h.verify(&pw("wrong"), Some(&other)).await.unwrap();
            assert_eq!(h.reference.shortest(), before);
        }
        for _ in 0..timing::SAMPLES {
            h.verify(&pw("wrong"), None).await.unwrap();
        }
        assert_ne!(h.reference.shortest(), before);
    }

    #[tokio::test]
    async fn reused_memory_agrees_with_the_argon2_crate_on_any_stored_hash() {
        use argon2::PasswordVerifier as _;
        let h = PasswordHasher::new(1).await.unwrap();
        let salt = SaltString::generate(&mut OsRng);
        let mut stored = Vec::new();
        for (alg, m, t, len) in [
            (argon2::Algorithm::Argon2id, 19456, 2, 32),
            (argon2::Algorithm::Argon2i, 64, 1, 16),
            (argon2::Algorithm::Argon2d, 4096, 3, 64),
            // Bigger than the configured memory: a one-off buffer.
            (argon2::Algorithm::Argon2id, 32768, 1, 32),
        ] {
            let params = Params::new(m, t, 1, Some(len)).unwrap();
            let argon = Argon2::new(alg, argon2::Version::V0x13, params);
            stored.push(argon.hash_password(b"pw", &salt).unwrap().to_string());
        }
        for hash in &stored {
            for guess in ["pw", "pw ", "PW"] {
                let ours = h.verify(&pw(guess), Some(hash)).await.unwrap().valid;
                let theirs = Argon2::default()
                    .verify_password(guess.as_bytes(), &Phc::new(hash).unwrap())
                    .is_ok();
                assert_eq!(ours, theirs, "{hash} with {guess:?}");
                assert_eq!(ours, guess == "pw");
            }
        }
        // Same again, on memory that held the other hashes.
        assert!(h.verify(&pw("pw"), Some(&stored[0])).await.unwrap().valid);
    }
}
