//! `ClientId`: a client's id, checked once where it enters (a spec, a request,
//! a stored row) and compared as text everywhere after.

use serde::{Deserialize, Serialize};

use crate::domain::text::text_newtype;
use crate::domain::user::InvalidInput;

pub const MAX_CLIENT_ID_CHARS: usize = 128;

/// A client id: 1-128 of `A-Z a-z 0-9 - _ . ~ @` (printable ASCII without
/// spaces, quotes or `:`, so it fits HTTP Basic's user name). Built only
/// through `parse`; deserialising checks the same rule.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Result<ClientId, InvalidInput> {
        if raw.is_empty() || raw.len() > MAX_CLIENT_ID_CHARS {
            return Err(InvalidInput(format!(
                "client_id must be 1-{MAX_CLIENT_ID_CHARS} characters"
            )));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '@'))
        {
            return Err(InvalidInput(format!(
                "client_id {raw:?} may contain only A-Z a-z 0-9 - _ . ~ @"
            )));
        }
        Ok(ClientId(raw.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

text_newtype!(ClientId, InvalidInput);

impl PartialEq<ClientId> for str {
    fn eq(&self, other: &ClientId) -> bool {
        self == other.0
    }
}

impl PartialEq<ClientId> for &str {
    fn eq(&self, other: &ClientId) -> bool {
        *self == other.0
    }
}

impl PartialEq<ClientId> for String {
    fn eq(&self, other: &ClientId) -> bool {
        *self == other.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text::{NOT_TOKENS, assert_refused};

    #[test]
    fn the_rule_of_a_client_id() {
        for ok in ["app", "domino-play", "a.b_c~d@e", "X9", &"x".repeat(128)] {
            let id = ClientId::parse(ok).unwrap();
            assert_eq!(id, ok);
            assert_eq!(id.as_str(), ok);
            assert_eq!(id.to_string(), ok);
        }
        let long = "x".repeat(MAX_CLIENT_ID_CHARS + 1);
        assert_refused(
            ClientId::parse,
            NOT_TOKENS.into_iter().chain(["a:b", "a/b", &long]),
        );
        assert!(
            ClientId::parse("has space")
                .unwrap_err()
                .0
                .contains("may contain only")
        );
    }

    #[test]
    fn compares_with_text_and_looks_up_by_str() {
        let id: ClientId = "app".parse().unwrap();
        let text = String::from("app");
        assert_eq!(id, "app");
        assert_eq!("app", id);
        assert_eq!(id, *text.as_str());
        assert_eq!(id, text);
        assert_eq!(text, id);
        assert_ne!(id, "other");
        assert_eq!(&*id, "app");
        assert_eq!(format!("{id:?}"), r#""app""#);
        let map = std::collections::HashMap::from([(id.clone(), 1)]);
        assert_eq!(map.get("app"), Some(&1));
    }

    #[test]
    fn serde_round_trips_and_refuses_what_parse_refuses() {
        let id = ClientId::parse("app").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, r#""app""#);
        assert_eq!(serde_json::from_str::<ClientId>(&json).unwrap(), id);
        for bad in [r#""""#, r#""has space""#, r#""a:b""#, "42"] {
            assert!(serde_json::from_str::<ClientId>(bad).is_err(), "{bad}");
        }
    }
}
