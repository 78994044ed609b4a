//! The Domino Data Lab API's identity operations (`/v4/users/self`,
//! `/v4/users`, `/v4/auth/principal`): who a caller is, from an API key or
//! from a bearer token this issuer signed, checked as a resource server
//! would check it; and the users the API lists.

use serde_json::Value;

use crate::app::Issuer;
use crate::app::apikeys::{self, KeyRefusal};
use crate::app::login::ClientIp;
use crate::app::oidc::access::{self, AccessCheck};
use crate::app::oidc::sessions::Holder;
use crate::domain::token::Claims;
use crate::domain::user::{User, name_key};
use crate::store::StoreError;

/// What a caller presented.
pub enum Credential<'a> {
    /// `X-Domino-Api-Key`.
    ApiKey(&'a str),
    /// `Authorization: Bearer`.
    Bearer(&'a str),
}

#[derive(Debug, thiserror::Error)]
pub enum CallerError {
    /// Missing, malformed, unknown, expired, revoked, foreign, or its user
    /// or session is gone: the reason is safe to tell the caller.
    #[error("{0}")]
    Unauthenticated(String),
    /// The client address is locked by brute-force protection.
    #[error("too many failed attempts from this address; try again later")]
    Locked { retry_after: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether `aud` (a string or a list) names `audience`.
fn has_audience(claims: &Claims, audience: &str) -> bool {
    match claims.get("aud") {
        Some(Value::String(aud)) => aud == audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
        _ => false,
    }
}

impl Issuer {
    /// The user a Domino API caller speaks for. A bearer token must be an
    /// access token of this issuer (signature, `iss`, `exp` with leeway, not
    /// revoked), for the configured audience, of a live session whose user
    /// is enabled; a client's own token speaks for no user.
    pub async fn domino_caller(
        &self,
        credential: Credential<'_>,
        ip: ClientIp,
    ) -> Result<User, CallerError> {
        match credential {
            Credential::ApiKey(key) => match apikeys::authenticate(self, key, ip).await {
                Ok(holder) => Ok(holder.user),
                Err(KeyRefusal::Refused) => Err(CallerError::Unauthenticated(
                    KeyRefusal::Refused.to_string(),
                )),
                Err(KeyRefusal::Locked { retry_after }) => Err(CallerError::Locked { retry_after }),
                Err(KeyRefusal::Store(e)) => Err(e.into()),
            },
            Credential::Bearer(token) => {
                let refuse = |why: &str| Err(CallerError::Unauthenticated(why.to_owned()));
                let (claims, holder) = match access::check(self, token).await? {
                    AccessCheck::Active(claims, holder) => (claims, holder),
                    AccessCheck::Inactive(why) => {
                        return Err(CallerError::Unauthenticated(format!(
                            "the bearer token is not valid: {why}"
                        )));
                    }
                };
                if matches!(
                    claims.get("typ").and_then(Value::as_str),
                    Some("ID" | "Refresh")
                ) {
                    return refuse("the bearer token is not an access token");
                }
                if !has_audience(&claims, &self.policy.audience) {
                    return refuse("the bearer token is not for this API (aud)");
                }
                match holder {
                    Holder::User(user) => Ok(*user),
                    Holder::Client => refuse("a client's own token speaks for no user"),
                    Holder::Gone => {
                        refuse("the session has ended, or the user is disabled or no longer exists")
                    }
                }
            }
        }
    }

    /// The enabled users, optionally only those whose username or email
    /// equals the given one (case-insensitive, as logins compare names).
    pub async fn domino_users(
        &self,
        user_name: Option<&str>,
        email: Option<&str>,
    ) -> Result<Vec<User>, StoreError> {
        let user_name = user_name.map(name_key);
        let email = email.map(name_key);
        let users = self.store.list_users().await?;
        Ok(users
            .into_iter()
            .filter(|u| u.enabled)
            .filter(|u| {
                user_name
                    .as_ref()
                    .is_none_or(|n| name_key(&u.username) == *n)
            })
            .filter(|u| {
                email
                    .as_ref()
                    .is_none_or(|e| u.email.as_deref().map(name_key).as_ref() == Some(e))
            })
            .collect())
    }

    /// Whether `user` is a member of the admin group (`admin_group`).
    pub fn is_domino_admin(&self, user: &User) -> bool {
        user.groups.iter().any(|g| *g == self.config.admin_group)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn audience_is_a_string_or_a_list() {
        let claims = |aud: Value| {
            let mut c = Claims::new();
            c.insert("aud".into(), aud);
            c
        };
        assert!(has_audience(&claims(json!("Domino")), "Domino"));
        assert!(has_audience(&claims(json!(["x", "Domino"])), "Domino"));
        assert!(!has_audience(&claims(json!("domino")), "Domino"));
        assert!(!has_audience(&claims(json!(["x"])), "Domino"));
        assert!(!has_audience(&Claims::new(), "Domino"));
    }
}
