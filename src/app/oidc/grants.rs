//! The grants of the token endpoint: RFC 6749's four, each checking what
//! the RFC asks of it and handing a `Grant` to `mint`, and RFC 8693's token
//! exchange of an API key for a Domino Token. Client authentication has
//! already happened.

use serde::Serialize;
use utoipa::ToSchema;

use crate::app::Issuer;
use crate::app::apikeys::{self, KeyRefusal};
use crate::app::config_cache::Snapshot;
use crate::app::login::{self, Attempt, ClientIp, LoginPath};
use crate::app::oidc::claims::ClaimContext;
use crate::app::oidc::error::OAuthError;
use crate::app::oidc::mint::{self, Grant, TokenResponse, mint};
use crate::app::oidc::params::Params;
use crate::app::oidc::prefetch::Prefetched;
use crate::app::oidc::{refresh_token, scope, sessions};
use crate::app::users::LoginError;
use crate::domain::client::{Client, GrantType};
use crate::domain::opaque;
use crate::domain::scope::ScopeSet;
use crate::domain::user::{LoginName, Password, User};
use crate::store::{CodeRedemption, RefreshClaim, RefreshHolder};

/// The `subject_token_type` of an API key (a project-specific URI, as
/// RFC 8693 §3 allows).
pub const API_KEY_TOKEN_TYPE: &str = "urn:domino:params:oauth:token-type:api-key";
/// RFC 8693 §3: what the exchange issues.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// What the token endpoint answers: Keycloak's token response, or RFC 8693
/// §2.2.1's for a token exchange.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum GrantResponse {
    Tokens(TokenResponse),
    Exchanged(ExchangeResponse),
}

/// RFC 8693 §2.2.1: the issued token, and no refresh token (present the API
/// key again for the next one).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExchangeResponse {
    /// The Domino Token.
    pub access_token: String,
    #[schema(example = "urn:ietf:params:oauth:token-type:access_token")]
    pub issued_token_type: &'static str,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    pub expires_in: u64,
    pub scope: String,
}

/// One token request, as each grant reads it (client authentication has
/// happened; `ip` is for the brute-force counters).
struct Request<'a> {
    state: &'a Issuer,
    config: &'a Snapshot,
    client: &'a Client,
    params: &'a Params,
    ip: ClientIp,
    /// The presented refresh token, when `prefetch` read it.
    refresh: Option<Option<RefreshHolder>>,
}

/// Dispatches on `grant_type`.
pub async fn exchange(
    state: &Issuer,
    pre: Prefetched,
    client: &Client,
    params: &Params,
    ip: ClientIp,
) -> Result<GrantResponse, OAuthError> {
    let Prefetched { config, refresh } = pre;
    let config = config.as_ref();
    let raw = params.require("grant_type")?;
    let grant = GrantType::parse(raw).ok_or_else(|| {
        OAuthError::unsupported_grant_type(format!(
            "grant_type {raw:?} is not supported; use authorization_code, refresh_token, password, client_credentials or {}",
            GrantType::TokenExchange
        ))
    })?;
    if !client.allows(grant) {
        return Err(OAuthError::unauthorized_client(format!(
            "client {:?} is not allowed to use the {grant} grant",
            client.client_id
        )));
    }
    let req = Request {
        state,
        config,
        client,
        params,
        ip,
        refresh,
    };
    let response = match grant {
        GrantType::Password => req.password().await,
        GrantType::ClientCredentials => req.client_credentials().await,
        GrantType::RefreshToken => req.refresh().await,
        GrantType::AuthorizationCode => req.authorization_code().await,
        GrantType::TokenExchange => {
            let exchanged = req.token_exchange().await?;
            state.metrics.token_issued(grant.as_str());
            return Ok(GrantResponse::Exchanged(exchanged));
        }
    }?;
    state.metrics.token_issued(grant.as_str());
    Ok(GrantResponse::Tokens(response))
}

impl Request<'_> {
    /// RFC 8693 token exchange: an API key (`subject_token`, of type
    /// `API_KEY_TOKEN_TYPE`) for a Domino Token of the key's user, bound to the
    /// session the key's exchanges share (so userinfo, introspection and the
    /// Domino API find the user through it, disabling the user makes it
    /// inactive, and revoking the key ends it). Failed keys count on the address's
    /// brute-force counter; a locked address is `invalid_grant` with
    /// `Retry-After`, as the password grant's.
    async fn token_exchange(self) -> Result<ExchangeResponse, OAuthError> {
        let token_type = self.params.require("subject_token_type")?;
        if token_type != API_KEY_TOKEN_TYPE {
            return Err(OAuthError::invalid_request(format!(
                "subject_token_type {token_type:?} is not supported; send an API key as {API_KEY_TOKEN_TYPE}"
            )));
        }
        let subject_token = self.params.require("subject_token")?;
        if self.params.get("actor_token").is_some() || self.params.get("actor_token_type").is_some()
        {
            return Err(OAuthError::invalid_request(
                "delegation (actor_token) is not supported",
            ));
        }
        if let Some(wanted) = self.params.get("requested_token_type")
            && wanted != ACCESS_TOKEN_TYPE
        {
            return Err(OAuthError::invalid_request(format!(
                "requested_token_type {wanted:?} is not supported; only {ACCESS_TOKEN_TYPE} is issued"
            )));
        }
        for target in ["audience", "resource"] {
            if self
                .params
                .get(target)
                .is_some_and(|t| t != self.state.policy.audience)
            {
                let mut e = OAuthError::invalid_request(format!(
                    "{target}: the token can only be for {:?}",
                    self.state.policy.audience
                ));
                e.code = "invalid_target";
                return Err(e);
            }
        }
        let refused = |e| match e {
            KeyRefusal::Refused => OAuthError::invalid_grant(
                "the API key is invalid, expired or revoked, or its user is disabled",
            ),
            KeyRefusal::Locked { retry_after } => OAuthError::locked(retry_after),
            KeyRefusal::Store(e) => e.into(),
        };
        let holder = apikeys::authenticate(self.state, subject_token, self.ip)
            .await
            .map_err(refused)?;
        let user = &holder.user;
        let scopes = scope::for_user(self.client, user, self.params.get("scope"));
        let lifetime = self.state.policy.lifetime(None);
        // The key's session, shared by its exchanges, outlives this token.
        let needed = lifetime.saturating_add(self.state.config.leeway);
        let session = apikeys::shared_session(self.state, &holder, needed)
            .await
            .map_err(refused)?;
        let jti = uuid::Uuid::new_v4().to_string();
        let applied = scope::applied(Some(self.client), &scopes);
        let roles =
            mint::roles_for(self.state, self.config, self.client, Some(user), &applied).await?;
        let ctx = ClaimContext {
            policy: &self.state.policy,
            mappers: self.config.mappers(),
            client_id: &self.client.client_id,
            user: Some(user),
            scopes: &scopes,
            applied: &applied,
            roles: roles.as_ref(),
            session: Some((session.id.as_str(), session.auth_time)),
            now: self.state.clock.now(),
            lifetime,
        };
        let claims = ctx
            .domino(&jti)
            .ok_or_else(|| OAuthError::server_error("no user for a Domino Token"))?;
        let access_token = self.state.keys.sign_in_turn(claims).await?;
        tracing::info!(
            target: "audit",
            event = "token.issued",
            client_id = %self.client.client_id,
            user_id = %user.id,
            jti = %jti,
            api_key_id = %holder.key_id,
            grant = GrantType::TokenExchange.as_str(),
            "Domino Token issued for an API key"
        );
        Ok(ExchangeResponse {
            access_token,
            issued_token_type: ACCESS_TOKEN_TYPE,
            token_type: "Bearer",
            expires_in: lifetime,
            scope: scopes.to_string(),
        })
    }

    async fn password(self) -> Result<TokenResponse, OAuthError> {
        let login = LoginName::parse(self.params.require("username")?)
            .map_err(|e| OAuthError::invalid_request(e.0))?;
        let password = Password::parse(self.params.require("password")?)
            .map_err(|e| OAuthError::invalid_request(e.0))?;
        let attempt = Attempt {
            path: LoginPath::PasswordGrant,
            login: &login,
            password: &password,
            ip: self.ip,
        };
        let user = login::authenticate(self.state, attempt)
            .await
            .map_err(|e| match e {
                LoginError::Refused => OAuthError::invalid_grant("Invalid user credentials"),
                LoginError::Locked { retry_after } => OAuthError::locked(retry_after),
                LoginError::Store(e) => e.into(),
                LoginError::Hash(e) => e.into(),
            })?;
        let scopes = scope::for_user(self.client, &user, self.params.get("scope"));
        let session = sessions::start(self.state, &user, false, self.state.config.session_ttl)
            .await?
            .0;
        self.tokens(Grant::in_session(self.client, &user, scopes, &session))
            .await
    }

    async fn client_credentials(self) -> Result<TokenResponse, OAuthError> {
        let grant = Grant {
            client: self.client,
            user: None,
            scopes: scope::for_client(self.client, self.params.get("scope")),
            session: None,
            nonce: None,
            rotates: None,
        };
        self.tokens(grant).await
    }

    async fn refresh(mut self) -> Result<TokenResponse, OAuthError> {
        let presented = self.params.require("refresh_token")?;
        let token_hash = opaque::digest(presented);
        let now = self.state.clock.now();
        // Read first, spend last: the checks below run on the stored row (read
        // with its user and session in one statement), and the claim of the
        // presented token and the storing of its successor are one write
        // (`rotate_refresh`), which a racing request loses as a replay.
        let found = match self.refresh.take() {
            Some(found) => found,
            None => {
                self.state
                    .store
                    .get_refresh_with_holder(&token_hash)
                    .await?
            }
        };
        let Some(found) = found else {
            return Err(refresh_token::refused(self.state, RefreshClaim::Unknown).await?);
        };
        let record = found.token;
        if record.used_at.is_some() && record.revoked_at.is_none() {
            return Err(refresh_token::refused(self.state, RefreshClaim::Replayed(record)).await?);
        }
        if record.used_at.is_some() || record.revoked_at.is_some() || record.expires_at <= now {
            return Err(refresh_token::refused(self.state, RefreshClaim::Inactive).await?);
        }
        // A scope that widens the grant is refused before the token is spent, so
        // the client can retry with a valid request.
        let scopes = scope::narrow_refresh(&record.scope, self.params.get("scope"))
            .map_err(OAuthError::invalid_scope)?;
        // Any other refusal of a live token ends its family, as spending it and
        // then refusing did.
        let family = &record.family_id;
        let refuse = |why: &'static str| async move {
            self.state.store.revoke_family(family, now).await?;
            Err::<TokenResponse, OAuthError>(OAuthError::invalid_grant(why))
        };
        if record.client_id != self.client.client_id {
            return refuse("refresh token was issued to another client").await;
        }
        let user = found.user;
        if !user.enabled {
            return refuse("the user is disabled or no longer exists").await;
        }
        let Some(session) = found.session.filter(|s| s.is_live(now)) else {
            return refuse("the session has ended").await;
        };
        let grant = Grant {
            rotates: Some(&record),
            ..Grant::in_session(self.client, &user, scopes, &session)
        };
        self.tokens(grant).await
    }

    async fn authorization_code(self) -> Result<TokenResponse, OAuthError> {
        let code = self.params.require("code")?;
        let code_hash = opaque::digest(code);
        let now = self.state.clock.now();
        let record = match self.state.store.redeem_code(&code_hash, now).await? {
            CodeRedemption::Redeemed(record) => record,
            refused => {
                // RFC 6749 §4.1.2: a code used twice revokes what it produced.
                if let CodeRedemption::Spent {
                    family_id: Some(family),
                } = refused
                {
                    self.state.store.revoke_family(&family, now).await?;
                    self.state.metrics.refresh_reuse();
                    tracing::warn!(target: "audit", event = "code.reuse", family_id = %family, "authorization code reused: tokens revoked");
                }
                return Err(OAuthError::invalid_grant(
                    "authorization code is invalid, expired or already used",
                ));
            }
        };
        if record.client_id != self.client.client_id {
            return Err(OAuthError::invalid_grant(
                "authorization code was issued to another client",
            ));
        }
        if self.params.get("redirect_uri") != Some(record.redirect_uri.as_str()) {
            return Err(OAuthError::invalid_grant(
                "redirect_uri does not match the one of the authorization request",
            ));
        }
        check_pkce(
            record.code_challenge.as_deref(),
            self.params.get("code_verifier"),
        )?;
        let found = self
            .state
            .store
            .get_user_with_session(&record.user_id, &record.session_id)
            .await?;
        let (user, session): (User, _) = match found {
            Some((user, session)) if user.enabled => (user, session),
            _ => return Err(OAuthError::invalid_grant("the user is disabled")),
        };
        let Some(session) = session.filter(|s| s.is_live(now)) else {
            return Err(OAuthError::invalid_grant("the login session has ended"));
        };
        let scopes = ScopeSet::parse_param(&record.scope);
        let grant = Grant {
            nonce: record.nonce.as_deref(),
            ..Grant::in_session(self.client, &user, scopes, &session)
        };
        let minted = mint(self.state, self.config, grant).await?;
        if let Some(family) = &minted.family_id {
            self.state.store.set_code_family(&code_hash, family).await?;
        }
        Ok(minted.response)
    }

    /// Mints `grant` and answers with its tokens.
    async fn tokens(&self, grant: Grant<'_>) -> Result<TokenResponse, OAuthError> {
        Ok(mint(self.state, self.config, grant).await?.response)
    }
}

/// RFC 7636 §4.6: a code whose request had a `code_challenge` is redeemed
/// only with the verifier that hashes to it; one without, with none.
fn check_pkce(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (Some(challenge), Some(verifier)) => {
            if !valid_verifier(verifier) {
                return Err(OAuthError::invalid_request(
                    "code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~",
                ));
            }
            if !opaque::equal(&opaque::pkce_s256(verifier), challenge) {
                return Err(OAuthError::invalid_grant("PKCE verification failed"));
            }
            Ok(())
        }
        (Some(_), None) => Err(OAuthError::invalid_grant(
            "code_verifier is required: the authorization request used PKCE",
        )),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier sent, but the authorization request had no code_challenge",
        )),
        (None, None) => Ok(()),
    }
}

/// RFC 7636 §4.1: 43-128 characters from the unreserved set.
pub fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}
