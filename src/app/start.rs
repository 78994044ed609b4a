//! The start page's two tools for developers: "Get a token" (one password
//! check, under the brute-force rules, for a Keep token and an OAuth access
//! token side by side) and "Check a token" (a verdict on any JWT against
//! this realm's published keys, as a consumer would reach it).

use serde_json::Value;

use crate::app::Issuer;
use crate::app::keep::{KeepError, KeepLogin, KeepToken};
use crate::app::login::{ClientIp, LoginPath};
use crate::app::oidc::mint::{Grant, TokenResponse, mint};
use crate::app::oidc::{GrantType, scope, sessions};
use crate::domain::client::ADMIN_CONSOLE;
use crate::domain::user::{LoginName, Password};
use crate::verify::{Code, Expectations, KeySet};

/// What "Get a token" asks for.
pub struct TokenRequest<'a> {
    pub login: &'a LoginName,
    pub password: &'a Password,
    pub ip: ClientIp,
    /// The OAuth client (default: the built-in `admin-console`).
    pub client_id: Option<&'a str>,
    /// Needed when the client is confidential.
    pub client_secret: Option<&'a str>,
    pub scope: Option<&'a str>,
    /// The Keep token's lifetime; clamped to `max_jwt_duration`.
    pub exp_seconds: Option<u64>,
}

/// Both tokens; the OAuth one, or why this client cannot have one.
pub struct DevTokens {
    pub keep: KeepToken,
    pub oauth: Result<TokenResponse, String>,
    pub client_id: String,
}

impl Issuer {
    /// Checks the password once (login path `start_page`), then signs the
    /// Keep token and, as a password grant of the client would, the OAuth
    /// tokens. The client must allow the password grant and, if it is
    /// confidential, its secret must be given.
    pub async fn developer_tokens(&self, req: TokenRequest<'_>) -> Result<DevTokens, KeepError> {
        let keep_login = KeepLogin {
            login: req.login,
            password: req.password,
            ip: req.ip,
            scope: req.scope,
            exp_seconds: req.exp_seconds,
        };
        let (user, keep) = self.keep_login_on(LoginPath::StartPage, keep_login).await?;
        let client_id = req.client_id.unwrap_or(ADMIN_CONSOLE).to_owned();
        let oauth = match self.store.get_client(&client_id).await? {
            None => Err(format!("there is no client {client_id:?}")),
            Some(c) if !c.allows(GrantType::Password) => Err(format!(
                "client {client_id:?} does not allow the password grant"
            )),
            Some(c)
                if !c.is_public() && !req.client_secret.is_some_and(|s| c.secret_matches(s)) =>
            {
                Err(format!(
                    "client {client_id:?} is confidential: give its secret (the one given is missing or wrong)"
                ))
            }
            Some(client) => {
                let scopes = scope::for_user(&client, &user, req.scope);
                let session = sessions::start(self, &user, false, self.config.session_ttl)
                    .await?
                    .0;
                let grant = Grant::in_session(&client, &user, scopes, &session);
                let config = self.configuration().await?;
                match mint(self, &config, grant).await {
                    Ok(minted) => {
                        self.metrics.token_issued(GrantType::Password.as_str());
                        Ok(minted.response)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e.description, "start page: minting failed");
                        Err("the OAuth token could not be issued".to_owned())
                    }
                }
            }
        };
        Ok(DevTokens {
            keep,
            oauth,
            client_id,
        })
    }

    /// The verdict on a pasted JWT (see `TokenCheck`).
    pub fn check_token(&self, token: &str) -> TokenCheck {
        check_token(self, token.trim())
    }
}

/// A check's verdict, said plainly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Expired,
    WrongIssuer,
    UnknownKid,
    BadSignature,
    Malformed,
    /// Signed by us, but refused for another reason (a claim, the algorithm).
    Invalid,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Expired => "expired",
            Verdict::WrongIssuer => "wrong issuer",
            Verdict::UnknownKid => "unknown kid",
            Verdict::BadSignature => "bad signature",
            Verdict::Malformed => "malformed",
            Verdict::Invalid => "invalid",
        }
    }
}

/// What "Check a token" shows.
pub struct TokenCheck {
    pub verdict: Verdict,
    pub message: String,
    /// The decoded header and claims, when they decode (verified or not).
    pub header: Option<Value>,
    pub claims: Option<Value>,
}

fn check_token(state: &Issuer, token: &str) -> TokenCheck {
    let header = jsonwebtoken::decode_header(token)
        .ok()
        .and_then(|h| serde_json::to_value(h).ok());
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .ok()
        .map(|data| data.claims);
    let current = state.keys.current();
    let (verdict, message) = match KeySet::from_ring("this realm's keys", &current.ring) {
        Err(why) => (Verdict::Invalid, why),
        Ok(keys) => {
            let mut expect = Expectations::new(
                Some(state.realm.issuer.clone()),
                Vec::new(),
                state.config.leeway,
            );
            // Expiry is judged below, on the issuer's clock.
            expect.check_expiry = false;
            match crate::verify::verify(token, &keys, &expect) {
                Ok(verified) => expiry(state, &verified.claims),
                Err(rejection) => (
                    match rejection.code {
                        Code::Malformed => Verdict::Malformed,
                        Code::UnknownKid => Verdict::UnknownKid,
                        Code::InvalidSignature | Code::KidMismatch => Verdict::BadSignature,
                        Code::InvalidIssuer => Verdict::WrongIssuer,
                        Code::ExpiredSignature => Verdict::Expired,
                        _ => Verdict::Invalid,
                    },
                    rejection.message,
                ),
            }
        }
    };
    TokenCheck {
        verdict,
        message,
        header,
        claims,
    }
}

fn expiry(state: &Issuer, claims: &Value) -> (Verdict, String) {
    let now = state.clock.now();
    let leeway = i64::try_from(state.config.leeway).unwrap_or(0);
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp.saturating_add(leeway) <= now => (
            Verdict::Expired,
            format!(
                "the signature is good, but the token expired {}s ago",
                now - exp
            ),
        ),
        Some(exp) => (
            Verdict::Valid,
            format!("signed by this realm; expires in {}s", exp - now),
        ),
        None => (
            Verdict::Valid,
            "signed by this realm; it has no expiry".to_owned(),
        ),
    }
}
