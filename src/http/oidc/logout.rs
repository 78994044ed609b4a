//! `GET|POST R/protocol/openid-connect/logout`: OpenID Connect RP-Initiated
//! Logout for browsers, and Keycloak's adapter form (POST with the client's
//! credentials and a `refresh_token`) for back ends.
//!
//! Only the browser's own session (its cookie) can end here. It ends at once
//! when `id_token_hint` is an ID token of a registered client whose `sid` is
//! that session; with any other hint, or none, the user confirms on a
//! CSRF-protected page, so a third-party page cannot sign anybody out with a
//! token of its own. `post_logout_redirect_uri` must be registered by the
//! client the hint (or `client_id`) names, else an error page is shown.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde_json::Value;

use super::client_auth;
use super::form::QueryOrForm;
use super::pages::{self, LogoutPage, SESSION_COOKIE};
use crate::app::Issuer;
use crate::app::oidc::{OAuthError, Params, sessions};
use crate::domain::opaque;
use crate::http::error::OAuthErrorBody;
use crate::http::schemas::{InvalidClient, LogoutParams, RealmNotFound};
use crate::store::StoreError;

/// RP-initiated logout, or (with `refresh_token` and client authentication)
/// Keycloak's back-channel logout.
#[utoipa::path(
    get,
    path = super::LOGOUT,
    tag = "oidc",
    operation_id = "logout",
    summary = "RP-initiated logout, or Keycloak's back-channel logout",
    params(LogoutParams),
    security((), ("ClientBasic" = [])),
    responses(
        (status = 200, description = "The confirmation page, or the signed-out page",
            content_type = "text/html", body = String),
        (status = 204, description = "Back-channel: the refresh token's session has ended"),
        (status = 302, description = "Signed out: back to `post_logout_redirect_uri` with `state`",
            headers(("Location" = String))),
        (status = 400, description = "An error page (browser), or an OAuth error (back-channel)",
            content(("text/html"), (OAuthErrorBody = "application/json"))),
        (status = 401, response = InvalidClient),
        (status = 404, response = RealmNotFound),
        (status = 503, description = "The store is unreachable: an error page, or an OAuth error",
            content(("text/html"), (OAuthErrorBody = "application/json"))),
    ),
)]
pub async fn logout(
    State(state): State<Issuer>,
    headers: HeaderMap,
    jar: CookieJar,
    params: Result<QueryOrForm, OAuthError>,
) -> Response {
    let params = match params {
        Ok(QueryOrForm(p)) => p,
        Err(e) => return pages::error_page(&state, StatusCode::BAD_REQUEST, &e.description),
    };
    if params.get("refresh_token").is_some() {
        return match backchannel(&state, &headers, &params).await {
            Ok(()) => StatusCode::NO_CONTENT.into_response(),
            Err(e) => e.into_response(),
        };
    }
    match browser(&state, jar, &params).await {
        Ok(response) => response,
        Err(e) => {
            tracing::warn!(error = %e, "store unavailable during logout");
            pages::error_page(
                &state,
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is temporarily unavailable. Please try again shortly.",
            )
        }
    }
}

/// Keycloak adapters: the client ends the session its refresh token belongs to.
async fn backchannel(
    state: &Issuer,
    headers: &HeaderMap,
    params: &Params,
) -> Result<(), OAuthError> {
    let client = client_auth::authenticate(state, headers, params).await?;
    let token = params.require("refresh_token")?;
    let Some(record) = state.store.get_refresh(&opaque::digest(token)).await? else {
        return Err(OAuthError::invalid_grant("refresh token is invalid"));
    };
    if record.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(
            "refresh token was issued to another client",
        ));
    }
    state
        .store
        .end_session(&record.session_id, state.clock.now())
        .await?;
    tracing::info!(target: "audit", event = "session.ended", client_id = %client.client_id, session_id = %record.session_id, "session ended by client");
    Ok(())
}

async fn browser(state: &Issuer, jar: CookieJar, params: &Params) -> Result<Response, StoreError> {
    let bad = |m: &str| Ok(pages::error_page(state, StatusCode::BAD_REQUEST, m));
    let hint = match params.get("id_token_hint") {
        None => None,
        Some(token) => match state
            .keys
            .verify_ignoring_expiry(token, &state.policy.issuer)
        {
            Ok((_, claims)) => Some(claims),
            Err(_) => {
                return bad("The sign-out request carries an ID token this service did not issue.");
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
    let client_id = match (params.get("client_id"), hinted_client.clone()) {
        (Some(a), Some(b)) if a != b => {
            return bad("client_id does not match the ID token's audience.");
        }
        (Some(a), _) => Some(a.to_owned()),
        (None, b) => b,
    };
    let client = match &client_id {
        Some(id) => state.store.get_client(id).await?,
        None => None,
    };
    let redirect = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => match &client {
            Some(c) if c.has_post_logout_redirect_uri(uri) => Some(uri.to_owned()),
            _ => {
                return bad(
                    "The application asked to return to an address it has not registered (post_logout_redirect_uri).",
                );
            }
        },
    };
    // The browser's own session is the only one this request can end.
    let session_id = match jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()) {
        Some(cookie) => sessions::from_cookie(state, &cookie)
            .await?
            .map(|(s, _)| s.id),
        None => None,
    };
    // RP-Initiated Logout §2: without asking, only when the hint is an ID
    // token of a registered client for this very session (expired or not).
    let hint_is_this_session = hint.as_ref().is_some_and(|h| {
        hinted_client.is_some()
            && client.as_ref().map(|c| c.client_id.as_str()) == hinted_client.as_deref()
            && session_id.is_some()
            && h.get("sid").and_then(Value::as_str) == session_id.as_deref()
    });
    let confirmed = params.get("confirm") == Some("yes") && pages::csrf_ok(&jar, params);
    if !hint_is_this_session && !confirmed {
        let (jar, csrf) = pages::csrf_token(state, jar);
        let mut hidden: Vec<(&str, String)> = ["post_logout_redirect_uri", "state"]
            .into_iter()
            .filter_map(|k| params.get(k).map(|v| (k, v.to_owned())))
            .collect();
        if let Some(id) = &client_id {
            hidden.insert(0, ("client_id", id.clone()));
        }
        let action = format!("{}/protocol/openid-connect/logout", state.realm.issuer);
        let page = LogoutPage {
            realm: &state.realm.name,
            done: false,
            action: &action,
            hidden,
            csrf: &csrf,
        };
        return Ok((jar, pages::html(StatusCode::OK, &page)).into_response());
    }
    if let Some(id) = &session_id
        && state.store.end_session(id, state.clock.now()).await?
    {
        tracing::info!(target: "audit", event = "session.ended", session_id = %id, "session ended by the user");
    }
    let jar = jar.add(pages::removal(state, SESSION_COOKIE));
    Ok(match redirect {
        Some(uri) => {
            let mut url = match url::Url::parse(&uri) {
                Ok(u) => u,
                Err(_) => return bad("post_logout_redirect_uri is not a URL."),
            };
            if let Some(s) = params.get("state") {
                url.query_pairs_mut().append_pair("state", s);
            }
            (
                jar,
                [(header::LOCATION, url.to_string())],
                StatusCode::FOUND,
            )
                .into_response()
        }
        None => {
            let page = LogoutPage {
                realm: &state.realm.name,
                done: true,
                action: "",
                hidden: Vec::new(),
                csrf: "",
            };
            (jar, pages::html(StatusCode::OK, &page)).into_response()
        }
    })
}
