//! Checking this issuer's own access tokens, as userinfo, introspection and
//! the Domino API need: signature, issuer, expiry with leeway, the
//! deny-list, and who the token speaks for now (`sessions::Holder`).

use serde_json::Value;

use crate::app::Issuer;
use crate::app::oidc::sessions::{self, Holder};
use crate::domain::token::Claims;
use crate::store::{BearerHolder, StoreError};

pub enum AccessCheck {
    /// Verified and not revoked; its holder may still be gone.
    Active(Claims, Holder),
    /// Why not, for the caller's error description.
    Inactive(String),
}

const REVOKED: &str = "the token has been revoked";

pub async fn check(state: &Issuer, token: &str) -> Result<AccessCheck, StoreError> {
    let keys = state.keys.current();
    let claims =
        match keys
            .ring
            .verify(token, Some(&state.policy.issuer), None, state.config.leeway)
        {
            Ok((_, claims)) => claims,
            Err(e) => return Ok(AccessCheck::Inactive(e.to_string())),
        };
    // Expiry by the issuer's clock too (the keys read the system's): a
    // token does not outlive its `exp` for the issuer, whatever its session.
    let leeway = i64::try_from(state.config.leeway).unwrap_or(i64::MAX);
    if claims
        .get("exp")
        .and_then(|e| e.as_i64())
        .is_some_and(|exp| exp.saturating_add(leeway) < state.clock.now())
    {
        return Ok(AccessCheck::Inactive("the token has expired".into()));
    }
    let jti = claims.get("jti").and_then(Value::as_str);
    let holder = match (jti, claims.get("sid")) {
        // A user's token (every one this issuer signs has both): the
        // deny-list and the session with its user are one read.
        (Some(jti), Some(Value::String(sid))) => {
            match state.store.get_bearer_holder(sid, jti).await? {
                BearerHolder::Denied => return Ok(AccessCheck::Inactive(REVOKED.into())),
                BearerHolder::Session(found) => sessions::in_session(state, Some(*found)),
                BearerHolder::NoSession => Holder::Gone,
            }
        }
        _ => {
            if let Some(jti) = jti
                && state.store.is_jti_denied(jti).await?
            {
                return Ok(AccessCheck::Inactive(REVOKED.into()));
            }
            sessions::holder(state, &claims).await?
        }
    };
    Ok(AccessCheck::Active(claims, holder))
}
