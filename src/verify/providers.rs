//! Keep's JWT provider configuration, read the way Keep reads `keepconfig.d`:
//! every `*.json` file, in name order, merged; each may hold
//! `{"jwt": {"<name>": {"active", "algorithm", "keyFile" | "providerUrl",
//! "kid", "iss", "aud"}}}` and the global `disableJwtExpiryCheck`.

use std::fmt;
use std::path::{Path, PathBuf};

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::{Map, Value};
use url::Url;

use super::rsa::RSA_ALGORITHMS;
use super::{Code, Rejection};

/// The providers of one directory, in the order Keep tries them.
#[derive(Debug, Clone)]
pub struct ProviderDir {
    pub providers: Vec<Provider>,
    /// The file whose `disableJwtExpiryCheck: true` is in force, if any.
    pub expiry_check_disabled_by: Option<PathBuf>,
}

/// One `jwt.<name>` entry after merging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub name: String,
    /// The last file that set any of its fields.
    pub file: PathBuf,
    /// `None` when the entry has no `active` field (Keep then ignores it).
    pub active: Option<bool>,
    pub algorithm: Option<String>,
    pub key: ProviderKey,
    pub kid: Option<String>,
    pub iss: Option<String>,
    pub aud: Vec<String>,
}

/// Where a provider's keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderKey {
    /// `keyFile`, resolved against the directory when relative.
    File(PathBuf),
    /// `providerUrl`: an issuer, a discovery document, a Keycloak realm or a JWKS.
    Url(Url),
    /// Configured so that no key can be had; the reason.
    Unusable(String),
}

impl Provider {
    /// Why this provider is not tried at all, if it is not.
    pub fn skipped(&self) -> Option<Rejection> {
        let why = match (self.active, &self.key) {
            (None, _) => "skipped: it has no \"active\": true".to_owned(),
            (Some(false), _) => "skipped: \"active\" is false".to_owned(),
            (Some(true), ProviderKey::Unusable(why)) => format!("skipped: {why}"),
            (Some(true), _) => return None,
        };
        Some(Rejection::new(Code::ProviderSkipped, why))
    }

    /// The one algorithm the provider accepts: its `algorithm`, else RS256.
    pub fn algorithm(&self) -> Result<Algorithm, Rejection> {
        let Some(name) = &self.algorithm else {
            return Ok(Algorithm::RS256);
        };
        match name.parse::<Algorithm>() {
            Ok(alg) if RSA_ALGORITHMS.contains(&alg) => Ok(alg),
            _ => Err(Rejection::new(
                Code::ProviderSkipped,
                format!("skipped: algorithm {name:?} is not supported (RS256, RS384, RS512)"),
            )),
        }
    }
}

impl ProviderDir {
    /// Reads every `*.json` file of `dir`.
    pub fn load(dir: &Path) -> Result<ProviderDir, String> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read the provider directory {}: {e}", dir.display()))?;
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|e| format!("cannot read the provider directory {}: {e}", dir.display()))?
                .path();
            if path.extension().and_then(|e| e.to_str()) == Some("json") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            files.push((path, text));
        }
        Self::parse(dir, &files)
    }

    /// Merges the files' `jwt` entries; a later file overrides the fields it sets.
    pub fn parse(dir: &Path, files: &[(PathBuf, String)]) -> Result<ProviderDir, String> {
        let mut merged: Vec<(String, PathBuf, Map<String, Value>)> = Vec::new();
        let mut expiry_check_disabled_by = None;
        for (file, text) in files {
            let doc: ConfigFile = serde_json::from_str(text)
                .map_err(|e| format!("{}: not a Keep configuration file ({e})", file.display()))?;
            if let Some(disabled) = doc.disable_jwt_expiry_check {
                expiry_check_disabled_by = disabled.then(|| file.clone());
            }
            for (name, entry) in doc.jwt.0 {
                let Value::Object(fields) = entry else {
                    return Err(format!("{}: jwt.{name} is not an object", file.display()));
                };
                match merged.iter_mut().find(|(n, _, _)| *n == name) {
                    Some((_, last, existing)) => {
                        existing.extend(fields);
                        *last = file.clone();
                    }
                    None => merged.push((name, file.clone(), fields)),
                }
            }
        }
        if merged.is_empty() {
            return Err(format!(
                "no JWT providers in {}: no *.json file there has a \"jwt\" entry",
                dir.display()
            ));
        }
        let providers = merged
            .into_iter()
            .map(|(name, file, fields)| Provider::from_fields(dir, name, file, fields))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ProviderDir {
            providers,
            expiry_check_disabled_by,
        })
    }
}

impl Provider {
    fn from_fields(
        dir: &Path,
        name: String,
        file: PathBuf,
        fields: Map<String, Value>,
    ) -> Result<Provider, String> {
        let entry: Entry = serde_json::from_value(Value::Object(fields))
            .map_err(|e| format!("{}: jwt.{name}: {e}", file.display()))?;
        let key = match (entry.key_file, entry.provider_url) {
            (Some(_), Some(_)) => {
                ProviderKey::Unusable("both keyFile and providerUrl are set; keep one".into())
            }
            (Some(path), None) => {
                let path = PathBuf::from(path);
                ProviderKey::File(if path.is_absolute() {
                    path
                } else {
                    dir.join(path)
                })
            }
            (None, Some(url)) => match Url::parse(&url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => ProviderKey::Url(u),
                _ => ProviderKey::Unusable(format!("providerUrl {url:?} is not an http(s) URL")),
            },
            (None, None) => ProviderKey::Unusable("it has neither keyFile nor providerUrl".into()),
        };
        Ok(Provider {
            name,
            file,
            active: entry.active,
            algorithm: entry.algorithm,
            key,
            kid: entry.kid,
            iss: entry.iss,
            aud: match entry.aud {
                None => Vec::new(),
                Some(OneOrMany::One(aud)) => vec![aud],
                Some(OneOrMany::Many(auds)) => auds,
            },
        })
    }
}

/// The parts of a Keep configuration file that concern JWT providers; Keep's
/// other settings in the same directory are ignored.
#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    jwt: Ordered,
    #[serde(rename = "disableJwtExpiryCheck", default)]
    disable_jwt_expiry_check: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    active: Option<bool>,
    algorithm: Option<String>,
    key_file: Option<String>,
    provider_url: Option<String>,
    kid: Option<String>,
    iss: Option<String>,
    aud: Option<OneOrMany>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// A JSON object with its key order kept: providers are tried in file order.
#[derive(Default)]
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of named providers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        de.deserialize_map(OrderedVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(files: &[(&str, &str)]) -> Result<ProviderDir, String> {
        let files: Vec<(PathBuf, String)> = files
            .iter()
            .map(|(name, text)| {
                (
                    PathBuf::from("/etc/keepconfig.d").join(name),
                    text.to_string(),
                )
            })
            .collect();
        ProviderDir::parse(Path::new("/etc/keepconfig.d"), &files)
    }

    #[test]
    fn the_documented_examples_parse() {
        let dir = parse(&[
            (
                "10-jwt.json",
                r#"{"disableJwtExpiryCheck": false, "jwt": {"oicd": {"active": true,
                    "algorithm": "RS256", "keyFile": "10-jwt.pubkey"}}}"#,
            ),
            (
                "20-azure.json",
                r#"{"jwt": {"AzureAD01": {"active": true,
                    "providerUrl": "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration",
                    "aud": "api://dominorest", "iss": "https://sts.windows.net/t/",
                    "algorithm": "RS256"}}}"#,
            ),
        ])
        .unwrap();
        assert_eq!(dir.expiry_check_disabled_by, None);
        let [keep, azure] = &dir.providers[..] else {
            panic!("{:?}", dir.providers)
        };
        assert_eq!(keep.name, "oicd");
        assert_eq!(
            keep.key,
            ProviderKey::File(PathBuf::from("/etc/keepconfig.d/10-jwt.pubkey"))
        );
        assert_eq!(keep.algorithm().unwrap(), Algorithm::RS256);
        assert!(keep.skipped().is_none());
        assert_eq!(azure.aud, ["api://dominorest"]);
        assert_eq!(azure.iss.as_deref(), Some("https://sts.windows.net/t/"));
        assert!(
            matches!(&azure.key, ProviderKey::Url(u) if u.path().ends_with("openid-configuration"))
        );
    }

    #[test]
    fn files_merge_in_name_order_and_entries_keep_their_order() {
        let dir = parse(&[
            (
                "10-a.json",
                r#"{"jwt": {"zeta": {"active": true, "keyFile": "/abs/z.pem"},
                            "alpha": {"active": true, "keyFile": "a.pem", "kid": "k1"}}}"#,
            ),
            ("15-other-settings.json", r#"{"PORT": {"HTTP": 8880}}"#),
            (
                "20-b.json",
                r#"{"jwt": {"alpha": {"kid": "k2", "aud": ["x", "y"]}}}"#,
            ),
        ])
        .unwrap();
        let names: Vec<&str> = dir.providers.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["zeta", "alpha"]);
        assert_eq!(
            dir.providers[0].key,
            ProviderKey::File(PathBuf::from("/abs/z.pem"))
        );
        let alpha = &dir.providers[1];
        assert_eq!(alpha.kid.as_deref(), Some("k2"));
        assert_eq!(alpha.aud, ["x", "y"]);
        assert_eq!(alpha.file, PathBuf::from("/etc/keepconfig.d/20-b.json"));
        assert_eq!(alpha.active, Some(true));
    }

    #[test]
    fn unusable_entries_are_skipped_with_a_reason() {
        let dir = parse(&[(
            "10.json",
            r#"{"jwt": {
                "no-active": {"keyFile": "k.pem"},
                "off": {"active": false, "keyFile": "k.pem"},
                "both": {"active": true, "keyFile": "k.pem", "providerUrl": "https://idp"},
                "neither": {"active": true},
                "ftp": {"active": true, "providerUrl": "ftp://idp"},
                "hmac": {"active": true, "keyFile": "k.pem", "algorithm": "HS256"}
            }}"#,
        )])
        .unwrap();
        let reasons: Vec<String> = dir
            .providers
            .iter()
            .map(|p| match p.skipped() {
                Some(r) => r.message,
                None => p.algorithm().unwrap_err().message,
            })
            .collect();
        for (reason, want) in reasons.iter().zip([
            "\"active\": true",
            "\"active\" is false",
            "both keyFile and providerUrl",
            "neither keyFile nor providerUrl",
            "not an http(s) URL",
            "\"HS256\" is not supported",
        ]) {
            assert!(reason.contains(want), "{reason} / {want}");
        }
    }

    #[test]
    fn the_expiry_switch_and_broken_files() {
        let on =
            r#"{"disableJwtExpiryCheck": true, "jwt": {"p": {"active": true, "keyFile": "k"}}}"#;
        let dir = parse(&[("10.json", on)]).unwrap();
        assert_eq!(
            dir.expiry_check_disabled_by,
            Some(PathBuf::from("/etc/keepconfig.d/10.json"))
        );
        let off_again = parse(&[
            ("10.json", on),
            ("20.json", r#"{"disableJwtExpiryCheck": false}"#),
        ]);
        assert_eq!(off_again.unwrap().expiry_check_disabled_by, None);

        let err = parse(&[("10.json", "{not json")]).unwrap_err();
        assert!(err.contains("10.json"), "{err}");
        let err = parse(&[("10.json", r#"{"jwt": {"p": {"active": "yes"}}}"#)]).unwrap_err();
        assert!(err.contains("jwt.p"), "{err}");
        let err = parse(&[("10.json", r#"{"jwt": {"p": 1}}"#)]).unwrap_err();
        assert!(err.contains("not an object"), "{err}");
        assert!(
            parse(&[("10.json", r#"{"other": 1}"#)])
                .unwrap_err()
                .contains("no JWT providers")
        );
    }
}
