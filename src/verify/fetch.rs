//! Fetching a remote key source: a JWKS, OIDC discovery, a Keycloak realm, or
//! a Keep `providerUrl` (any of those). Small JSON documents, bounded in size
//! and time.

use std::time::Duration;

use serde_json::Value;
use url::Url;

use super::keyset::KeySet;

/// JWKS and discovery documents are a few KiB; refuse to buffer more.
const MAX_BODY: usize = 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(15);
const WELL_KNOWN: &str = ".well-known/openid-configuration";

/// Why a remote source could not be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{url}: {why}")]
pub struct FetchError {
    pub url: String,
    pub why: String,
}

impl FetchError {
    fn new(url: &Url, why: impl Into<String>) -> Self {
        FetchError {
            url: url.to_string(),
            why: why.into(),
        }
    }
}

/// The keys behind a URL, and the issuer the URL vouches for, if any.
#[derive(Debug, Clone)]
pub struct Remote {
    pub keys: KeySet,
    pub issuer: Option<String>,
}

/// An HTTP client for key sources (rustls on aws-lc-rs, the OS trust store).
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
}

impl Fetcher {
    pub fn new() -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "domino-idp/",
                env!("CARGO_PKG_VERSION"),
                " token-verify"
            ))
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| FetchError {
                url: String::new(),
                why: format!("cannot set up the HTTP client: {e}"),
            })?;
        Ok(Fetcher { client })
    }

    /// A JWKS document.
    pub async fn jwks(&self, url: &Url) -> Result<KeySet, FetchError> {
        let doc = self.get_json(url).await?;
        KeySet::from_jwks(format!("JWKS {url}"), &doc).map_err(|why| FetchError::new(url, why))
    }

    /// OIDC discovery: `<url>/.well-known/openid-configuration` (or `url` itself
    /// when it already names the document), then its `jwks_uri`.
    pub async fn discovery(&self, url: &Url) -> Result<Remote, FetchError> {
        let config_url = discovery_url(url)?;
        let doc = self.get_json(&config_url).await?;
        let issuer = doc
            .get("issuer")
            .and_then(Value::as_str)
            .ok_or_else(|| FetchError::new(&config_url, "not a discovery document: no \"issuer\""))?
            .to_owned();
        let jwks_uri = doc.get("jwks_uri").and_then(Value::as_str).ok_or_else(|| {
            FetchError::new(&config_url, "not a discovery document: no \"jwks_uri\"")
        })?;
        let jwks_url = Url::parse(jwks_uri)
            .map_err(|e| FetchError::new(&config_url, format!("jwks_uri {jwks_uri:?}: {e}")))?;
        let mut keys = self.jwks(&jwks_url).await?;
        keys.source = format!("issuer {issuer} (jwks_uri {jwks_url})");
        Ok(Remote {
            keys,
            issuer: Some(issuer),
        })
    }

    /// A Keycloak realm (`…/auth/realms/<realm>`): its `public_key` and its
    /// `protocol/openid-connect/certs`. The issuer is the realm URL.
    pub async fn realm(&self, url: &Url) -> Result<Remote, FetchError> {
        let doc = self.get_json(url).await?;
        self.realm_from(url, &doc).await
    }

    async fn realm_from(&self, url: &Url, doc: &Value) -> Result<Remote, FetchError> {
        let realm = url.as_str().trim_end_matches('/');
        let certs_url = join(url, "protocol/openid-connect/certs")?;
        let certs = self.get_json(&certs_url).await;
        let mut keys = KeySet::from_realm(realm, doc, certs.as_ref().ok())
            .map_err(|why| FetchError::new(url, why))?;
        if let Err(e) = certs {
            keys.notes.push(format!("no certs: {e}"));
        }
        Ok(Remote {
            keys,
            issuer: Some(realm.to_owned()),
        })
    }

    /// A Keep `providerUrl`. Keep appends `/.well-known/openid-configuration`;
    /// for an IdP without discovery the URL names the keys directly, which may
    /// be a Keycloak realm (`public_key`) or a JWKS (`keys`).
    pub async fn provider_url(&self, url: &Url) -> Result<Remote, FetchError> {
        let discovered = match self.discovery(url).await {
            Ok(remote) => return Ok(remote),
            Err(e) => e,
        };
        if url.path().ends_with(WELL_KNOWN) {
            return Err(discovered);
        }
        let doc = self.get_json(url).await.map_err(|e| FetchError {
            url: url.to_string(),
            why: format!("no discovery ({discovered}), and {}", e.why),
        })?;
        if doc.get("public_key").is_some() {
            self.realm_from(url, &doc).await
        } else if doc.get("keys").is_some() {
            Ok(Remote {
                keys: KeySet::from_jwks(format!("JWKS {url}"), &doc)
                    .map_err(|why| FetchError::new(url, why))?,
                issuer: None,
            })
        } else {
            Err(FetchError::new(
                url,
                format!(
                    "no discovery ({discovered}), and the URL holds neither a realm's \
                     public_key nor a JWKS"
                ),
            ))
        }
    }

    async fn get_json(&self, url: &Url) -> Result<Value, FetchError> {
        let fail = |why: String| FetchError::new(url, why);
        let mut resp = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            // `{:#}` writes the causes too: reqwest's own message hides
            // them (refused, DNS, TLS).
            .map_err(|e| fail(format!("request failed: {:#}", anyhow::Error::new(e))))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(fail(format!("HTTP {status}")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            fail(format!(
                "reading the body failed: {:#}",
                anyhow::Error::new(e)
            ))
        })? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(fail(format!(
                    "the document is larger than {MAX_BODY} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| fail(format!("not JSON ({e})")))
    }
}

/// `<url>/.well-known/openid-configuration`, unless `url` already names it.
pub fn discovery_url(url: &Url) -> Result<Url, FetchError> {
    if url.path().ends_with(WELL_KNOWN) {
        Ok(url.clone())
    } else {
        join(url, WELL_KNOWN)
    }
}

/// Appends path segments to `base` as a directory (RFC 3986 joining would
/// drop its last segment).
fn join(base: &Url, tail: &str) -> Result<Url, FetchError> {
    let mut dir = base.clone();
    dir.set_query(None);
    dir.set_fragment(None);
    if !dir.path().ends_with('/') {
        let path = format!("{}/", dir.path());
        dir.set_path(&path);
    }
    dir.join(tail)
        .map_err(|e| FetchError::new(base, format!("cannot append {tail}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_url_appends_once() {
        let cases = [
            (
                "https://idp.example",
                "https://idp.example/.well-known/openid-configuration",
            ),
            (
                "https://idp.example/auth/realms/R/",
                "https://idp.example/auth/realms/R/.well-known/openid-configuration",
            ),
            (
                "https://login.example/t/v2.0/.well-known/openid-configuration",
                "https://login.example/t/v2.0/.well-known/openid-configuration",
            ),
        ];
        for (given, want) in cases {
            let url = Url::parse(given).unwrap();
            assert_eq!(discovery_url(&url).unwrap().as_str(), want);
        }
        let realm = Url::parse("http://h/auth/realms/R").unwrap();
        assert_eq!(
            join(&realm, "protocol/openid-connect/certs")
                .unwrap()
                .as_str(),
            "http://h/auth/realms/R/protocol/openid-connect/certs"
        );
    }
}
