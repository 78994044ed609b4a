//! OAuth request parameters (RFC 6749 §3.1, §3.2): form-encoded, each at most
//! once, and an empty value counts as absent.

use std::collections::HashMap;

use crate::app::oidc::error::OAuthError;

pub const MAX_PARAMS: usize = 64;
pub const MAX_VALUE_CHARS: usize = 8192;

#[derive(Debug, Default, Clone)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` bytes (a body or a query).
    pub fn parse(bytes: &[u8]) -> Result<Params, String> {
        let mut map = HashMap::new();
        for (key, value) in url::form_urlencoded::parse(bytes) {
            if map.len() >= MAX_PARAMS {
                return Err(format!("too many parameters (at most {MAX_PARAMS})"));
            }
            if key.contains('\u{fffd}') || value.contains('\u{fffd}') {
                return Err("parameters must be UTF-8".into());
            }
            if value.chars().count() > MAX_VALUE_CHARS {
                return Err(format!(
                    "parameter {key:.40} is longer than {MAX_VALUE_CHARS} characters"
                ));
            }
            if value.chars().any(|c| c.is_control()) {
                return Err(format!("parameter {key:.40} contains control characters"));
            }
            if map.contains_key(key.as_ref()) {
                return Err(format!(
                    "parameter {key:.40} is repeated; send each parameter once"
                ));
            }
            map.insert(key.into_owned(), value.into_owned());
        }
        map.retain(|_, v| !v.is_empty());
        Ok(Params(map))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn require(&self, key: &str) -> Result<&str, OAuthError> {
        self.get(key)
            .ok_or_else(|| OAuthError::invalid_request(format!("{key} is required")))
    }

    pub fn insert(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let p = Params::parse(b"a=1&b=&c=x+y%21").unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.get("c"), Some("x y!"));
        assert!(Params::parse(b"a=1&a=2").unwrap_err().contains("repeated"));
        assert!(Params::parse(b"a=%ff").is_err());
        assert!(Params::parse(b"a=%00").is_err());
        let long = format!("a={}", "x".repeat(MAX_VALUE_CHARS + 1));
        assert!(Params::parse(long.as_bytes()).is_err());
    }
}
