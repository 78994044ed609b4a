//! Which scopes a token gets. Requests are narrowed, never refused: scopes the
//! caller may not have are dropped and the response's `scope` says what was
//! granted (RFC 6749 §3.3).

use crate::domain::client::Client;
use crate::domain::user::User;

pub use crate::domain::scope::OIDC_SCOPES;

pub const MAX_SCOPE_PARAM: usize = 4096;

fn push_unique(out: &mut Vec<String>, s: &str) {
    if !out.iter().any(|o| o == s) {
        out.push(s.to_owned());
    }
}

/// Splits a `scope` parameter; `None` when absent or blank.
pub fn requested(param: Option<&str>) -> Option<Vec<&str>> {
    let items: Vec<&str> = param?.split_whitespace().collect();
    (!items.is_empty()).then_some(items)
}

/// Scopes for a token on behalf of a user: the request (else the client's
/// defaults, else the user's own scopes plus `profile email`), limited to the
/// OIDC scopes and the user's scopes, and to the client's `allowed_scopes`
/// when it has a list.
pub fn for_user(client: &Client, user: &User, param: Option<&str>) -> Vec<String> {
    let wanted: Vec<String> = match requested(param) {
        Some(items) => items.into_iter().map(str::to_owned).collect(),
        None if !client.default_scopes.is_empty() => client.default_scopes.clone(),
        None => user
            .scopes
            .iter()
            .cloned()
            .chain(["profile".to_owned(), "email".to_owned()])
            .collect(),
    };
    let mut out = Vec::new();
    for s in &wanted {
        let allowed = client
            .allowed_scopes
            .as_ref()
            .is_none_or(|list| list.contains(s));
        if allowed && (OIDC_SCOPES.contains(&s.as_str()) || user.scopes.contains(s)) {
            push_unique(&mut out, s);
        }
    }
    out
}

/// Scopes for a client acting for itself: the request limited to the
/// client's default scopes, or all of them when the request names none.
pub fn for_client(client: &Client, param: Option<&str>) -> Vec<String> {
    match requested(param) {
        None => client.default_scopes.clone(),
        Some(items) => {
            let mut out = Vec::new();
            for s in items {
                if client.default_scopes.iter().any(|d| d == s) {
                    push_unique(&mut out, s);
                }
            }
            out
        }
    }
}

/// A refresh may narrow the original grant, never widen it (RFC 6749 §6).
pub fn narrow_refresh(original: &str, param: Option<&str>) -> Result<String, String> {
    let Some(items) = requested(param) else {
        return Ok(original.to_owned());
    };
    let granted: Vec<&str> = original.split_whitespace().collect();
    let mut out: Vec<String> = Vec::new();
    for s in items {
        if !granted.contains(&s) {
            return Err(format!("scope {s:?} was not part of the original grant"));
        }
        push_unique(&mut out, s);
    }
    Ok(out.join(" "))
}

pub fn has(scopes: &[String], scope: &str) -> bool {
    scopes.iter().any(|s| s == scope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::{Client, ClientSpec};

    fn client(defaults: &[&str]) -> Client {
        let spec = ClientSpec {
            client_id: "c".into(),
            public: true,
            redirect_uris: vec!["http://x/cb".into()],
            default_scopes: defaults.iter().map(|s| s.to_string()).collect(),
            ..ClientSpec::default()
        };
        Client::from_spec(&spec).unwrap().0
    }

    fn user() -> User {
        User {
            id: "u".into(),
            username: "doc".into(),
            email: None,
            cn: "Doc".into(),
            org: None,
            password_hash: crate::domain::user::PasswordHash(String::new()),
            scopes: vec!["MAIL".into(), "$DATA".into()],
            attributes: Default::default(),
            groups: vec![],
            enabled: true,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn user_scopes() {
        let u = user();
        assert_eq!(
            for_user(&client(&[]), &u, None),
            ["MAIL", "$DATA", "profile", "email"]
        );
        assert_eq!(
            for_user(&client(&["openid", "ADMIN"]), &u, None),
            ["openid"]
        );
        assert_eq!(
            for_user(&client(&[]), &u, Some("openid ADMIN $DATA openid")),
            ["openid", "$DATA"]
        );
    }

    #[test]
    fn client_scopes_and_refresh() {
        let c = client(&["api.read", "api.write"]);
        assert_eq!(for_client(&c, None), ["api.read", "api.write"]);
        assert_eq!(for_client(&c, Some("api.write admin")), ["api.write"]);
        assert_eq!(narrow_refresh("openid MAIL", Some("MAIL")).unwrap(), "MAIL");
        assert_eq!(narrow_refresh("openid MAIL", None).unwrap(), "openid MAIL");
        assert!(narrow_refresh("openid", Some("openid MAIL")).is_err());
    }
}
