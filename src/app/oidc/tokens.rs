//! Taking a token back: userinfo (OIDC Core §5.3), introspection (RFC
//! 7662) and revocation (RFC 7009). A token's user is its session's
//! (`access::check`), never a name a claim carries.

use serde_json::{Value, json};

use crate::app::Issuer;
use crate::app::config_cache::Snapshot;
use crate::app::oidc::OAuthError;
use crate::app::oidc::access::{self, AccessCheck};
use crate::app::oidc::claims::{ClaimContext, client_of};
use crate::app::oidc::refresh_token;
use crate::app::oidc::scope;
use crate::app::oidc::sessions::Holder;
use crate::domain::client::Client;
use crate::domain::mapper::Mapper;
use crate::domain::opaque;
use crate::domain::scope::ScopeSet;
use crate::domain::token::Claims;
use crate::domain::user::User;
use crate::store::RefreshRecord;

impl Issuer {
    /// The userinfo response for a presented access token: `sub` and the
    /// claims its scopes release, plus the userinfo mappers.
    pub async fn userinfo(&self, token: &str) -> Result<Claims, OAuthError> {
        let realm = self.realm.name.as_str();
        let (claims, holder) = match access::check(self, token).await? {
            AccessCheck::Active(claims, holder) => (claims, holder),
            AccessCheck::Inactive(why) => return Err(OAuthError::invalid_token(realm, why)),
        };
        if claims.get("typ").and_then(Value::as_str) == Some("ID") {
            return Err(OAuthError::invalid_token(
                realm,
                "an ID token is not an access token",
            ));
        }
        if let Holder::Gone = holder {
            return Err(OAuthError::invalid_token(
                realm,
                "the session has ended, or the user is disabled or no longer exists",
            ));
        }
        let config = self.configuration().await?;
        let scopes = scopes_of(&claims);
        let applied = applied_scopes(&config, &claims, &scopes);
        let ctx = context(
            self,
            config.mappers(),
            &claims,
            holder.user(),
            (&scopes, &applied),
        );
        Ok(ctx.userinfo())
    }

    /// RFC 7662's answer for `client`: anything expired, revoked, malformed,
    /// foreign or of a disabled user is `{"active": false}`.
    pub async fn introspect(&self, client: &Client, token: &str) -> Result<Value, OAuthError> {
        let inactive = || Ok(json!({ "active": false }));
        if !refresh_token::looks_like_refresh(token) {
            let (claims, holder) = match access::check(self, token).await? {
                AccessCheck::Active(claims, holder) => (claims, holder),
                AccessCheck::Inactive(_) => return inactive(),
            };
            if let Holder::Gone = holder {
                return inactive();
            }
            let config = self.configuration().await?;
            let scopes = scopes_of(&claims);
            let applied = applied_scopes(&config, &claims, &scopes);
            let mut out = context(
                self,
                config.mappers(),
                &claims,
                holder.user(),
                (&scopes, &applied),
            )
            .introspection(claims.clone());
            out.insert("active".into(), json!(true));
            if let Some(azp) = out.get("azp").cloned() {
                out.entry("client_id").or_insert(azp);
            }
            if let Some(user) = holder.user() {
                out.insert("username".into(), json!(user.username));
            }
            let typ = if out.get("typ").and_then(Value::as_str) == Some("ID") {
                "ID"
            } else {
                "Bearer"
            };
            out.insert("token_type".into(), json!(typ));
            return Ok(Value::Object(out));
        }
        let Some(record) = self.store.get_refresh(&opaque::digest(token)).await? else {
            return inactive();
        };
        if record.client_id != client.client_id || !refresh_is_live(&record, self.clock.now()) {
            return inactive();
        }
        let Some(user) = self
            .store
            .get_user_by_id(&record.user_id)
            .await?
            .filter(|u| u.enabled)
        else {
            return inactive();
        };
        Ok(json!({
            "active": true,
            "token_type": "Refresh",
            "typ": "Refresh",
            "client_id": record.client_id,
            "azp": record.client_id,
            "aud": self.policy.issuer,
            "username": user.username,
            "sub": self.policy.subject_of(&user),
            "scope": record.scope,
            "iat": record.issued_at,
            "exp": record.expires_at,
            "iss": self.policy.issuer,
            "sid": record.session_id,
        }))
    }

    /// RFC 7009: a refresh token ends its family and its session; an access token's `jti` is
    /// denied until it expires. A token of another client is refused; an
    /// unknown or malformed one is no error (§2.2).
    pub async fn revoke(&self, client: &Client, token: &str) -> Result<(), OAuthError> {
        let foreign = || {
            OAuthError::unauthorized_client(
                "the token was not issued to this client; it is unchanged",
            )
        };
        let now = self.clock.now();
        if !refresh_token::looks_like_refresh(token) {
            // Signature and issuer must hold; expiry need not (revoking an expired token is a no-op).
            if let Ok((_, claims)) = self
                .keys
                .current()
                .ring
                .verify_ignoring_expiry(token, &self.policy.issuer)
            {
                if claims.get("azp").and_then(Value::as_str) != Some(client.client_id.as_str()) {
                    return Err(foreign());
                }
                let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
                if let Some(jti) = claims.get("jti").and_then(Value::as_str)
                    && exp > now
                {
                    self.store.deny_jti(jti, exp).await?;
                    self.metrics.revocation("access");
                    tracing::info!(target: "audit", event = "token.revoked", kind = "access", client_id = %client.client_id, jti, "access token revoked");
                }
            }
        } else if let Some(record) = self.store.get_refresh(&opaque::digest(token)).await? {
            if record.client_id != client.client_id {
                return Err(foreign());
            }
            // Its family goes, and with it the session its access tokens
            // name (`sid`): they turn inactive at once, as Keycloak's do
            // when a refresh token is revoked.
            let revoked = self.store.revoke_family(&record.family_id, now).await?;
            self.store.end_session(&record.session_id, now).await?;
            self.metrics.revocation("refresh");
            tracing::info!(target: "audit", event = "token.revoked", kind = "refresh", client_id = %client.client_id, family_id = %record.family_id, session_id = %record.session_id, revoked, "refresh token revoked: its session has ended");
        }
        Ok(())
    }
}

fn scopes_of(claims: &Claims) -> ScopeSet {
    ScopeSet::parse_param(claims.get("scope").and_then(Value::as_str).unwrap_or(""))
}

/// The scopes a presented token's claims come from: those it lists and its
/// client's default client scopes (as when it was minted).
fn applied_scopes(config: &Snapshot, claims: &Claims, listed: &ScopeSet) -> ScopeSet {
    let client = claims
        .get("azp")
        .and_then(Value::as_str)
        .and_then(|id| config.client(id));
    scope::applied(client, listed)
}

/// The claim context of a presented access token, for userinfo and introspection.
fn context<'a>(
    state: &'a Issuer,
    mappers: &'a [Mapper],
    claims: &'a Claims,
    user: Option<&'a User>,
    (scopes, applied): (&'a ScopeSet, &'a ScopeSet),
) -> ClaimContext<'a> {
    ClaimContext {
        policy: &state.policy,
        mappers,
        client_id: client_of(claims),
        user,
        scopes,
        applied,
        roles: None,
        session: None,
        now: state.clock.now(),
        lifetime: 0,
    }
}

fn refresh_is_live(r: &RefreshRecord, now: i64) -> bool {
    r.used_at.is_none() && r.revoked_at.is_none() && r.expires_at > now
}
