//! Argon2id hashing on the blocking pool, behind a semaphore sized to the
//! cores: a login storm queues here instead of starving the async runtime.
//! An unknown user is verified against a dummy hash, so it costs the same.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash as Phc, SaltString, rand_core::OsRng};
use argon2::{Argon2, Params, PasswordHasher as _, PasswordVerifier as _};
use tokio::sync::Semaphore;

use crate::domain::user::{InvalidInput, Password};

/// The hashing service shared by every request.
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    dummy_hash: String,
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
    /// Argon2id with the argon2 crate's defaults (m=19456 KiB, t=2, p=1), as OWASP recommends.
    pub async fn new(concurrency: usize) -> Result<Self, HashError> {
        Self::with_params(Params::default(), concurrency).await
    }

    pub async fn with_params(params: Params, concurrency: usize) -> Result<Self, HashError> {
        let p = params.clone();
        let dummy_hash = tokio::task::spawn_blocking(move || {
            hash_blocking(&p, &uuid::Uuid::new_v4().to_string())
        })
        .await
        .map_err(|_| HashError::Cancelled)??;
        Ok(PasswordHasher {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash,
        })
    }

    /// How many hashes may run at once.
    pub fn concurrency(&self) -> usize {
        self.permits.available_permits()
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::Cancelled)?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|_| HashError::Cancelled)
    }

    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let params = self.params.clone();
        let password = password.clone();
        self.run(move || hash_blocking(&params, password.expose()))
            .await?
    }

    /// Checks `password` against `stored`; with no stored hash (unknown user)
    /// it checks against the dummy hash and reports invalid, at the same cost.
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
        self.run(move || {
            let (phc, usable) = match Phc::new(&target) {
                Ok(phc) => (phc, known),
                // A corrupt stored hash must not be cheaper than a real check.
                Err(_) => match Phc::new(&dummy) {
                    Ok(phc) => (phc, false),
                    Err(_) => {
                        return Verification {
                            valid: false,
                            needs_rehash: false,
                        };
                    }
                },
            };
            let matches = Argon2::default()
                .verify_password(password.expose().as_bytes(), &phc)
                .is_ok();
            let current = phc.algorithm.as_str() == "argon2id"
                && Params::try_from(&phc).is_ok_and(|p| {
                    p.m_cost() == params.m_cost()
                        && p.t_cost() == params.t_cost()
                        && p.p_cost() == params.p_cost()
                });
            Verification {
                valid: usable && matches,
                needs_rehash: usable && matches && !current,
            }
        })
        .await
    }
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
}
