//! Checking this issuer's own access tokens, as userinfo, introspection and
//! revocation need: signature, issuer, expiry with leeway, and the deny-list.

use crate::app::Issuer;
use crate::domain::token::Claims;
use crate::store::StoreError;

pub enum AccessCheck {
    Active(Claims),
    /// Why not, for the caller's error description.
    Inactive(String),
}

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
    if let Some(jti) = claims.get("jti").and_then(|j| j.as_str())
        && state.store.is_jti_denied(jti).await?
    {
        return Ok(AccessCheck::Inactive("the token has been revoked".into()));
    }
    Ok(AccessCheck::Active(claims))
}
