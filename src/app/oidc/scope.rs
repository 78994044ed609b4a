//! Which scopes a token gets. Requests are narrowed, never refused: scopes the
//! caller may not have are dropped and the response's `scope` says what was
//! granted (RFC 6749 §3.3).

use crate::domain::client::Client;
use crate::domain::scope::{KNOWN_CLIENT_SCOPES, Scope, ScopeSet, UNLISTED_SCOPES};
use crate::domain::user::User;

pub use crate::domain::scope::{MAX_SCOPE_PARAM, OIDC_SCOPES};

/// Splits a `scope` parameter; `None` when absent or blank.
pub fn requested(param: Option<&str>) -> Option<ScopeSet> {
    let set = ScopeSet::parse_param(param?);
    (!set.is_empty()).then_some(set)
}

fn set_of(items: &[String]) -> ScopeSet {
    items.iter().filter_map(|s| Scope::parse(s).ok()).collect()
}

fn allowed(client: &Client, s: &str) -> bool {
    client
        .allowed_scopes
        .as_ref()
        .is_none_or(|list| list.iter().any(|a| a == s))
}

/// One of the client's default or optional client scopes.
fn offered(client: &Client, s: &str) -> bool {
    client
        .default_scopes
        .iter()
        .chain(&client.optional_scopes)
        .any(|d| d == s)
}

/// What a request without `scope` lists: the client's default scopes but
/// those Keycloak never lists (`roles`, `web-origins`); for a client without
/// default scopes, `profile email` (as before client scopes existed).
fn listed_defaults(client: &Client) -> ScopeSet {
    if client.default_scopes.is_empty() {
        return set_of(&["profile".to_owned(), "email".to_owned()]);
    }
    set_of(&client.default_scopes).filter(|s| !UNLISTED_SCOPES.contains(&s.as_str()))
}

/// Scopes a token for a user lists in `scope`: the request's (else the
/// user's own Keep scopes and the client's listed defaults), limited to the
/// OIDC scopes, the client's known client scopes and the user's own scopes,
/// and to the client's `allowed_scopes` when it has a list. A default scope
/// applies whether listed or not: see `applied`.
pub fn for_user(client: &Client, user: &User, param: Option<&str>) -> ScopeSet {
    let wanted = requested(param).unwrap_or_else(|| {
        let mut w = set_of(&user.scopes);
        for s in listed_defaults(client).iter() {
            w.insert(s.clone());
        }
        w
    });
    wanted.filter(|s| {
        let s = s.as_str();
        allowed(client, s)
            && (OIDC_SCOPES.contains(&s)
                || user.scopes.iter().any(|u| u == s)
                || (KNOWN_CLIENT_SCOPES.contains(&s) && offered(client, s)))
    })
}

/// Scopes for a client acting for itself: the request limited to the
/// client's default and optional scopes, or its listed defaults when the
/// request names none.
pub fn for_client(client: &Client, param: Option<&str>) -> ScopeSet {
    match requested(param) {
        None if client.default_scopes.is_empty() => ScopeSet::default(),
        None => listed_defaults(client),
        Some(items) => items.filter(|s| offered(client, s.as_str())),
    }
}

/// The scopes whose claims a token carries: those it lists, plus the
/// client's default client scopes this issuer knows (Keycloak applies them
/// to every request, named or not), less any its `allowed_scopes` excludes.
pub fn applied(client: Option<&Client>, listed: &ScopeSet) -> ScopeSet {
    let mut out = listed.clone();
    if let Some(client) = client {
        for s in set_of(&client.default_scopes).iter() {
            if KNOWN_CLIENT_SCOPES.contains(&s.as_str()) && allowed(client, s.as_str()) {
                out.insert(s.clone());
            }
        }
    }
    out
}

/// A refresh may narrow the original grant, never widen it (RFC 6749 §6).
pub fn narrow_refresh(original: &str, param: Option<&str>) -> Result<ScopeSet, String> {
    let granted = ScopeSet::parse_param(original);
    let Some(items) = requested(param) else {
        return Ok(granted);
    };
    for s in items.iter() {
        if !granted.contains(s.as_str()) {
            return Err(format!("scope {s:?} was not part of the original grant"));
        }
    }
    Ok(items)
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
            optional_scopes: vec![],
            ..ClientSpec::default()
        };
        Client::from_spec(&spec).unwrap().0
    }

    fn user() -> User {
        User {
            id: "u".into(),
            email: None,
            cn: "Doc".into(),
            scopes: vec!["MAIL".into(), "$DATA".into()],
            ..User::sample()
        }
    }

    fn strs(set: ScopeSet) -> Vec<String> {
        set.to_strings()
    }

    #[test]
    fn user_scopes() {
        let u = user();
        assert_eq!(
            strs(for_user(&client(&[]), &u, None)),
            ["MAIL", "$DATA", "profile", "email"]
        );
        // Keycloak's defaults: listed but roles and web-origins.
        let kc = client(&["profile", "email", "roles", "web-origins"]);
        assert_eq!(
            strs(for_user(&kc, &u, None)),
            ["MAIL", "$DATA", "profile", "email"]
        );
        // A default the user lacks is not theirs to get.
        assert_eq!(
            strs(for_user(&client(&["openid", "ADMIN"]), &u, None)),
            ["MAIL", "$DATA", "openid"]
        );
        assert_eq!(
            strs(for_user(
                &client(&[]),
                &u,
                Some("openid ADMIN $DATA openid")
            )),
            ["openid", "$DATA"]
        );
        // Known client scopes only when the client has them.
        assert_eq!(
            strs(for_user(&client(&[]), &u, Some("openid phone roles"))),
            ["openid"]
        );
        assert_eq!(
            strs(for_user(&kc, &u, Some("openid roles"))),
            ["openid", "roles"]
        );
    }

    #[test]
    fn defaults_apply_unlisted() {
        let kc = client(&["profile", "email", "roles", "web-origins"]);
        let listed = ScopeSet::parse_param("openid");
        assert_eq!(
            strs(applied(Some(&kc), &listed)),
            ["openid", "profile", "email", "roles", "web-origins"]
        );
        assert_eq!(strs(applied(Some(&client(&[])), &listed)), ["openid"]);
        assert_eq!(strs(applied(None, &listed)), ["openid"]);
    }

    #[test]
    fn client_scopes_and_refresh() {
        let c = client(&["api.read", "api.write"]);
        assert_eq!(strs(for_client(&c, None)), ["api.read", "api.write"]);
        assert_eq!(strs(for_client(&c, Some("api.write admin"))), ["api.write"]);
        assert!(for_client(&client(&[]), None).is_empty());
        let narrowed = |p| narrow_refresh("openid MAIL", p).map(|s| s.to_string());
        assert_eq!(narrowed(Some("MAIL")).unwrap(), "MAIL");
        assert_eq!(narrowed(None).unwrap(), "openid MAIL");
        assert!(narrow_refresh("openid", Some("openid MAIL")).is_err());
    }
}
