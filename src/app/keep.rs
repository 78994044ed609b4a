//! The Keep login (`POST /auth`): a login name and password for an RS256
//! JWT with Keep's claims, bound to a session as long as the token.

use time::OffsetDateTime;

use crate::app::Issuer;
use crate::app::login::{self, Attempt, ClientIp, LoginPath};
use crate::app::oidc::claims::ClaimContext;
use crate::app::oidc::sessions;
use crate::app::users::LoginError;
use crate::domain::mapper::KEEP_CLIENT;
use crate::domain::token::{self, Claims};
use crate::domain::user::{LoginName, Password, User};
use crate::keys::KeyError;
use crate::store::StoreError;

/// What a Keep login asks for.
pub struct KeepLogin<'a> {
    pub login: &'a LoginName,
    pub password: &'a Password,
    pub ip: ClientIp,
    /// A space-separated subset of the user's scopes to narrow the token to.
    pub scope: Option<&'a str>,
    /// The requested lifetime; clamped to `max_jwt_duration`.
    pub exp_seconds: Option<u64>,
}

/// A signed Keep token and what it says.
pub struct KeepToken {
    pub bearer: String,
    /// The JWT's payload, exactly.
    pub claims: Claims,
    /// Seconds from `issued_at` to `exp`.
    pub lifetime: u64,
    pub issued_at: OffsetDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    /// Refused or locked: the caller answers without saying which user.
    #[error(transparent)]
    Login(#[from] LoginError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl Issuer {
    /// Checks the password under brute-force protection, starts a session
    /// and signs the Keep token (mappers for the `keep` client applied).
    pub async fn keep_login(&self, req: KeepLogin<'_>) -> Result<KeepToken, KeepError> {
        let (_, token) = self.keep_login_on(LoginPath::Keep, req).await?;
        Ok(token)
    }

    /// `keep_login`, counted as a login on `path` and answering with the
    /// user too: the start page's "Get a token" goes on to sign an OAuth
    /// token for that user with the one password check.
    pub(crate) async fn keep_login_on(
        &self,
        path: LoginPath,
        req: KeepLogin<'_>,
    ) -> Result<(User, KeepToken), KeepError> {
        let attempt = Attempt {
            path,
            login: req.login,
            password: req.password,
            ip: req.ip,
        };
        let user = login::authenticate(self, attempt).await?;
        let token = self
            .keep_token_for(&user, req.scope, req.exp_seconds)
            .await?;
        Ok((user, token))
    }

    /// Starts a session for a user whose password was just checked and
    /// signs their Keep token.
    async fn keep_token_for(
        &self,
        user: &User,
        scope: Option<&str>,
        exp_seconds: Option<u64>,
    ) -> Result<KeepToken, KeepError> {
        let now = self.clock.now_utc();
        let lifetime = self.policy.lifetime(exp_seconds);
        // A session as long as the token, so userinfo and introspection find the
        // token's user by id and `user remove` or `disable` ends it at once.
        let session_ttl = lifetime.saturating_add(self.config.leeway);
        let (session, _) = sessions::start(self, user, false, session_ttl).await?;
        let scopes = token::narrow_scopes(&user.scopes, scope);
        let jti = uuid::Uuid::new_v4().to_string();
        let config = self.configuration().await?;
        let ctx = ClaimContext {
            policy: &self.policy,
            mappers: config.mappers(),
            client_id: KEEP_CLIENT,
            user: Some(user),
            scopes: &scopes,
            applied: &scopes,
            roles: None,
            session: Some((session.id.as_str(), session.auth_time)),
            now: now.unix_timestamp(),
            lifetime,
        };
        let claims = ctx
            .keep(&jti)
            .ok_or(KeepError::Internal("no user for a Keep token"))?;
        let (claims, bearer) = self
            .keys
            .in_turn(move |keys| {
                let bearer = keys.sign(&claims);
                (claims, bearer)
            })
            .await?;
        let bearer = bearer?;
        self.metrics.token_issued("keep");
        tracing::info!(target: "audit", event = "token.issued", client_id = KEEP_CLIENT, user_id = %user.id, jti = %jti, "keep token issued");
        Ok(KeepToken {
            bearer,
            claims,
            lifetime,
            issued_at: now,
        })
    }
}
