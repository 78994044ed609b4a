//! `GET|POST R/protocol/openid-connect/logout`: OpenID Connect RP-Initiated
//! Logout for browsers, and Keycloak's adapter form (POST with the client's
//! credentials and a `refresh_token`) for back ends. The decisions are the
//! operations' (`Issuer::browser_logout`, `end_session_of_refresh`); this
//! renders the confirmation page, the signed-out page or the redirect.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

use super::client_auth;
use super::form::QueryOrForm;
use super::pages::{self, LogoutPage, SESSION_COOKIE};
use crate::app::Issuer;
use crate::app::oidc::logout::{Logout, LogoutRequest};
use crate::app::oidc::{OAuthError, Params};
use crate::http::error::OAuthErrorBody;
use crate::http::schemas::{InvalidClient, LogoutParams, RealmNotFound};
use crate::store::StoreError;

/// RP-initiated logout, or (with `refresh_token` and client authentication)
/// Keycloak's back-channel logout.
#[utoipa::path(
    get,
    path = super::LOGOUT,
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
    state.end_session_of_refresh(&client, token).await
}

async fn browser(state: &Issuer, jar: CookieJar, params: &Params) -> Result<Response, StoreError> {
    let bad = |m: &str| Ok(pages::error_page(state, StatusCode::BAD_REQUEST, m));
    let request = LogoutRequest {
        id_token_hint: params.get("id_token_hint"),
        client_id: params.get("client_id"),
        post_logout_redirect_uri: params.get("post_logout_redirect_uri"),
        session_cookie: jar.get(SESSION_COOKIE).map(|c| c.value()),
        confirmed: params.get("confirm") == Some("yes") && pages::csrf_ok(&jar, params),
    };
    let redirect = match state.browser_logout(request).await? {
        Logout::Refused(why) => return bad(why),
        Logout::Confirm { client_id } => {
            let (jar, csrf) = pages::csrf_token(state, jar);
            let mut hidden: Vec<(&str, String)> = ["post_logout_redirect_uri", "state"]
                .into_iter()
                .filter_map(|k| params.get(k).map(|v| (k, v.to_owned())))
                .collect();
            if let Some(id) = client_id {
                hidden.insert(0, ("client_id", id));
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
        Logout::Ended { redirect } => redirect,
    };
    let jar = jar
        .add(pages::removal(state, SESSION_COOKIE))
        .add(pages::session_status_removal(state));
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
