//! Scopes: the one rule of what a scope token is (RFC 6749 §3.3), used by
//! users' Keep scopes, clients' scope lists, the grants and the Keep login;
//! and the client scopes this issuer knows, as Keycloak names them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest scope token accepted anywhere.
pub const MAX_SCOPE_CHARS: usize = 128;

/// The longest `scope` parameter accepted (a request, the Keep login's body).
pub const MAX_SCOPE_PARAM: usize = 4096;

/// A `scope` parameter as it arrives: at most `MAX_SCOPE_PARAM` bytes, no
/// control characters (those are refused with a 400; tokens that are not
/// valid scopes are merely never granted, see `ScopeSet::parse_param`).
pub fn check_param(param: &str) -> Result<(), String> {
    if param.len() > MAX_SCOPE_PARAM || param.chars().any(char::is_control) {
        Err(format!(
            "scope must be at most {MAX_SCOPE_PARAM} characters without control characters"
        ))
    } else {
        Ok(())
    }
}

/// The OpenID Connect scopes any client may ask for, whatever its lists
/// say (as before client scopes existed).
pub const OIDC_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// The client scopes this issuer gives a meaning to, as Keycloak names them:
/// a client gets them as default or optional scopes. `roles` adds
/// `realm_access`/`resource_access`, `web-origins` is Keycloak's (its claim,
/// `allowed-origins`, belongs to the client's web origins), `phone` and
/// `address` release those standard claims from user attributes, and
/// `microprofile-jwt` adds `upn` and `groups` (the realm roles).
pub const KNOWN_CLIENT_SCOPES: [&str; 8] = [
    "openid",
    "profile",
    "email",
    "roles",
    "web-origins",
    "phone",
    "address",
    "microprofile-jwt",
];

/// Client scopes that take effect without being listed in a token's `scope`
/// (Keycloak's `include.in.token.scope = false`).
pub const UNLISTED_SCOPES: [&str; 2] = ["roles", "web-origins"];

/// Keycloak's default client scopes of a new client.
pub fn keycloak_default_scopes() -> Vec<String> {
    ["profile", "email", "roles", "web-origins"]
        .map(str::to_owned)
        .to_vec()
}

/// Keycloak's optional client scopes of a new client, less `offline_access`
/// (this issuer has no offline sessions).
pub fn keycloak_optional_scopes() -> Vec<String> {
    ["address", "phone", "microprofile-jwt"]
        .map(str::to_owned)
        .to_vec()
}

/// One scope token: 1-128 printable ASCII characters other than space, `"`
/// and `\` (RFC 6749 §3.3's `%x21 / %x23-5B / %x5D-7E`), e.g. `MAIL`,
/// `$DATA`, `openid`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

impl Scope {
    pub fn parse(raw: &str) -> Result<Scope, String> {
        let valid = !raw.is_empty()
            && raw.len() <= MAX_SCOPE_CHARS
            && raw
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
        if valid {
            Ok(Scope(raw.to_owned()))
        } else {
            Err(format!(
                "scope {raw:?} is not a valid scope token (RFC 6749 §3.3: 1-{MAX_SCOPE_CHARS} printable ASCII characters, no spaces, quotes or backslashes)"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Scope {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Scope::parse(&raw)
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> String {
        s.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ordered set of scopes: the order they were first named in, no
/// duplicates. Its text form is RFC 6749's space-separated list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    /// A list written by an operator (config, CLI): every entry must be a
    /// valid scope; duplicates are dropped. `what` names the list in errors.
    pub fn parse_list<S: AsRef<str>>(what: &str, items: &[S]) -> Result<ScopeSet, String> {
        let mut out = ScopeSet::default();
        for item in items {
            out.insert(Scope::parse(item.as_ref()).map_err(|e| format!("{what}: {e}"))?);
        }
        Ok(out)
    }

    /// A space-separated list sent by a client (the `scope` parameter, a
    /// stored grant, a token's `scope` claim). A token that is not a valid
    /// scope could never be granted, so it is dropped rather than refused.
    pub fn parse_param(param: &str) -> ScopeSet {
        let mut out = ScopeSet::default();
        for item in param.split_whitespace() {
            if let Ok(s) = Scope::parse(item) {
                out.insert(s);
            }
        }
        out
    }

    /// Adds `scope` at the end unless it is there already.
    pub fn insert(&mut self, scope: Scope) {
        if !self.0.contains(&scope) {
            self.0.push(scope);
        }
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.0 == scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    /// Keeps the scopes for which `keep` holds, in order.
    pub fn filter(&self, mut keep: impl FnMut(&Scope) -> bool) -> ScopeSet {
        ScopeSet(self.0.iter().filter(|s| keep(s)).cloned().collect())
    }

    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|s| s.0.clone()).collect()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut out = ScopeSet::default();
        for s in iter {
            out.insert(s);
        }
        out
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&s.0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::{NOT_TOKENS, assert_refused};

    #[test]
    fn one_rule_of_validity() {
        for ok in ["MAIL", "$DATA", "openid", "api.read", "a:b/c", "x"] {
            assert!(Scope::parse(ok).is_ok(), "{ok}");
        }
        let long = "x".repeat(MAX_SCOPE_CHARS + 1);
        assert_refused(
            Scope::parse,
            NOT_TOKENS.into_iter().chain(["back\\slash", &long]),
        );
    }

    #[test]
    fn sets_keep_order_and_drop_duplicates() {
        let set = ScopeSet::parse_list("scopes", &["MAIL", "$DATA", "MAIL"]).unwrap();
        assert_eq!(set.to_string(), "MAIL $DATA");
        assert!(ScopeSet::parse_list("scopes", &["ok", "not ok"]).is_err());
        let param = ScopeSet::parse_param(" openid  MAIL openid bad\"one ");
        assert_eq!(param.to_strings(), ["openid", "MAIL"]);
        assert!(ScopeSet::parse_param("   ").is_empty());
        assert_eq!(
            serde_json::to_string(&param).unwrap(),
            r#"["openid","MAIL"]"#
        );
    }
}
