//! The claim sets this issuer mints. Signing lives in `keys`; this module only
//! decides what a token says.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::domain::scope::ScopeSet;
use crate::domain::user::User;

/// A JWT payload. A map, not a struct, so later claim mappers can add to it.
pub type Claims = Map<String, Value>;

/// What the `sub` claim carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    /// `CN=<cn>/O=<org>`, the Domino distinguished name Keep expects.
    Dn,
    /// The user's stable id (a UUID).
    Id,
    /// The login name.
    Username,
}

/// The issuer (`iss`) of a realm: `<public_url><prefix>/realms/<realm>`,
/// where `prefix` is Keycloak's relative path (`/auth`, or empty for `/`).
pub fn issuer_url(public_url: &str, prefix: &str, realm: &str) -> String {
    format!(
        "{}{prefix}/realms/{realm}",
        public_url.trim_end_matches('/')
    )
}

/// What every token from this issuer shares.
#[derive(Debug, Clone)]
pub struct TokenPolicy {
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl: u64,
    pub max_jwt_duration: u64,
    pub subject: SubjectKind,
}

impl TokenPolicy {
    /// The lifetime a token gets: the request's, else the default, never above the cap.
    pub fn lifetime(&self, requested: Option<u64>) -> u64 {
        requested
            .filter(|s| *s > 0)
            .unwrap_or(self.access_token_ttl)
            .min(self.max_jwt_duration)
            .max(1)
    }

    pub fn subject_of(&self, user: &User) -> String {
        match self.subject {
            SubjectKind::Dn => user.dn(),
            SubjectKind::Id => user.id.clone(),
            SubjectKind::Username => user.username.clone(),
        }
    }
}

/// Narrows the user's scopes to those requested (the Keep login); scopes
/// the user lacks are dropped. Without a request the token carries all of
/// the user's scopes.
pub fn narrow_scopes(granted: &[String], requested: Option<&str>) -> ScopeSet {
    let own = ScopeSet::parse_param(&granted.join(" "));
    match requested.map(str::trim) {
        None | Some("") => own,
        Some(req) => ScopeSet::parse_param(req).filter(|s| own.contains(s.as_str())),
    }
}

/// The access-token claims of SPEC §4 / the Keep `POST /auth` claim set.
pub fn access_claims(
    policy: &TokenPolicy,
    user: &User,
    scope: &str,
    lifetime: u64,
    now: i64,
    jti: &str,
) -> Claims {
    let dn = user.dn();
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(policy.issuer));
    claims.insert("sub".into(), json!(policy.subject_of(user)));
    claims.insert("aud".into(), json!(policy.audience));
    claims.insert("iat".into(), json!(now));
    claims.insert(
        "exp".into(),
        json!(now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX))),
    );
    claims.insert("jti".into(), json!(jti));
    claims.insert("CN".into(), json!(dn));
    claims.insert("scope".into(), json!(scope));
    if let Some(email) = &user.email {
        claims.insert("email".into(), json!(email));
    }
    claims.insert("name".into(), json!(user.cn));
    claims.insert("preferred_username".into(), json!(user.username));
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(org: Option<&str>) -> User {
        User {
            org: org.map(str::to_owned),
            scopes: vec!["MAIL".into(), "$DATA".into()],
            ..User::sample()
        }
    }

    fn policy(subject: SubjectKind) -> TokenPolicy {
        TokenPolicy {
            issuer: "http://x/auth/realms/DominoRealm".into(),
            audience: "Domino".into(),
            access_token_ttl: 300,
            max_jwt_duration: 600,
            subject,
        }
    }

    #[test]
    fn keep_claims() {
        let p = policy(SubjectKind::Dn);
        let u = user(Some("ProjectKeep"));
        let c = access_claims(&p, &u, &u.scopes.join(" "), 300, 1000, "j");
        assert_eq!(c["sub"], "CN=Doctor Notes/O=ProjectKeep");
        assert_eq!(c["CN"], "CN=Doctor Notes/O=ProjectKeep");
        assert_eq!(c["aud"], "Domino");
        assert_eq!(c["exp"], 1300);
        assert_eq!(c["scope"], "MAIL $DATA");
        assert_eq!(c["email"], "doctor.notes@projectkeep.io");
        let c = access_claims(&policy(SubjectKind::Id), &user(None), "", 1, 0, "j");
        assert_eq!(c["sub"], "0b7c");
        assert_eq!(c["CN"], "CN=Doctor Notes");
    }

    #[test]
    fn lifetime_is_clamped() {
        let p = policy(SubjectKind::Dn);
        assert_eq!(p.lifetime(None), 300);
        assert_eq!(p.lifetime(Some(60)), 60);
        assert_eq!(p.lifetime(Some(100_000)), 600);
        assert_eq!(p.lifetime(Some(0)), 300);
    }

    #[test]
    fn scopes_narrow() {
        let g = vec!["MAIL".to_string(), "$DATA".to_string()];
        assert_eq!(narrow_scopes(&g, None).to_strings(), g);
        assert_eq!(
            narrow_scopes(&g, Some("$DATA ADMIN $DATA")).to_strings(),
            ["$DATA"]
        );
        assert!(narrow_scopes(&g, Some("ADMIN")).is_empty());
    }
}
