//! Ending sessions: RP-Initiated Logout for browsers and Keycloak's
//! back-channel form for adapters. Only the browser's own session (its
//! cookie) can end in a browser logout, and without asking only when the
//! `id_token_hint` is an ID token of a registered client for that very
//! session (an expired one too, as RP-Initiated Logout §2 allows).

use serde_json::Value;

use crate::app::Issuer;
use crate::app::oidc::{OAuthError, sessions};
use crate::domain::client::Client;
use crate::domain::opaque;
use crate::store::StoreError;

/// A browser's sign-out request.
pub struct LogoutRequest<'a> {
    pub id_token_hint: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    /// The browser's session cookie, if it sent one.
    pub session_cookie: Option<&'a str>,
    /// The user confirmed on the (CSRF-checked) page.
    pub confirmed: bool,
}

/// What to do with a sign-out request.
pub enum Logout {
    /// Refused, with the reason to show (nothing was ended).
    Refused(&'static str),
    /// Ask the user first; the client the request names, to carry along.
    Confirm { client_id: Option<String> },
    /// The browser's session (if any) has ended; where to send it next.
    Ended { redirect: Option<String> },
}

impl Issuer {
    /// Decides a browser sign-out and, when it goes ahead, ends the
    /// browser's own session.
    pub async fn browser_logout(&self, req: LogoutRequest<'_>) -> Result<Logout, StoreError> {
        let hint = match req.id_token_hint {
            None => None,
            Some(token) => match self
                .keys
                .current()
                .ring
                .verify_ignoring_expiry(token, &self.policy.issuer)
            {
                Ok((_, claims)) => Some(claims),
                Err(_) => {
                    return Ok(Logout::Refused(
                        "The sign-out request carries an ID token this service did not issue.",
                    ));
                }
            },
        };
        // Only an ID token says which client asks; any other token's `aud` is no client.
        let hinted_client = hint
            .as_ref()
            .filter(|c| c.get("typ").and_then(Value::as_str) == Some("ID"))
            .and_then(|c| c.get("aud"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let client_id = match (req.client_id, hinted_client.clone()) {
            (Some(a), Some(b)) if a != b => {
                return Ok(Logout::Refused(
                    "client_id does not match the ID token's audience.",
                ));
            }
            (Some(a), _) => Some(a.to_owned()),
            (None, b) => b,
        };
        let client = match &client_id {
            Some(id) => self.store.get_client(id).await?,
            None => None,
        };
        let redirect = match req.post_logout_redirect_uri {
            None => None,
            Some(uri) => match &client {
                Some(c) if c.has_post_logout_redirect_uri(uri) => Some(uri.to_owned()),
                _ => {
                    return Ok(Logout::Refused(
                        "The application asked to return to an address it has not registered (post_logout_redirect_uri).",
                    ));
                }
            },
        };
        // The browser's own session is the only one this request can end.
        let session_id = match req.session_cookie {
            Some(cookie) => sessions::from_cookie(self, cookie)
                .await?
                .map(|(s, _)| s.id),
            None => None,
        };
        let hint_is_this_session = hint.as_ref().is_some_and(|h| {
            hinted_client.is_some()
                && client.as_ref().map(|c| c.client_id.as_str()) == hinted_client.as_deref()
                && session_id.is_some()
                && h.get("sid").and_then(Value::as_str) == session_id.as_deref()
        });
        if !hint_is_this_session && !req.confirmed {
            return Ok(Logout::Confirm { client_id });
        }
        if let Some(id) = &session_id
            && self.store.end_session(id, self.clock.now()).await?
        {
            tracing::info!(target: "audit", event = "session.ended", session_id = %id, "session ended by the user");
        }
        Ok(Logout::Ended { redirect })
    }

    /// Keycloak adapters: `client` ends the session its refresh token
    /// belongs to.
    pub async fn end_session_of_refresh(
        &self,
        client: &Client,
        refresh_token: &str,
    ) -> Result<(), OAuthError> {
        let Some(record) = self
            .store
            .get_refresh(&opaque::digest(refresh_token))
            .await?
        else {
            return Err(OAuthError::invalid_grant("refresh token is invalid"));
        };
        if record.client_id != client.client_id {
            return Err(OAuthError::invalid_grant(
                "refresh token was issued to another client",
            ));
        }
        self.store
            .end_session(&record.session_id, self.clock.now())
            .await?;
        tracing::info!(target: "audit", event = "session.ended", client_id = %client.client_id, session_id = %record.session_id, "session ended by client");
        Ok(())
    }
}
