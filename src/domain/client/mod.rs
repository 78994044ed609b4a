//! OAuth clients: who may ask for tokens, from where, and how they prove it.
//! The typed values a client is made of live in their own files: `id`
//! (`ClientId`), `redirect` (`RedirectUri` and its matching rule), `grant`
//! (`GrantType`), `origin` (web origins); `builtin` has the built-in clients.

mod builtin;
mod grant;
mod id;
mod origin;
mod redirect;

use serde::{Deserialize, Serialize};

pub use builtin::{ADMIN_CONSOLE, DOMINO_PLAY, builtin_admin_console, builtin_domino_play};
pub use grant::{GrantType, TOKEN_EXCHANGE, default_grants};
pub use id::{ClientId, MAX_CLIENT_ID_CHARS};
pub use origin::{
    ANY_WEB_ORIGIN, OriginAccess, OriginTable, WEB_ORIGINS_OF_REDIRECTS, default_web_origins,
    parse_web_origins,
};
pub use redirect::{MAX_URI_CHARS, MAX_URIS, RedirectUri};

use crate::domain::opaque;
use crate::domain::scope::{ScopeSet, keycloak_default_scopes, keycloak_optional_scopes};
use crate::domain::secret::Secret;
use crate::domain::user::InvalidInput;

pub const MIN_SECRET_CHARS: usize = 16;
pub const MAX_SECRET_CHARS: usize = 512;

fn invalid(msg: impl Into<String>) -> InvalidInput {
    InvalidInput(msg.into())
}

/// A client as the operator describes it (`[[clients]]` or `client add`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    pub client_id: String,
    /// Confidential clients only; at least 16 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    /// A public client (SPA, native app) has no secret and must use PKCE.
    #[serde(default)]
    pub public: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    #[serde(default = "default_grants")]
    pub grant_types: Vec<GrantType>,
    /// Keycloak's default client scopes: applied to every token request,
    /// named in `scope` or not (see docs/oidc.md for what `scope` lists).
    /// Absent: Keycloak's `profile email roles web-origins`; `[]`: none
    /// (a request without `scope` then gets the user's scopes plus
    /// `profile email`, as before client scopes existed).
    #[serde(default = "keycloak_default_scopes")]
    pub default_scopes: Vec<String>,
    /// Keycloak's optional client scopes: granted only when asked for.
    /// Absent: `address phone microprofile-jwt`.
    #[serde(default = "keycloak_optional_scopes")]
    pub optional_scopes: Vec<String>,
    /// The only scopes this client may get for a user; absent: the OpenID
    /// Connect scopes plus whatever Keep scopes the user has. A client that
    /// names no Keep scope here gets tokens that no Keep API call accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_scopes: Option<Vec<String>>,
    /// Keycloak's `webOrigins`: the origins browser apps may call the API
    /// from (CORS), check the session from (the session iframe) and that
    /// access tokens name in `allowed-origins`. `+` stands for the origins
    /// of the http(s) redirect URIs (the default), `*` for any origin.
    #[serde(default = "default_web_origins")]
    pub web_origins: Vec<String>,
    /// Roles the client's service account holds (client_credentials
    /// tokens), seeded from the file; see docs/roles.md.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_account_roles: Vec<String>,
}

impl Default for ClientSpec {
    fn default() -> Self {
        ClientSpec {
            client_id: String::new(),
            secret: None,
            public: false,
            name: None,
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            grant_types: default_grants(),
            default_scopes: keycloak_default_scopes(),
            optional_scopes: keycloak_optional_scopes(),
            allowed_scopes: None,
            web_origins: default_web_origins(),
            service_account_roles: Vec::new(),
        }
    }
}

/// A validated client definition, with its secret already hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: ClientId,
    pub name: Option<String>,
    /// `salt$digest` for confidential clients; `None` for public ones.
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    /// See `ClientSpec::default_scopes`; validated by `ScopeSet`.
    pub default_scopes: Vec<String>,
    /// See `ClientSpec::optional_scopes`.
    pub optional_scopes: Vec<String>,
    /// See `ClientSpec::allowed_scopes`.
    pub allowed_scopes: Option<Vec<String>>,
    /// See `ClientSpec::web_origins`: `+`, `*` or origins as browsers send them.
    pub web_origins: Vec<String>,
    pub created_at: i64,
}

impl Client {
    /// Validates a spec. A confidential client without a secret gets a
    /// generated one, returned so it can be shown once.
    pub fn from_spec(spec: &ClientSpec) -> Result<(Client, Option<String>), InvalidInput> {
        let client_id = ClientId::parse(&spec.client_id)?;
        let ctx = |msg: String| invalid(format!("client {client_id:?}: {msg}"));
        let (secret_hash, generated) = match (&spec.secret, spec.public) {
            (Some(_), true) => {
                return Err(ctx(
                    "a public client has no secret; remove `secret` or set public = false".into(),
                ));
            }
            (None, true) => (None, None),
            (Some(secret), false) => (Some(hash_secret(secret.expose()).map_err(ctx)?), None),
            (None, false) => {
                let secret = opaque::generate();
                (Some(hash_secret(&secret).map_err(ctx)?), Some(secret))
            }
        };
        if spec.public && spec.grant_types.contains(&GrantType::ClientCredentials) {
            return Err(ctx(
                "client_credentials needs a confidential client (public = false)".into(),
            ));
        }
        let mut grant_types = Vec::new();
        for g in &spec.grant_types {
            if !grant_types.contains(g) {
                grant_types.push(*g);
            }
        }
        if grant_types.is_empty() {
            return Err(ctx("grant_types is empty; allow at least one grant".into()));
        }
        let redirect_uris =
            RedirectUri::parse_list("redirect_uris", &spec.redirect_uris).map_err(ctx)?;
        if grant_types.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
            return Err(ctx(
                "authorization_code needs at least one entry in redirect_uris".into(),
            ));
        }
        let post_logout_redirect_uris =
            RedirectUri::parse_list("post_logout_redirect_uris", &spec.post_logout_redirect_uris)
                .map_err(ctx)?;
        let scopes = |what: &str, list: &[String]| {
            ScopeSet::parse_list(what, list)
                .map(|set| set.to_strings())
                .map_err(ctx)
        };
        let default_scopes = scopes("default_scopes", &spec.default_scopes)?;
        let optional_scopes = scopes("optional_scopes", &spec.optional_scopes)?;
        let allowed_scopes = spec
            .allowed_scopes
            .as_deref()
            .map(|list| scopes("allowed_scopes", list))
            .transpose()?;
        let web_origins = parse_web_origins(&spec.web_origins).map_err(ctx)?;
        let name = match &spec.name {
            Some(n) if n.chars().count() > 256 || n.chars().any(char::is_control) => {
                return Err(ctx(
                    "name must be at most 256 characters without control characters".into(),
                ));
            }
            other => other.clone(),
        };
        let client = Client {
            client_id,
            name,
            secret_hash,
            redirect_uris,
            post_logout_redirect_uris,
            grant_types,
            default_scopes,
            optional_scopes,
            allowed_scopes,
            web_origins,
            created_at: 0,
        };
        Ok((client, generated))
    }

    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// The registered redirect URI a presented `redirect_uri` names, by
    /// `RedirectUri::matches` (exact, RFC 9700 §4.1.3).
    pub fn redirect_uri(&self, presented: &str) -> Option<&RedirectUri> {
        RedirectUri::find(&self.redirect_uris, presented)
    }

    pub fn has_redirect_uri(&self, presented: &str) -> bool {
        self.redirect_uri(presented).is_some()
    }

    /// The registered post-logout redirect URI a presented one names.
    pub fn post_logout_redirect_uri(&self, presented: &str) -> Option<&RedirectUri> {
        RedirectUri::find(&self.post_logout_redirect_uris, presented)
    }

    pub fn has_post_logout_redirect_uri(&self, presented: &str) -> bool {
        self.post_logout_redirect_uri(presented).is_some()
    }

    /// Checks a presented secret against the stored hash.
    pub fn secret_matches(&self, presented: &str) -> bool {
        let Some((salt, digest)) = self.secret_hash.as_deref().and_then(|h| h.split_once('$'))
        else {
            return false;
        };
        opaque::equal(&opaque::salted_digest(salt, presented), digest)
    }
}

fn hash_secret(secret: &str) -> Result<String, String> {
    let n = secret.chars().count();
    if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&n) || secret.chars().any(char::is_control) {
        return Err(format!(
            "secret must be {MIN_SECRET_CHARS}-{MAX_SECRET_CHARS} characters without control characters (omit it to have one generated)"
        ));
    }
    let salt = &opaque::generate()[..16];
    Ok(format!("{salt}${}", opaque::salted_digest(salt, secret)))
}

#[cfg(test)]
impl ClientSpec {
    /// A confidential client with one redirect URI, for unit tests.
    pub(crate) fn sample(id: &str) -> ClientSpec {
        ClientSpec {
            client_id: id.into(),
            secret: Some(crate::domain::secret::Secret::new("a-long-enough-secret")),
            redirect_uris: vec!["http://localhost:3000/cb".into()],
            ..ClientSpec::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidential_client_checks_its_secret() {
        let (c, generated) = Client::from_spec(&ClientSpec::sample("app")).unwrap();
        assert!(generated.is_none());
        assert!(c.secret_matches("a-long-enough-secret"));
        assert!(!c.secret_matches("a-long-enough-secreT"));
        assert!(!c.secret_hash.as_deref().unwrap().contains("a-long"));
        assert!(c.has_redirect_uri("http://localhost:3000/cb"));
        assert!(!c.has_redirect_uri("http://localhost:3000/cb/"));
    }

    #[test]
    fn missing_secret_is_generated() {
        let s = ClientSpec {
            secret: None,
            ..ClientSpec::sample("app")
        };
        let (c, generated) = Client::from_spec(&s).unwrap();
        assert!(c.secret_matches(&generated.unwrap()));
    }

    #[test]
    fn bad_specs_are_refused() {
        let cases = [
            ClientSpec {
                client_id: "has space".into(),
                ..ClientSpec::sample("x")
            },
            ClientSpec {
                secret: Some(Secret::new("short")),
                ..ClientSpec::sample("x")
            },
            ClientSpec {
                public: true,
                ..ClientSpec::sample("x")
            },
            ClientSpec {
                redirect_uris: vec!["http://x/cb#frag".into()],
                ..ClientSpec::sample("x")
            },
            ClientSpec {
                redirect_uris: vec!["not a url".into()],
                ..ClientSpec::sample("x")
            },
            ClientSpec {
                redirect_uris: vec![],
                ..ClientSpec::sample("x")
            },
            ClientSpec {
                public: true,
                secret: None,
                grant_types: vec![GrantType::ClientCredentials],
                ..ClientSpec::sample("x")
            },
            ClientSpec {
                grant_types: vec![],
                ..ClientSpec::sample("x")
            },
        ];
        for case in cases {
            assert!(Client::from_spec(&case).is_err(), "{case:?}");
        }
    }

    #[test]
    fn a_validated_client_holds_typed_values() {
        let (c, _) = Client::from_spec(&ClientSpec {
            post_logout_redirect_uris: vec!["http://localhost:3000/bye".into()],
            ..ClientSpec::sample("app")
        })
        .unwrap();
        assert_eq!(c.client_id, ClientId::parse("app").unwrap());
        assert_eq!(
            c.redirect_uri("http://localhost:3000/cb"),
            Some(&c.redirect_uris[0])
        );
        assert_eq!(c.redirect_uri("http://localhost:3000/cb/"), None);
        assert!(c.has_post_logout_redirect_uri("http://localhost:3000/bye"));
        assert!(!c.has_post_logout_redirect_uri("http://localhost:3000/cb"));
        let err = Client::from_spec(&ClientSpec {
            redirect_uris: vec!["http://x/cb#frag".into()],
            ..ClientSpec::sample("app")
        })
        .unwrap_err();
        assert!(
            err.0.starts_with("client \"app\": redirect_uris: "),
            "{err}"
        );
    }
}
