//! The built-in clients (`domino-play`, `admin-console`) that exist when the
//! configuration defines none, and how a stored client is known as one.

use super::{Client, ClientSpec, GrantType};

/// The client whose access token is the Domino Token (seed 001).
pub const DOMINO_PLAY: &str = "domino-play";

/// The `domino-play` that exists when the configuration defines none: a
/// public client that can only exchange an API key for a Domino Token (the
/// key is the credential, so there is no secret to hand out). Its exact
/// definition marks it: a stored client equal to it is the built-in one,
/// which a `[[clients]]` entry or `client add` of the same id replaces.
pub fn builtin_domino_play() -> ClientSpec {
    ClientSpec {
        client_id: DOMINO_PLAY.into(),
        public: true,
        name: Some("Domino Play (built-in)".into()),
        grant_types: vec![GrantType::TokenExchange],
        // As it was stored before client scopes, so that a stored built-in
        // client is still recognised.
        default_scopes: Vec::new(),
        optional_scopes: Vec::new(),
        ..ClientSpec::default()
    }
}

/// The web console's own client (`/admin`).
pub const ADMIN_CONSOLE: &str = "admin-console";
/// The display name that marks the built-in `admin-console`.
const ADMIN_CONSOLE_NAME: &str = "Admin console (built-in)";

/// The `admin-console` that exists when the configuration defines none: a
/// public client (PKCE) whose only redirect URI is `<base>/admin/callback`.
/// It also allows the password grant, as Keycloak's public `admin-cli`
/// does: the start page's "Get a token" issues its OAuth token as this
/// client. A stored client equal to this definition for some base URL is
/// the built-in one, which a `[[clients]]` entry or `client add` of the
/// same id replaces (and which start-up re-points when the base URL moves).
pub fn builtin_admin_console(base_url: &str) -> ClientSpec {
    ClientSpec {
        client_id: ADMIN_CONSOLE.into(),
        public: true,
        name: Some(ADMIN_CONSOLE_NAME.into()),
        redirect_uris: vec![format!("{}/admin/callback", base_url.trim_end_matches('/'))],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::Password],
        ..ClientSpec::default()
    }
}

impl Client {
    /// Whether this is a built-in client: `domino-play` as
    /// `builtin_domino_play` defines it, or an `admin-console` as
    /// `builtin_admin_console` does (when it was stored does not matter).
    pub fn is_builtin(&self) -> bool {
        self.is_builtin_domino_play() || self.is_builtin_admin_console()
    }

    fn is_builtin_domino_play(&self) -> bool {
        Client::from_spec(&builtin_domino_play()).is_ok_and(|(builtin, _)| {
            *self
                == Client {
                    created_at: self.created_at,
                    ..builtin
                }
        })
    }

    /// Whether this is a built-in `admin-console` (for whatever base URL).
    fn is_builtin_admin_console(&self) -> bool {
        let [uri] = self.redirect_uris.as_slice() else {
            return false;
        };
        let Some(base) = uri.strip_suffix("/admin/callback") else {
            return false;
        };
        Client::from_spec(&builtin_admin_console(base)).is_ok_and(|(builtin, _)| {
            *self
                == Client {
                    created_at: self.created_at,
                    ..builtin
                }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::RedirectUri;
    use crate::domain::secret::Secret;

    #[test]
    fn the_builtin_admin_console_is_known_by_its_definition_at_any_base_url() {
        for base in ["http://127.0.0.1:8080", "https://idp.example/"] {
            let (builtin, secret) = Client::from_spec(&builtin_admin_console(base)).unwrap();
            assert!(secret.is_none() && builtin.is_public());
            assert!(builtin.is_builtin());
            assert!(
                builtin.has_redirect_uri(&format!("{}/admin/callback", base.trim_end_matches('/')))
            );
            let moved = Client {
                redirect_uris: vec![
                    RedirectUri::parse("https://elsewhere.example/callback").unwrap(),
                ],
                ..builtin.clone()
            };
            assert!(
                !moved.is_builtin(),
                "another redirect URI is someone's own client"
            );
            let renamed = Client {
                name: Some("Ours".into()),
                ..builtin
            };
            assert!(!renamed.is_builtin());
        }
    }

    #[test]
    fn the_builtin_domino_play_is_known_by_its_definition() {
        let (builtin, secret) = Client::from_spec(&builtin_domino_play()).unwrap();
        assert!(secret.is_none() && builtin.is_public());
        assert!(builtin.allows(GrantType::TokenExchange));
        assert!(!builtin.allows(GrantType::Password));
        assert!(
            Client {
                created_at: 42,
                ..builtin.clone()
            }
            .is_builtin()
        );
        let edited = Client {
            grant_types: vec![GrantType::TokenExchange, GrantType::Password],
            ..builtin
        };
        assert!(!edited.is_builtin());
        let own = ClientSpec {
            client_id: DOMINO_PLAY.into(),
            secret: Some(Secret::new("a-long-enough-secret")),
            redirect_uris: vec!["http://localhost:3000/cb".into()],
            ..ClientSpec::default()
        };
        assert!(!Client::from_spec(&own).unwrap().0.is_builtin());
    }
}
