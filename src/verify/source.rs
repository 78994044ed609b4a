//! One verification request end to end: load or fetch the source's keys, set
//! the expectations the source implies, and give a verdict — for a provider
//! directory, one attempt per provider in turn.

use std::path::PathBuf;

use serde_json::{Value, json};
use url::Url;

use super::check::{self, Expectations, Verified};
use super::fetch::{FetchError, Fetcher, Remote};
use super::keyset::KeySet;
use super::providers::{Provider, ProviderDir, ProviderKey};
use super::{Code, Rejection};
use crate::keys::KeyHome;

/// Exactly one place to take keys from.
#[derive(Debug, Clone)]
pub enum Source {
    /// This issuer's published keys (`keys_dir` or the database); tokens
    /// must carry its issuer.
    Local {
        keys: KeyHome,
        issuer: String,
    },
    Jwks(Url),
    /// OIDC discovery; tokens must carry the discovered `issuer`.
    IssuerUrl(Url),
    /// A Keycloak realm; tokens must carry the realm URL as `iss`.
    RealmUrl(Url),
    /// A PEM public key or certificate.
    KeyFile(PathBuf),
    /// A Keep `keepconfig.d`-style directory of provider files.
    Providers(PathBuf),
}

/// Expectations that the command line sets for every source.
#[derive(Debug, Clone)]
pub struct Options {
    /// Overrides the issuer a source implies.
    pub issuer: Option<String>,
    /// Overrides the audience; empty = a provider's `aud`, else `default_audience`.
    pub audiences: Vec<String>,
    pub default_audience: String,
    pub leeway: u64,
}

impl Options {
    fn expectations(&self, implied_issuer: Option<String>, implied_aud: &[String]) -> Expectations {
        let audiences = if !self.audiences.is_empty() {
            self.audiences.clone()
        } else if !implied_aud.is_empty() {
            implied_aud.to_vec()
        } else {
            vec![self.default_audience.clone()]
        };
        Expectations::new(
            self.issuer.clone().or(implied_issuer),
            audiences,
            self.leeway,
        )
    }
}

/// The source could not be used at all (exit 2): an unreadable file, a
/// directory without providers, an unreachable URL.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

impl From<FetchError> for SetupError {
    fn from(e: FetchError) -> Self {
        SetupError(format!("cannot fetch {e}"))
    }
}

/// What one provider of a directory made of the token.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub provider: String,
    pub file: PathBuf,
    pub result: Result<Verified, Rejection>,
}

/// The outcome, with per-provider attempts for a provider directory.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub result: Result<Verified, Rejection>,
    pub attempts: Vec<Attempt>,
    /// Things an operator should know even when the token is valid.
    pub warnings: Vec<String>,
}

impl Verdict {
    fn single(result: Result<Verified, Rejection>, keys: &KeySet) -> Self {
        Verdict {
            result,
            attempts: Vec::new(),
            warnings: keys.notes.clone(),
        }
    }

    /// The provider that accepted the token, if the source was a directory.
    pub fn provider(&self) -> Option<&Attempt> {
        self.attempts.iter().find(|a| a.result.is_ok())
    }

    /// `valid: …` naming kid, source/provider, issuer and audience.
    pub fn valid_line(&self) -> Option<String> {
        let v = self.result.as_ref().ok()?;
        let mut line = String::from("valid:");
        if let Some(a) = self.provider() {
            line.push_str(&format!(
                " provider {:?} ({}),",
                a.provider,
                a.file.display()
            ));
        }
        line.push_str(&format!(
            " kid {}, alg {:?}, source {}",
            v.kid.as_deref().unwrap_or("(none)"),
            v.alg,
            v.source,
        ));
        // A key without a kid of its own (PEM, certificate) is named apart.
        if v.kid
            .as_ref()
            .is_none_or(|kid| v.key != format!("kid {kid}"))
        {
            line.push_str(&format!(", key {}", v.key));
        }
        line.push_str(&format!(
            ", issuer {}, audience {}",
            v.issuer.as_deref().unwrap_or("(not checked)"),
            if v.audiences.is_empty() {
                "(not checked)".to_owned()
            } else {
                v.audiences.join(" | ")
            },
        ));
        if !v.expiry_checked {
            line.push_str(", expiry NOT checked");
        }
        Some(line)
    }

    /// The reason for an invalid token, one line per provider when there were several.
    pub fn reason(&self) -> Option<String> {
        let rejection = self.result.as_ref().err()?;
        let mut text = rejection.to_string();
        for a in &self.attempts {
            if let Err(r) = &a.result {
                text.push_str(&format!("\n  - {} ({}): {r}", a.provider, a.file.display()));
            }
        }
        Some(text)
    }

    /// The `--json` form.
    pub fn to_json(&self) -> Value {
        let attempts: Vec<Value> = self
            .attempts
            .iter()
            .map(|a| {
                let mut entry = json!({
                    "name": a.provider,
                    "file": a.file.display().to_string(),
                    "valid": a.result.is_ok(),
                });
                if let Err(r) = &a.result {
                    entry["code"] = json!(r.code);
                    entry["reason"] = json!(r.message);
                }
                entry
            })
            .collect();
        let mut out = match &self.result {
            Ok(v) => json!({
                "valid": true,
                "alg": v.alg,
                "kid": v.kid,
                "key": v.key,
                "source": v.source,
                "provider": self.provider().map(|a| &a.provider),
                "issuer": v.issuer,
                "audience": v.audiences,
                "expiry_checked": v.expiry_checked,
                "claims": v.claims,
            }),
            Err(r) => json!({
                "valid": false,
                "code": r.code,
                "reason": r.message,
            }),
        };
        if !attempts.is_empty() {
            out["providers"] = Value::Array(attempts);
        }
        if !self.warnings.is_empty() {
            out["warnings"] = json!(self.warnings);
        }
        out
    }
}

/// The verdict on `token` by the keys of a remote realm, expecting its issuer.
fn remote_verdict(token: &str, remote: Remote, opts: &Options) -> Verdict {
    let expect = opts.expectations(remote.issuer, &[]);
    Verdict::single(check::verify(token, &remote.keys, &expect), &remote.keys)
}

/// Verifies `token` against `source`. `Err` only when the source itself is
/// unusable; an invalid token is an `Ok` verdict holding the rejection.
pub async fn verify_against(
    token: &str,
    source: &Source,
    opts: &Options,
) -> Result<Verdict, SetupError> {
    // Accept a pasted `Authorization` header value as well as the bare token.
    let token = token.trim();
    let token = match token.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => token,
    };
    match source {
        Source::Local { keys, issuer } => {
            let ring = keys.load().await.map_err(|e| SetupError(e.to_string()))?;
            let keys = KeySet::from_ring(format!("local keys in {}", keys.describe()), &ring)
                .map_err(SetupError)?;
            let expect = opts.expectations(Some(issuer.clone()), &[]);
            Ok(Verdict::single(check::verify(token, &keys, &expect), &keys))
        }
        Source::Jwks(url) => {
            let keys = Fetcher::new()?.jwks(url).await?;
            let expect = opts.expectations(None, &[]);
            Ok(Verdict::single(check::verify(token, &keys, &expect), &keys))
        }
        Source::IssuerUrl(url) => {
            let remote = Fetcher::new()?.discovery(url).await?;
            Ok(remote_verdict(token, remote, opts))
        }
        Source::RealmUrl(url) => {
            let remote = Fetcher::new()?.realm(url).await?;
            Ok(remote_verdict(token, remote, opts))
        }
        Source::KeyFile(path) => {
            let text = tokio::fs::read(path).await.map_err(|e| {
                SetupError(format!("cannot read the key file {}: {e}", path.display()))
            })?;
            let keys = KeySet::from_pem(format!("key file {}", path.display()), &text)
                .map_err(|e| SetupError(format!("{}: {e}", path.display())))?;
            let expect = opts.expectations(None, &[]);
            Ok(Verdict::single(check::verify(token, &keys, &expect), &keys))
        }
        Source::Providers(dir) => {
            let providers = ProviderDir::load(dir).map_err(SetupError)?;
            Ok(try_providers(token, &providers, opts).await)
        }
    }
}

/// Tries each provider in turn, as Keep does, until one accepts the token.
async fn try_providers(token: &str, dir: &ProviderDir, opts: &Options) -> Verdict {
    let mut warnings = Vec::new();
    if let Some(file) = &dir.expiry_check_disabled_by {
        warnings.push(format!(
            "disableJwtExpiryCheck is true in {}: exp is not checked (Keep does not check it either)",
            file.display()
        ));
    }
    // A token-level defect (unsigned, HMAC, garbage) is the same for every provider.
    let header = match check::inspect(token) {
        Ok(header) => header,
        Err(rejection) => {
            return Verdict {
                result: Err(rejection),
                attempts: Vec::new(),
                warnings,
            };
        }
    };
    let needs_http = dir
        .providers
        .iter()
        .any(|p| matches!(p.key, ProviderKey::Url(_)));
    let fetcher = needs_http.then(Fetcher::new);
    let mut attempts = Vec::new();
    for provider in &dir.providers {
        let result = try_provider(
            token,
            &header,
            provider,
            dir,
            opts,
            fetcher.as_ref(),
            &mut warnings,
        )
        .await;
        let accepted = result.is_ok();
        attempts.push(Attempt {
            provider: provider.name.clone(),
            file: provider.file.clone(),
            result,
        });
        if accepted {
            break;
        }
    }
    let result = match attempts.iter().find_map(|a| a.result.as_ref().ok()) {
        Some(verified) => Ok(verified.clone()),
        None => Err(Rejection::new(
            Code::NoProviderMatched,
            format!(
                "no provider accepted the token ({} configured)",
                attempts.len()
            ),
        )),
    };
    Verdict {
        result,
        attempts,
        warnings,
    }
}

async fn try_provider(
    token: &str,
    header: &jsonwebtoken::Header,
    provider: &Provider,
    dir: &ProviderDir,
    opts: &Options,
    fetcher: Option<&Result<Fetcher, FetchError>>,
    warnings: &mut Vec<String>,
) -> Result<Verified, Rejection> {
    if let Some(skipped) = provider.skipped() {
        return Err(skipped);
    }
    let algorithm = provider.algorithm()?;
    let source = format!("provider {}", provider.name);
    let mut expect = opts.expectations(provider.iss.clone(), &provider.aud);
    expect.algorithm = Some(algorithm);
    expect.kid = provider.kid.clone();
    expect.check_expiry = dir.expiry_check_disabled_by.is_none();
    // Header checks first: no fetch for a provider that cannot match.
    check::admits(header, &source, &expect)?;

    let unavailable = |why: String| Rejection::new(Code::SourceUnavailable, why);
    let mut keys = match &provider.key {
        ProviderKey::File(path) => {
            let text = tokio::fs::read(path)
                .await
                .map_err(|e| unavailable(format!("cannot read keyFile {}: {e}", path.display())))?;
            KeySet::from_pem(format!("keyFile {}", path.display()), &text)
                .map_err(|e| unavailable(format!("keyFile {}: {e}", path.display())))?
        }
        ProviderKey::Url(url) => {
            let client = match fetcher {
                Some(Ok(client)) => client,
                Some(Err(e)) => return Err(unavailable(e.to_string())),
                None => return Err(unavailable("no HTTP client".into())),
            };
            let remote = client
                .provider_url(url)
                .await
                .map_err(|e| unavailable(format!("providerUrl {e}")))?;
            if provider.iss.is_none() && opts.issuer.is_none() {
                expect.issuer = remote.issuer;
            }
            remote.keys
        }
        ProviderKey::Unusable(why) => {
            return Err(Rejection::new(Code::ProviderSkipped, why.clone()));
        }
    };
    // A keyFile has no kid of its own; the provider's `kid` names it.
    if let (ProviderKey::File(_), Some(kid)) = (&provider.key, &provider.kid) {
        for key in &mut keys.keys {
            key.kid = Some(kid.clone());
        }
    }
    warnings.extend(
        keys.notes
            .iter()
            .map(|n| format!("provider {}: {n}", provider.name)),
    );
    keys.source = format!("{source} via {}", keys.source);
    check::verify(token, &keys, &expect)
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::Algorithm;

    use super::*;
    use crate::verify::testkit::{ISS, claims, keys, now, sign};

    fn opts() -> Options {
        Options {
            issuer: None,
            audiences: Vec::new(),
            default_audience: "Domino".into(),
            leeway: 5,
        }
    }

    #[tokio::test]
    async fn key_file_providers_pin_kid_issuer_and_expiry_as_configured() {
        let [a, b] = keys();
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("a.pem"), &a.public_pem).unwrap();
        std::fs::write(tmp.path().join("b.pem"), &b.public_pem).unwrap();
        // Raw text: the order of the entries is the order they are tried in.
        let entry = |key: &str, kid: &str| {
            format!(r#"{{"active": true, "keyFile": "{key}", "kid": "{kid}", "iss": "{ISS}"}}"#)
        };
        let doc = format!(
            r#"{{"jwt": {{"b": {}, "a": {}}}}}"#,
            entry("b.pem", "kb"),
            entry("a.pem", "ka")
        );
        std::fs::write(tmp.path().join("10.json"), doc).unwrap();
        let source = Source::Providers(tmp.path().to_owned());

        let token = sign(a, Algorithm::RS256, Some("ka"), &claims(json!({})));
        let verdict = verify_against(&format!("Bearer {token}\n"), &source, &opts())
            .await
            .unwrap();
        assert_eq!(verdict.provider().unwrap().provider, "a");
        assert_eq!(verdict.result.as_ref().unwrap().key, "kid ka");
        assert_eq!(
            verdict.attempts[0].result.as_ref().unwrap_err().code,
            Code::KidMismatch
        );
        let line = verdict.valid_line().unwrap();
        assert!(line.starts_with("valid: provider \"a\""), "{line}");
        assert_eq!(verdict.to_json()["provider"], "a");

        let expired = sign(
            a,
            Algorithm::RS256,
            Some("ka"),
            &claims(json!({"exp": now() - 600})),
        );
        let verdict = verify_against(&expired, &source, &opts()).await.unwrap();
        assert_eq!(
            verdict.result.as_ref().unwrap_err().code,
            Code::NoProviderMatched
        );
        assert!(verdict.reason().unwrap().contains("ExpiredSignature"));
        assert_eq!(
            verdict.to_json()["providers"][1]["code"],
            "ExpiredSignature"
        );

        let doc = json!({"disableJwtExpiryCheck": true});
        std::fs::write(tmp.path().join("20.json"), doc.to_string()).unwrap();
        let verdict = verify_against(&expired, &source, &opts()).await.unwrap();
        assert!(verdict.result.is_ok());
        assert!(verdict.warnings[0].contains("disableJwtExpiryCheck"));
        assert!(
            verdict
                .valid_line()
                .unwrap()
                .ends_with("expiry NOT checked")
        );

        // A token-level defect is reported once, not per provider.
        let verdict = verify_against("garbage", &source, &opts()).await.unwrap();
        assert_eq!(verdict.result.unwrap_err().code, Code::Malformed);
        assert!(verdict.attempts.is_empty());
    }
}
