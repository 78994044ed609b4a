//! Key rotation as consumers live through it: a JWKS-caching verifier keeps
//! accepting every token minted before, during and after a rotation made by
//! the CLI against a running server; the states `keys list` shows; automatic
//! rotation.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use domino_idp::config::Config;
use serde_json::Value;

use crate::helpers::*;
use crate::keys::{kids, realm_public_key};

/// A consumer as libraries build one: fetches the JWKS, keeps it for the
/// `Cache-Control` max-age, refetches only when that has passed — never
/// because a token names an unknown kid.
struct CachingVerifier {
    client: reqwest::Client,
    url: String,
    issuer: String,
    leeway: u64,
    cached: Option<(Instant, Duration, Value)>,
    fetches: usize,
}

impl CachingVerifier {
    fn new(app: &TestApp, leeway: u64) -> Self {
        CachingVerifier {
            client: reqwest::Client::new(),
            url: app.oidc("certs"),
            issuer: app.issuer(),
            leeway,
            cached: None,
            fetches: 0,
        }
    }

    async fn jwks(&mut self) -> &Value {
        let fresh = self
            .cached
            .as_ref()
            .is_some_and(|(at, max_age, _)| at.elapsed() < *max_age);
        if !fresh {
            let resp = self.client.get(&self.url).send().await.unwrap();
            let cache = resp.headers()["cache-control"].to_str().unwrap().to_owned();
            let max_age = cache
                .split(',')
                .find_map(|d| d.trim().strip_prefix("max-age="))
                .and_then(|s| s.parse().ok())
                .expect("JWKS has a max-age");
            let body: Value = resp.json().await.unwrap();
            self.cached = Some((Instant::now(), Duration::from_secs(max_age), body));
            self.fetches += 1;
        }
        &self.cached.as_ref().unwrap().2
    }

    async fn verify(&mut self, token: &str) -> Result<Value, String> {
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let (issuer, leeway) = (self.issuer.clone(), self.leeway);
        let jwks = self.jwks().await;
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .ok_or_else(|| format!("unknown kid {kid} in the cached JWKS {jwks}"))?;
        let key = jsonwebtoken::DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.leeway = leeway;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&["Domino"]);
        jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map(|d| d.claims)
            .map_err(|e| format!("kid {kid}: {e}"))
    }
}

/// The binary with a clean environment and the test's short settings.
fn idp(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = idp_command(dir);
    cmd.env("DOMINO_IDP_JWKS_MAX_AGE", "1")
        .env("DOMINO_IDP_KEY_RELOAD_INTERVAL", "1")
        .args([
            "--keys-dir",
            "keys",
            "--max-jwt-duration",
            "2",
            "--leeway",
            "1",
        ])
        .args(args);
    cmd.output().expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `keys list` as (kid, state) pairs.
fn list(dir: &Path) -> Vec<(String, String)> {
    let out = idp(dir, &["keys", "list"]);
    assert!(out.status.success(), "{out:?}");
    stdout(&out)
        .lines()
        .skip(1)
        .map(|l| {
            let mut cols = l.split_whitespace();
            (
                cols.next().unwrap().to_owned(),
                cols.next().unwrap().to_owned(),
            )
        })
        .collect()
}

fn state_in(listing: &[(String, String)], kid: &str) -> String {
    listing
        .iter()
        .find(|(k, _)| k == kid)
        .map(|(_, s)| s.clone())
        .unwrap_or_else(|| panic!("{kid} not listed: {listing:?}"))
}

/// `keys rotate`; returns the new kid.
fn rotate(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["keys", "rotate"];
    args.extend_from_slice(extra);
    let out = idp(dir, &args);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    text.split_whitespace().nth(2).expect("new kid").to_owned()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// True when the realm document's `public_key` verifies `token`: what a
/// consumer configured with that key (Keep's keyFile) would conclude.
fn realm_key_verifies(realm: &Value, token: &str) -> bool {
    let key = realm_public_key(realm);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation).is_ok()
}

async fn mint(app: &TestApp) -> (String, u64) {
    let body: Value = app.login("doc", PASSWORD).await.json().await.unwrap();
    let token = body["bearer"].as_str().unwrap().to_owned();
    (token, body["claims"]["exp"].as_u64().unwrap())
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

fn short(c: &mut Config) {
    c.jwks_max_age = 1;
    c.key_reload_interval = 1;
    c.access_token_ttl = 2;
    c.max_jwt_duration = 2;
    c.leeway = 1;
}

#[tokio::test]
async fn a_cli_rotation_never_shows_a_caching_consumer_an_unknown_kid() {
    const LEAD: u64 = 3;
    let app = spawn_with(short).await;
    app.add_doc().await;
    let dir = app.state.config.keys_dir.parent().unwrap().to_owned();
    let old_kid = app.state.keys.signer().kid().to_owned();
    let mut consumer = CachingVerifier::new(&app, 1);
    let started = Instant::now();

    let (before, _) = mint(&app).await;
    assert_eq!(kid_of(&before), old_kid);
    consumer
        .verify(&before)
        .await
        .expect("token before the rotation");

    let rotated_at = unix_now();
    let new_kid = rotate(&dir, &["--lead", &LEAD.to_string()]);
    assert_ne!(new_kid, old_kid);
    let listing = list(&dir);
    assert_eq!(state_in(&listing, &old_kid), "active");
    assert_eq!(state_in(&listing, &new_kid), "next");

    // Tokens still within their lifetime, to be re-verified at every step.
    let mut live: Vec<(String, u64)> = vec![];
    let mut new_published_at = None;
    let mut new_signed_at = None;
    let mut last_old_exp = 0;
    let mut old_gone_at = None;
    let mut saw_retiring = false;
    let deadline = Instant::now() + Duration::from_secs(14);
    while old_gone_at.is_none() {
        assert!(
            Instant::now() < deadline,
            "rotation did not complete in time"
        );
        let now = unix_now();
        let (token, exp) = mint(&app).await;
        let realm: Value = app.get_json("/auth/realms/DominoRealm").await;
        let (again, exp_again) = mint(&app).await;
        let fetched_at = unix_now();
        let jwks = app.jwks().await;
        let published = kids(&jwks);

        // The realm's public_key is the signer's (unless the signer changed
        // between the two tokens around the realm request).
        if kid_of(&token) == kid_of(&again) {
            assert!(
                realm_key_verifies(&realm, &token),
                "realm public_key is not the signer's"
            );
        }
        for (t, exp) in [(&token, exp), (&again, exp_again)] {
            if kid_of(t) == old_kid {
                last_old_exp = exp;
            } else {
                assert_eq!(kid_of(t), new_kid);
                new_signed_at.get_or_insert(now);
            }
        }
        if published.contains(&new_kid) {
            new_published_at.get_or_insert(now);
        }
        if !published.contains(&old_kid) {
            // Gone only once every token it signed has expired (leeway 1 s;
            // the JWKS may have changed while the request was in flight).
            assert!(
                fetched_at >= (last_old_exp + 1) as f64 - 0.3,
                "old key left the JWKS at {fetched_at} while a token it signed lives until {last_old_exp}+1s"
            );
            old_gone_at = Some(now);
        } else if new_signed_at.is_some() && !saw_retiring {
            saw_retiring = true;
            let listing = list(&dir);
            assert_eq!(state_in(&listing, &old_kid), "retiring");
            assert_eq!(state_in(&listing, &new_kid), "active");
        }

        live.push((token, exp));
        live.push((again, exp_again));
        live.retain(|(_, exp)| (*exp as f64) > unix_now() + 0.2);
        for (t, _) in &live {
            consumer
                .verify(t)
                .await
                .unwrap_or_else(|e| panic!("the caching consumer rejected a live token: {e}"));
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    let published = new_published_at.expect("the new key was published");
    let signed = new_signed_at.expect("the new key signed");
    assert!(
        published < signed,
        "the new key signed before it was published"
    );
    assert!(
        signed - rotated_at >= (LEAD as f64) - 0.2,
        "the new key signed {:.2}s after the rotation; lead is {LEAD}s",
        signed - rotated_at
    );
    assert!(saw_retiring, "the old key was never seen retiring");
    // It refreshed only as its cache expired: at most once per max-age.
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        consumer.fetches >= 2 && consumer.fetches as f64 <= elapsed + 1.0,
        "{} fetches in {elapsed:.1}s",
        consumer.fetches
    );

    let listing = list(&dir);
    assert_eq!(state_in(&listing, &old_kid), "retired");
    assert_eq!(state_in(&listing, &new_kid), "active");
    // Archived, not deleted.
    assert!(dir.join(format!("keys/retired/{old_kid}.pem")).is_file());
    assert!(!dir.join(format!("keys/{old_kid}.pem")).exists());
    assert_eq!(kids(&app.jwks().await), vec![new_kid.clone()]);
    assert_eq!(app.state.keys.signer().kid(), new_kid);
}

#[tokio::test]
async fn keys_list_rotate_and_retire_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    // On an empty directory the first key signs at once.
    let first = rotate(dir, &[]);
    assert_eq!(list(dir), [(first.clone(), "active".to_owned())]);

    let second = rotate(dir, &["--lead", "3600"]);
    let listing = list(dir);
    assert_eq!(state_in(&listing, &first), "active");
    assert_eq!(state_in(&listing, &second), "next");
    let out = idp(dir, &["keys", "list"]);
    let row = stdout(&out)
        .lines()
        .find(|l| l.starts_with(&first))
        .unwrap()
        .to_owned();
    // created, activates, retires (pinned by the rotation), file.
    assert_eq!(row.split_whitespace().count(), 6, "{row}");
    assert!(
        !row.contains(" - "),
        "the active key shows its planned retirement: {row}"
    );

    // Both are published, each with its certificate.
    let out = idp(dir, &["keys", "export"]);
    let jwks: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(kids(&jwks), [first.clone(), second.clone()]);
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["x5c"].is_array())
    );

    // A second rotation while one is pending needs --force.
    let out = idp(dir, &["keys", "rotate"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&second) && err.contains("--force"), "{err}");

    // The signer cannot be retired; a pending key can (cancelling it).
    let out = idp(dir, &["keys", "retire", &first]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("active"));
    let out = idp(dir, &["keys", "retire", &second]);
    assert!(out.status.success(), "{out:?}");
    assert!(dir.join(format!("keys/retired/{second}.pem")).is_file());
    let listing = list(dir);
    assert_eq!(state_in(&listing, &first), "active");
    assert_eq!(state_in(&listing, &second), "retired");
    let out = idp(dir, &["keys", "export"]);
    let jwks: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(kids(&jwks), vec![first.clone()]);

    // An emergency rotation: signs within a second.
    let third = rotate(dir, &["--lead", "0"]);
    std::thread::sleep(Duration::from_millis(1100));
    let listing = list(dir);
    assert_eq!(state_in(&listing, &third), "active");
    assert_eq!(state_in(&listing, &first), "retiring");
}

mod server;
