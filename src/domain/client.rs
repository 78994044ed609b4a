//! OAuth clients: who may ask for tokens, from where, and how they prove it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::opaque;
use crate::domain::scope::{ScopeSet, keycloak_default_scopes, keycloak_optional_scopes};
use crate::domain::secret::Secret;
use crate::domain::user::InvalidInput;

pub const MAX_CLIENT_ID_CHARS: usize = 128;
pub const MAX_URIS: usize = 32;
pub const MAX_URI_CHARS: usize = 2048;
pub const MIN_SECRET_CHARS: usize = 16;
pub const MAX_SECRET_CHARS: usize = 512;

fn invalid(msg: impl Into<String>) -> InvalidInput {
    InvalidInput(msg.into())
}

/// The grants of RFC 6749 this issuer implements, and RFC 8693's token
/// exchange (an API key for a Domino Token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    Password,
    ClientCredentials,
    /// Written as its URN, as clients send it; `token_exchange` is accepted
    /// in configuration too.
    #[serde(
        rename = "urn:ietf:params:oauth:grant-type:token-exchange",
        alias = "token_exchange"
    )]
    TokenExchange,
}

impl GrantType {
    pub const ALL: [GrantType; 5] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::Password,
        GrantType::ClientCredentials,
        GrantType::TokenExchange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Password => "password",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::TokenExchange => TOKEN_EXCHANGE,
        }
    }

    pub fn parse(raw: &str) -> Option<GrantType> {
        GrantType::ALL.into_iter().find(|g| g.as_str() == raw)
    }
}

impl fmt::Display for GrantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 8693's grant type.
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

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

/// The grants a client gets when its definition names none: Keycloak's
/// defaults (standard flow and direct access grants, no service account).
pub fn default_grants() -> Vec<GrantType> {
    vec![
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::Password,
    ]
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

/// `+`: the origins of the redirect URIs, as Keycloak's clients default to.
pub fn default_web_origins() -> Vec<String> {
    vec![WEB_ORIGINS_OF_REDIRECTS.to_owned()]
}

/// The web origin entry that stands for the redirect URIs' origins.
pub const WEB_ORIGINS_OF_REDIRECTS: &str = "+";
/// The web origin entry that allows any origin (never with credentials).
pub const ANY_WEB_ORIGIN: &str = "*";

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
    pub client_id: String,
    pub name: Option<String>,
    /// `salt$digest` for confidential clients; `None` for public ones.
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
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
        let client_id = parse_client_id(&spec.client_id)?;
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
        let redirect_uris = parse_uris("redirect_uris", &spec.redirect_uris).map_err(ctx)?;
        if grant_types.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
            return Err(ctx(
                "authorization_code needs at least one entry in redirect_uris".into(),
            ));
        }
        let post_logout_redirect_uris =
            parse_uris("post_logout_redirect_uris", &spec.post_logout_redirect_uris)
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

    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Exact, character-for-character match (RFC 9700 §4.1.3).
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }

    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|r| r == uri)
    }

    /// The origins this client's browser apps run on, as access tokens name
    /// them in `allowed-origins`: `+` expanded to the http(s) redirect URIs'
    /// origins, `*` kept as it is.
    pub fn allowed_origins(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for entry in &self.web_origins {
            let expanded: Vec<String> = if entry == WEB_ORIGINS_OF_REDIRECTS {
                self.redirect_uris
                    .iter()
                    .filter_map(|uri| web_origin_of(uri))
                    .collect()
            } else {
                vec![entry.clone()]
            };
            for origin in expanded {
                if !out.contains(&origin) {
                    out.push(origin);
                }
            }
        }
        out
    }

    /// Whether a browser page on `origin` (an `Origin` header) may act for
    /// this client, and how: `Some(true)` for an origin the client names
    /// (directly or through `+`), which may send credentials; `Some(false)`
    /// for any other http(s) origin when the client allows `*`; `None` for
    /// the rest, and always for `null` (sandboxed frames, `file:` pages).
    pub fn origin_access(&self, origin: &str) -> Option<OriginAccess> {
        if origin == "null" || web_origin_of(origin).as_deref() != Some(origin) {
            return None;
        }
        let allowed = self.allowed_origins();
        if allowed.iter().any(|o| o == origin) {
            Some(OriginAccess::Named)
        } else if allowed.iter().any(|o| o == ANY_WEB_ORIGIN) {
            Some(OriginAccess::Any)
        } else {
            None
        }
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

/// How a client allows a web origin (see `Client::origin_access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OriginAccess {
    /// Only through the client's `*`: no credentials.
    Any,
    /// Named by the client: credentials allowed.
    Named,
}

/// The web origin (`scheme://host[:port]`) of an http(s) URL, as browsers
/// serialise it; `None` for other schemes, whose origin is opaque.
fn web_origin_of(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.origin().ascii_serialization())
}

/// Web origins: `+`, `*`, or an http(s) origin with nothing after the port
/// but an optional `/`, kept as browsers send it (lowercase host, no
/// default port). `null` and
/// other schemes never name a page that could be trusted.
pub fn parse_web_origins(raw: &[String]) -> Result<Vec<String>, String> {
    if raw.len() > MAX_URIS {
        return Err(format!("web_origins: at most {MAX_URIS} entries"));
    }
    let mut out: Vec<String> = Vec::new();
    for entry in raw {
        let origin = if entry == WEB_ORIGINS_OF_REDIRECTS || entry == ANY_WEB_ORIGIN {
            entry.clone()
        } else {
            let bare = url::Url::parse(entry).ok().filter(|u| {
                u.path() == "/"
                    && u.query().is_none()
                    && u.fragment().is_none()
                    && u.username().is_empty()
                    && u.password().is_none()
                    && !entry.ends_with("//")
            });
            match bare.and_then(|u| web_origin_of(u.as_str())) {
                Some(origin) => origin,
                None => {
                    return Err(format!(
                        "web_origins: {entry:.80?} is not an origin; give `+` (the redirect URIs' origins), `*`, or scheme://host[:port] with http or https"
                    ));
                }
            }
        };
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

/// Client ids are printable ASCII without spaces, quotes or `:` (Basic auth).
pub fn parse_client_id(raw: &str) -> Result<String, InvalidInput> {
    if raw.is_empty() || raw.len() > MAX_CLIENT_ID_CHARS {
        return Err(invalid(format!(
            "client_id must be 1-{MAX_CLIENT_ID_CHARS} characters"
        )));
    }
    if !raw
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '@'))
    {
        return Err(invalid(format!(
            "client_id {raw:?} may contain only A-Z a-z 0-9 - _ . ~ @"
        )));
    }
    Ok(raw.to_owned())
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

/// Redirect URIs: absolute, no fragment (RFC 6749 §3.1.2), http(s) or a
/// private-use scheme for native apps.
fn parse_uris(field: &str, raw: &[String]) -> Result<Vec<String>, String> {
    if raw.len() > MAX_URIS {
        return Err(format!("{field}: at most {MAX_URIS} entries"));
    }
    let mut out: Vec<String> = Vec::new();
    for uri in raw {
        if uri.len() > MAX_URI_CHARS {
            return Err(format!(
                "{field}: {uri:.40}... is longer than {MAX_URI_CHARS}"
            ));
        }
        let parsed = url::Url::parse(uri).map_err(|e| format!("{field}: {uri:?}: {e}"))?;
        if parsed.fragment().is_some() {
            return Err(format!(
                "{field}: {uri:?} has a fragment, which RFC 6749 §3.1.2 forbids"
            ));
        }
        if parsed.cannot_be_a_base() && !matches!(parsed.scheme(), "http" | "https") {
            // e.g. `urn:ietf:wg:oauth:2.0:oob` style: refused, there is no page to show a code on.
            return Err(format!("{field}: {uri:?} is not a redirectable URL"));
        }
        if !out.contains(uri) {
            out.push(uri.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str) -> ClientSpec {
        ClientSpec {
            client_id: id.into(),
            secret: Some(Secret::new("a-long-enough-secret")),
            redirect_uris: vec!["http://localhost:3000/cb".into()],
            ..ClientSpec::default()
        }
    }

    #[test]
    fn confidential_client_checks_its_secret() {
        let (c, generated) = Client::from_spec(&spec("app")).unwrap();
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
            ..spec("app")
        };
        let (c, generated) = Client::from_spec(&s).unwrap();
        assert!(c.secret_matches(&generated.unwrap()));
    }

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
                redirect_uris: vec!["https://elsewhere.example/callback".into()],
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
        assert!(
            !Client::from_spec(&spec("domino-play"))
                .unwrap()
                .0
                .is_builtin()
        );
    }

    #[test]
    fn token_exchange_is_named_by_its_urn() {
        let g: Vec<GrantType> = serde_json::from_str(
            r#"["urn:ietf:params:oauth:grant-type:token-exchange", "token_exchange"]"#,
        )
        .unwrap();
        assert_eq!(g, [GrantType::TokenExchange; 2]);
        assert_eq!(
            serde_json::to_string(&GrantType::TokenExchange).unwrap(),
            format!("\"{TOKEN_EXCHANGE}\"")
        );
        assert_eq!(
            GrantType::parse(TOKEN_EXCHANGE),
            Some(GrantType::TokenExchange)
        );
        assert_eq!(GrantType::parse("token_exchange"), None);
    }

    #[test]
    fn bad_specs_are_refused() {
        let cases = [
            ClientSpec {
                client_id: "has space".into(),
                ..spec("x")
            },
            ClientSpec {
                secret: Some(Secret::new("short")),
                ..spec("x")
            },
            ClientSpec {
                public: true,
                ..spec("x")
            },
            ClientSpec {
                redirect_uris: vec!["http://x/cb#frag".into()],
                ..spec("x")
            },
            ClientSpec {
                redirect_uris: vec!["not a url".into()],
                ..spec("x")
            },
            ClientSpec {
                redirect_uris: vec![],
                ..spec("x")
            },
            ClientSpec {
                public: true,
                secret: None,
                grant_types: vec![GrantType::ClientCredentials],
                ..spec("x")
            },
            ClientSpec {
                grant_types: vec![],
                ..spec("x")
            },
        ];
        for case in cases {
            assert!(Client::from_spec(&case).is_err(), "{case:?}");
        }
    }

    #[test]
    fn web_origins_expand_and_decide() {
        let with = |origins: &[&str]| {
            Client::from_spec(&ClientSpec {
                redirect_uris: vec![
                    "http://localhost:3000/cb".into(),
                    "https://app.example/a?b=c".into(),
                    "com.example.app:/cb".into(),
                ],
                web_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
                ..spec("app")
            })
        };
        let plus = with(&["+"]).unwrap().0;
        assert_eq!(
            plus.allowed_origins(),
            ["http://localhost:3000", "https://app.example"]
        );
        assert_eq!(
            plus.origin_access("http://localhost:3000"),
            Some(OriginAccess::Named)
        );
        assert_eq!(plus.origin_access("http://localhost:3001"), None);
        assert_eq!(plus.origin_access("null"), None);
        assert_eq!(plus.origin_access("http://localhost:3000/"), None);
        // The default is `+`.
        assert_eq!(Client::from_spec(&spec("x")).unwrap().0.web_origins, ["+"]);
        let explicit = with(&["https://Other.Example:443/", "+", "*"]).unwrap().0;
        assert_eq!(explicit.web_origins, ["https://other.example", "+", "*"]);
        assert_eq!(
            explicit.origin_access("https://other.example"),
            Some(OriginAccess::Named)
        );
        assert_eq!(
            explicit.origin_access("https://anyone.example"),
            Some(OriginAccess::Any)
        );
        assert_eq!(explicit.origin_access("null"), None);
        assert_eq!(explicit.origin_access("ftp://anyone.example"), None);
        let none = with(&[]).unwrap().0;
        assert_eq!(none.origin_access("http://localhost:3000"), None);
        for bad in [
            "null",
            "file:///tmp",
            "ftp://x.example",
            "https://x.example/path",
            "https://x.example?q",
            "https://user@x.example",
            "x.example",
            "",
        ] {
            assert!(with(&[bad]).is_err(), "{bad}");
        }
    }
}
