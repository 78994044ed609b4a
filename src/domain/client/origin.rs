//! Web origins (Keycloak's `webOrigins`): which browser pages may act for a
//! client (CORS, the session iframe, `allowed-origins`).

use super::Client;
use super::redirect::MAX_URIS;

/// `+`: the origins of the redirect URIs, as Keycloak's clients default to.
pub fn default_web_origins() -> Vec<String> {
    vec![WEB_ORIGINS_OF_REDIRECTS.to_owned()]
}

/// The web origin entry that stands for the redirect URIs' origins.
pub const WEB_ORIGINS_OF_REDIRECTS: &str = "+";
/// The web origin entry that allows any origin (never with credentials).
pub const ANY_WEB_ORIGIN: &str = "*";

/// How a client allows a web origin (see `Client::origin_access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OriginAccess {
    /// Only through the client's `*`: no credentials.
    Any,
    /// Named by the client: credentials allowed.
    Named,
}

impl Client {
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
}

/// What all clients together allow each origin, worked out once (the
/// cached configuration holds one): `access` answers what the most any
/// client's `origin_access` would, without parsing every client's redirect
/// URIs per request.
#[derive(Debug, Default)]
pub struct OriginTable {
    named: std::collections::HashMap<String, OriginAccess>,
    /// Some client allows `*`.
    any: bool,
}

impl OriginTable {
    pub fn of<'a>(clients: impl IntoIterator<Item = &'a Client>) -> OriginTable {
        let mut table = OriginTable::default();
        for client in clients {
            for origin in client.allowed_origins() {
                if origin == ANY_WEB_ORIGIN {
                    table.any = true;
                } else {
                    table.named.insert(origin, OriginAccess::Named);
                }
            }
        }
        table
    }

    /// The most any client allows a page on `origin` (an `Origin` header).
    pub fn access(&self, origin: &str) -> Option<OriginAccess> {
        if origin == "null" {
            return None;
        }
        // Named origins are stored as browsers serialise them, so a hit is
        // a well-formed origin; anything else must be one to match `*`.
        if let Some(access) = self.named.get(origin) {
            return Some(*access);
        }
        (self.any && web_origin_of(origin).as_deref() == Some(origin)).then_some(OriginAccess::Any)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::client::ClientSpec;

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
                ..ClientSpec::sample("app")
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
        assert_eq!(
            Client::from_spec(&ClientSpec::sample("x"))
                .unwrap()
                .0
                .web_origins,
            ["+"]
        );
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

    #[test]
    fn the_origin_table_answers_as_the_clients_would() {
        let client = |id: &str, uris: &[&str], origins: &[&str]| {
            Client::from_spec(&ClientSpec {
                redirect_uris: uris.iter().map(|u| (*u).to_owned()).collect(),
                web_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
                ..ClientSpec::sample(id)
            })
            .unwrap()
            .0
        };
        let sets = [
            vec![client("a", &["http://localhost:3000/cb"], &["+"])],
            vec![
                client("a", &["http://localhost:3000/cb"], &["+"]),
                client(
                    "b",
                    &["https://app.example/cb"],
                    &["*", "https://other.example"],
                ),
            ],
            vec![client("c", &["com.example.app:/cb"], &["+"])],
            vec![],
        ];
        let origins = [
            "http://localhost:3000",
            "http://localhost:3001",
            "https://app.example",
            "https://other.example",
            "https://anyone.example",
            "https://anyone.example/",
            "null",
            "ftp://x.example",
            "",
        ];
        for clients in &sets {
            let table = OriginTable::of(clients);
            for origin in origins {
                let expected = clients.iter().filter_map(|c| c.origin_access(origin)).max();
                assert_eq!(table.access(origin), expected, "{origin}");
            }
        }
    }
}
