//! The outcome of one verification: the verdict on the token, the attempt of
//! each provider of a directory, and the warnings an operator should read;
//! rendered as the `valid: …` line, the reason, or `--json`.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::Rejection;
use super::check::Verified;
use super::keyset::KeySet;

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
    pub(super) fn single(result: Result<Verified, Rejection>, keys: &KeySet) -> Self {
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
