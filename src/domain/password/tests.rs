//! The hasher's checks: outcomes, rehash requests, cost refusal and padding.

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

/// The dummy hash is made without argon2, but checking against it is a
/// check with the configured parameters, and it matches no password.
#[tokio::test]
async fn the_dummy_hash_is_a_configured_argon2id_hash_nothing_matches() {
    use argon2::PasswordVerifier as _;
    let h = PasswordHasher::new(1).await.unwrap();
    check_phc(&h.dummy_hash).unwrap();
    let phc = Phc::new(&h.dummy_hash).unwrap();
    assert_eq!(phc.algorithm.as_str(), "argon2id");
    assert!(same_cost(&Params::try_from(&phc).unwrap(), &h.params));
    assert_eq!(phc.hash.unwrap().len(), Params::DEFAULT_OUTPUT_LEN);
    for guess in ["", "x", "password"] {
        assert!(
            argon2(&h.params)
                .verify_password(guess.as_bytes(), &phc)
                .is_err()
        );
    }
    let again = PasswordHasher::new(1).await.unwrap();
    assert_ne!(again.dummy_hash, h.dummy_hash, "each start draws its own");
    // As long a value as the configured parameters make.
    let long = Params::new(8, 1, 1, Some(48)).unwrap();
    let h = PasswordHasher::with_params(long, 1).await.unwrap();
    assert_eq!(Phc::new(&h.dummy_hash).unwrap().hash.unwrap().len(), 48);
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
        assert!(cheap_took >= h.reference.shortest().await, "{cheap_took:?}");
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
    let before = h.reference.shortest().await;
    for other in [stored(8, 1, 1), stored(16384, 2, 1)] {
        h.verify(&pw("wrong"), Some(&other)).await.unwrap();
        assert_eq!(h.reference.shortest().await, before);
    }
    for _ in 0..timing::SAMPLES {
        h.verify(&pw("wrong"), None).await.unwrap();
    }
    assert_ne!(h.reference.shortest().await, before);
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

/// A Keycloak PBKDF2-SHA256 hash of "password" (tests/fixtures/keycloak).
fn keycloak_pbkdf2() -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let salt = b64.decode("P5rtFkGtPfoaryJ6PizUJw==").unwrap();
    let value = b64
        .decode("JsfNbCOIdZUbyBJ+BT+VoGI91Ec2rWLOvkLPDaX8e9k=")
        .unwrap();
    pbkdf2::to_phc("pbkdf2-sha256", 27500, &salt, &value).unwrap()
}

#[tokio::test]
async fn an_imported_pbkdf2_hash_checks_asks_for_rehash_and_is_padded() {
    let h = PasswordHasher::new(1).await.unwrap();
    let stored = keycloak_pbkdf2();
    check_stored(&stored).unwrap();
    // Not an argon2 hash: the config's password_hash does not take it.
    assert!(check_phc(&stored).is_err());
    let v = h.verify(&pw("password"), Some(&stored)).await.unwrap();
    assert_eq!(
        v,
        Verification {
            valid: true,
            needs_rehash: true
        }
    );
    for _ in 0..3 {
        let started = Instant::now();
        assert!(!h.verify(&pw("wrong"), Some(&stored)).await.unwrap().valid);
        let took = started.elapsed();
        assert!(took >= h.reference.shortest().await, "{took:?}");
    }
    // 27,500 rounds of SHA-256 cost less than one configured argon2 check.
    assert!(!h.costs_more(&stored).await.unwrap());
    let costly = stored.replacen("i=27500", "i=3000000", 1);
    check_stored(&costly).unwrap();
    assert!(h.costs_more(&costly).await.unwrap());
    assert!(check_stored("$pbkdf2-sha256$i=0$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA").is_err());
}

/// `costlier` decides on the fastest of its runs: one slowed check of the
/// stored hash (preempted on a busy machine) does not make it costlier,
/// and a hash that is costlier in every run is judged so.
#[test]
fn one_slowed_check_does_not_make_a_hash_costlier() {
    let ms = Duration::from_millis;
    let mut runs = vec![(ms(18), ms(60)), (ms(18), ms(6)), (ms(19), ms(7))].into_iter();
    let mut pairs = 0;
    let judged = costlier(|| {
        pairs += 1;
        runs.next().unwrap_or((ms(18), ms(6)))
    });
    assert!(!judged);
    assert_eq!(pairs, COST_RUNS, "a cheaper hash is timed every run");

    let mut pairs = 0;
    assert!(costlier(|| {
        pairs += 1;
        (ms(18), ms(60))
    }));
    assert_eq!(pairs, MIN_COST_RUNS, "a plainly costlier one stops early");
}
