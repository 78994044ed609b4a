//! A Keep provider directory as a source: each provider tried in turn, as
//! Keep does, until one accepts the token.

use super::check::{self, Verified};
use super::fetch::{FetchError, Fetcher};
use super::keyset::KeySet;
use super::providers::{Provider, ProviderDir, ProviderKey};
use super::source::Options;
use super::verdict::{Attempt, Verdict};
use super::{Code, Rejection};

/// Tries each provider in turn, as Keep does, until one accepts the token.
pub(super) async fn try_providers(token: &str, dir: &ProviderDir, opts: &Options) -> Verdict {
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

    use serde_json::json;

    use super::*;
    use crate::verify::source::{Source, verify_against};
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
