//! `domino-idp bench sign|argon2` (hidden): the ceilings the load benchmark
//! (bench/) compares the server with, measured on this machine with the
//! configuration `serve` would use. Each prints one JSON line on stdout and
//! never a key, a password or a hash.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::Params;
use argon2::password_hash::PasswordHash as Phc;
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::{Failure, Outcome};
use crate::app::oidc::claims::ClaimContext;
use crate::config::Config;
use crate::domain::password::PasswordHasher;
use crate::domain::token::{Claims, TokenPolicy};
use crate::domain::user::{Password, PasswordHash, User};
use crate::keys::LiveKeys;
use crate::realm::Realm;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// RS256 with the realm's signing key: raw sign and verify rates (aws-lc,
    /// key parsed once) and the server's own JWT signing rate
    Sign(Load),
    /// Argon2 verifications per second with the configured parameters
    Argon2(Load),
}

#[derive(Debug, Args)]
pub struct Load {
    /// How long to measure each rate, in seconds
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=600))]
    seconds: u64,
    /// Threads working in parallel (default: the available cores)
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
}

impl Load {
    fn threads(&self) -> usize {
        self.threads
            .and_then(|t| usize::try_from(t).ok())
            .unwrap_or_else(crate::startup::hash_concurrency)
    }
}

/// `bench sign`'s line, in this field order.
#[derive(Serialize)]
struct SignRates<'a> {
    kid: &'a str,
    threads: usize,
    seconds: u64,
    raw_sign_per_sec: f64,
    raw_verify_per_sec: f64,
    /// `LiveKeys::sign` of a typical access token: what a token costs the server.
    jwt_sign_per_sec: f64,
}

/// `bench argon2`'s line, in this field order.
#[derive(Serialize)]
struct Argon2Rates {
    threads: usize,
    seconds: u64,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    verify_per_sec: f64,
    /// Wall time of one verification on a busy thread.
    ms_per_verify: f64,
}

pub async fn run(cmd: BenchCommand, config: &Config) -> Outcome {
    let line = match cmd {
        BenchCommand::Sign(load) => sign(config, &load).await?,
        BenchCommand::Argon2(load) => argon2(&load).await?,
    };
    println!("{line}");
    Ok(())
}

async fn sign(config: &Config, load: &Load) -> Result<String, Failure> {
    let home = super::keys::home(config).await?;
    let ring = home.load().await.map_err(Failure::new)?;
    let public_url = config.public_url_for(config.listen);
    let realm = Realm::new(
        &public_url,
        config.realms_prefix(),
        &config.realm,
        config.jwks_max_age,
    );
    let policy = config.token_policy(realm.issuer.clone());
    let documents = realm.documents(&ring);
    let keys = LiveKeys::new(ring, documents);
    let claims = typical_claims(&policy);
    let key = keys.signer();

    // A real signing input (header.claims) and its signature.
    let token = keys.sign(&claims).map_err(Failure::new)?;
    let message = token
        .rsplit_once('.')
        .map(|(input, _)| input.as_bytes().to_vec())
        .ok_or_else(|| Failure::new("signed token has no signature part"))?;
    let signature = key.sign_rs256(&message).map_err(Failure::new)?;
    let public = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &key.public.spki_der)
        .map_err(|_| Failure::new("the signing key's public half does not parse"))?;
    public
        .verify_sig(&message, &signature)
        .map_err(|_| Failure::new("the key does not verify its own signature"))?;

    let (seconds, threads) = (load.seconds, load.threads());
    let keys = Arc::new(keys);
    let raw_sign = {
        let (key, message) = (key.clone(), message.clone());
        rate(seconds, threads, move || key.sign_rs256(&message).is_ok()).await?
    };
    let raw_verify = {
        let public = Arc::new(public);
        let (message, signature) = (message.clone(), signature.clone());
        rate(seconds, threads, move || {
            public.verify_sig(&message, &signature).is_ok()
        })
        .await?
    };
    let jwt_sign = {
        let keys = keys.clone();
        rate(seconds, threads, move || keys.sign(&claims).is_ok()).await?
    };
    line(&SignRates {
        kid: key.kid(),
        threads,
        seconds,
        raw_sign_per_sec: raw_sign,
        raw_verify_per_sec: raw_verify,
        jwt_sign_per_sec: jwt_sign,
    })
}

/// An access token of a password grant for a Keep-like user, as the token
/// endpoint builds it (without mappers, which live in the store).
fn typical_claims(policy: &TokenPolicy) -> Claims {
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        username: "doc".into(),
        email: Some("doctor.notes@projectkeep.io".into()),
        cn: "Doctor Notes".into(),
        org: Some("ProjectKeep".into()),
        password_hash: PasswordHash(String::new()),
        scopes: vec!["MAIL".into(), "$DATA".into()],
        attributes: Default::default(),
        groups: Vec::new(),
        enabled: true,
        created_at: 0,
        updated_at: 0,
    };
    let scopes = crate::domain::scope::ScopeSet::parse_param("openid profile email MAIL $DATA");
    let session = uuid::Uuid::new_v4().to_string();
    let now = crate::store::now();
    ClaimContext {
        policy,
        mappers: &[],
        client_id: "domino-play",
        user: Some(&user),
        scopes: &scopes,
        applied: &scopes,
        roles: None,
        session: Some((&session, now)),
        now,
        lifetime: policy.access_token_ttl,
    }
    .access(&uuid::Uuid::new_v4().to_string())
}

async fn argon2(load: &Load) -> Result<String, Failure> {
    // The hasher `serve` builds, so its parameters are the configured ones.
    let hasher = PasswordHasher::new(1).await.map_err(Failure::new)?;
    let password = Password::parse(&uuid::Uuid::new_v4().simple().to_string())
        .map_err(|e| Failure::new(e.0))?;
    let hash = hasher.hash(&password).await.map_err(Failure::new)?;
    let params = Phc::new(&hash)
        .ok()
        .and_then(|phc| Params::try_from(&phc).ok())
        .ok_or_else(|| Failure::new("the configured hasher made an unreadable hash"))?;

    let (seconds, threads) = (load.seconds, load.threads());
    // The argon2 verification a login needs, on `threads` workers that reuse
    // their memory as the server's do (a fresh 19 MiB block per check is a
    // new mapping and twice as slow, which is not what the server pays).
    let workers = std::sync::Arc::new(PasswordHasher::new(threads).await.map_err(Failure::new)?);
    // Not the start-up check on the clock.
    workers.started().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..threads)
        .map(|_| {
            let (workers, password, hash) = (workers.clone(), password.clone(), hash.clone());
            tokio::spawn(async move {
                let mut done = 0u64;
                while std::time::Instant::now() < deadline {
                    match workers.verify(&password, Some(&hash)).await {
                        Ok(v) if v.valid => done += 1,
                        _ => return None,
                    }
                }
                Some(done)
            })
        })
        .collect();
    let mut total = 0u64;
    for task in tasks {
        total += task
            .await
            .ok()
            .flatten()
            .ok_or_else(|| Failure::new("a verification failed"))?;
    }
    let verify_per_sec = round(total as f64 / started.elapsed().as_secs_f64());
    let ms_per_verify = if verify_per_sec > 0.0 {
        round(1000.0 * threads as f64 / verify_per_sec)
    } else {
        0.0
    };
    line(&Argon2Rates {
        threads,
        seconds,
        m_cost: params.m_cost(),
        t_cost: params.t_cost(),
        p_cost: params.p_cost(),
        verify_per_sec,
        ms_per_verify,
    })
}

/// Completed `op`s per second over `seconds`, `threads` OS threads calling
/// it back to back. An `op` that returns false fails the measurement.
async fn rate<F>(seconds: u64, threads: usize, op: F) -> Result<f64, Failure>
where
    F: Fn() -> bool + Send + Sync + 'static,
{
    tokio::task::spawn_blocking(move || {
        let done = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        let failed = AtomicBool::new(false);
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let mut mine = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        if !op() {
                            failed.store(true, Ordering::Relaxed);
                            stop.store(true, Ordering::Relaxed);
                        }
                        mine += 1;
                    }
                    done.fetch_add(mine, Ordering::Relaxed);
                });
            }
            std::thread::sleep(Duration::from_secs(seconds));
            stop.store(true, Ordering::Relaxed);
        });
        // Threads finish the operation in hand: count the time it took.
        let elapsed = started.elapsed().as_secs_f64();
        if failed.load(Ordering::Relaxed) {
            return Err(Failure::new("an operation failed during the measurement"));
        }
        Ok(round(done.load(Ordering::Relaxed) as f64 / elapsed))
    })
    .await
    .map_err(Failure::new)?
}

fn line(rates: &impl Serialize) -> Result<String, Failure> {
    serde_json::to_string(rates).map_err(Failure::new)
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
