//! `RedirectUri`: an address a client registered to be sent back to (after
//! the authorization request, or after logout), and the rule a presented
//! address must meet to be one of them.

use serde::{Deserialize, Serialize};

use crate::domain::text::text_newtype;
use crate::domain::user::InvalidInput;

pub const MAX_URIS: usize = 32;
pub const MAX_URI_CHARS: usize = 2048;

/// A registered redirect URI: absolute, no fragment (RFC 6749 §3.1.2),
/// http(s) or a private-use scheme for native apps, at most 2048 bytes.
/// Kept exactly as registered, since a presented URI must match it
/// character for character. Deserialising checks the same rule.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(uri: &str) -> Result<RedirectUri, InvalidInput> {
        let fail = |msg: String| Err(InvalidInput(msg));
        if uri.len() > MAX_URI_CHARS {
            return fail(format!("{uri:.40}... is longer than {MAX_URI_CHARS}"));
        }
        let parsed = match url::Url::parse(uri) {
            Ok(parsed) => parsed,
            Err(e) => return fail(format!("{uri:?}: {e}")),
        };
        if parsed.fragment().is_some() {
            return fail(format!(
                "{uri:?} has a fragment, which RFC 6749 §3.1.2 forbids"
            ));
        }
        if parsed.cannot_be_a_base() && !matches!(parsed.scheme(), "http" | "https") {
            // e.g. `urn:ietf:wg:oauth:2.0:oob` style: refused, there is no page to show a code on.
            return fail(format!("{uri:?} is not a redirectable URL"));
        }
        Ok(RedirectUri(uri.to_owned()))
    }

    /// Whether a presented `redirect_uri` is this one: an exact,
    /// character-for-character match (RFC 9700 §4.1.3), with no allowance
    /// for case, trailing slashes, or the port of a loopback address.
    pub fn matches(&self, presented: &str) -> bool {
        self.0 == presented
    }

    /// A registered list (`redirect_uris`, `post_logout_redirect_uris`): at
    /// most `MAX_URIS` entries, each valid; duplicates are dropped. `field`
    /// names the list in errors.
    pub fn parse_list<S: AsRef<str>>(field: &str, raw: &[S]) -> Result<Vec<RedirectUri>, String> {
        if raw.len() > MAX_URIS {
            return Err(format!("{field}: at most {MAX_URIS} entries"));
        }
        let mut out: Vec<RedirectUri> = Vec::new();
        for uri in raw {
            let uri = RedirectUri::parse(uri.as_ref()).map_err(|e| format!("{field}: {e}"))?;
            if !out.contains(&uri) {
                out.push(uri);
            }
        }
        Ok(out)
    }

    /// The first of `registered` that `presented` matches.
    pub fn find<'a>(registered: &'a [RedirectUri], presented: &str) -> Option<&'a RedirectUri> {
        registered.iter().find(|r| r.matches(presented))
    }
}

text_newtype!(RedirectUri, InvalidInput);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::assert_refused;

    #[test]
    fn the_rule_of_a_redirect_uri() {
        for ok in [
            "http://localhost:3000/cb",
            "https://app.example/a?b=c",
            "com.example.app:/cb",
            "http://127.0.0.1:9/cb",
        ] {
            assert_eq!(RedirectUri::parse(ok).unwrap(), ok);
            assert_eq!(ok.parse::<RedirectUri>().unwrap().to_string(), ok);
        }
        let long = format!("https://x.example/{}", "a".repeat(MAX_URI_CHARS));
        let bad = [
            "http://x/cb#frag",
            "not a url",
            "/relative/cb",
            "urn:ietf:wg:oauth:2.0:oob",
            "mailto:someone@example.com",
            "",
            &long,
        ];
        assert_refused(RedirectUri::parse, bad);
        assert!(
            RedirectUri::parse("http://x/cb#f")
                .unwrap_err()
                .0
                .contains("fragment")
        );
    }

    #[test]
    fn a_presented_uri_matches_only_exactly() {
        let uri = RedirectUri::parse("http://localhost:3000/cb").unwrap();
        assert!(uri.matches("http://localhost:3000/cb"));
        for other in [
            "http://localhost:3000/cb/",
            "http://LOCALHOST:3000/cb",
            "http://localhost:3001/cb",
            "http://localhost:3000/cb?x=1",
            "http://localhost:3000/CB",
        ] {
            assert!(!uri.matches(other), "{other}");
        }
        let list = RedirectUri::parse_list("redirect_uris", &["https://a.example/", uri.as_str()])
            .unwrap();
        assert_eq!(
            RedirectUri::find(&list, "http://localhost:3000/cb"),
            Some(&uri)
        );
        assert_eq!(RedirectUri::find(&list, "https://a.example"), None);
    }

    #[test]
    fn lists_drop_duplicates_and_name_the_field() {
        let list =
            RedirectUri::parse_list("redirect_uris", &["http://x/cb", "http://x/cb"]).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list.join(" "), "http://x/cb");
        let err = RedirectUri::parse_list("post_logout_redirect_uris", &["http://x/#f"]);
        assert!(err.unwrap_err().starts_with("post_logout_redirect_uris: "));
        let many: Vec<String> = (0..=MAX_URIS).map(|i| format!("http://x/{i}")).collect();
        assert!(RedirectUri::parse_list("redirect_uris", &many).is_err());
    }

    #[test]
    fn serde_round_trips_and_refuses_what_parse_refuses() {
        let list = RedirectUri::parse_list("r", &["http://x/cb", "com.example.app:/cb"]).unwrap();
        let json = serde_json::to_string(&list).unwrap();
        assert_eq!(json, r#"["http://x/cb","com.example.app:/cb"]"#);
        assert_eq!(
            serde_json::from_str::<Vec<RedirectUri>>(&json).unwrap(),
            list
        );
        for bad in [r#""http://x/cb#f""#, r#""not a url""#, r#""""#, "1"] {
            assert!(serde_json::from_str::<RedirectUri>(bad).is_err(), "{bad}");
        }
    }
}
