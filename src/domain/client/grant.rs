//! The grants a client may use.

use std::fmt;

use serde::{Deserialize, Serialize};

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

/// The grants a client gets when its definition names none: Keycloak's
/// defaults (standard flow and direct access grants, no service account).
pub fn default_grants() -> Vec<GrantType> {
    vec![
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::Password,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
