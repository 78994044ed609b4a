//! The authorization endpoint `GET|POST R/protocol/openid-connect/auth` and
//! the login form it shows, posted to `R/login-actions/authenticate`.
//!
//! Order matters (RFC 6749 §4.1.2.1): the client and redirect URI are checked
//! first and a failure there is an error page, never a redirect; every later
//! failure is sent back to the (now trusted) redirect URI.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

use super::form::QueryOrForm;
use super::pages::{self, LoginPage, SESSION_COOKIE};
use crate::domain::client::{Client, GrantType, parse_client_id};
use crate::domain::opaque;
use crate::domain::user::{LoginName, Password, User};
use crate::oidc::grants::valid_verifier;
use crate::oidc::{OAuthError, Params, scope, sessions};
use crate::state::AppState;
use crate::store::{CodeRecord, SessionRecord, StoreError, now};
use crate::users::{self, LoginError};

/// The parameters the login form carries through, as hidden fields.
const CARRIED: [&str; 10] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "max_age",
    "response_mode",
];

/// A validated authorization request.
struct AuthRequest {
    client: Client,
    redirect_uri: String,
    mode: ResponseMode,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    prompt: Vec<String>,
    max_age: Option<i64>,
    login_hint: Option<String>,
    carried: Vec<(&'static str, String)>,
}

enum Refusal {
    /// Shown to the user: the client or redirect URI cannot be trusted.
    Page(StatusCode, String),
    /// Sent back to the client's redirect URI.
    Redirect(Response),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        tracing::warn!(error = %e, "store unavailable during authorization");
        Refusal::Page(
            StatusCode::SERVICE_UNAVAILABLE,
            "The service is temporarily unavailable. Please try again shortly.".into(),
        )
    }
}

fn found(url: &str, status: StatusCode) -> Response {
    match HeaderValue::from_str(url) {
        Ok(location) => (
            status,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "bad redirect").into_response(),
    }
}

/// How the response parameters travel back (OAuth 2.0 Multiple Response Types §2).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ResponseMode {
    /// Added to the redirect URI's query (keeping any it has); the default for `code`.
    Query,
    /// In the fragment, as keycloak-js asks by default.
    Fragment,
}

fn redirect_with(
    redirect_uri: &str,
    mode: ResponseMode,
    pairs: &[(&str, &str)],
    status: StatusCode,
) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return (StatusCode::BAD_REQUEST, "bad redirect").into_response();
    };
    match mode {
        ResponseMode::Query => {
            let mut q = url.query_pairs_mut();
            for (k, v) in pairs {
                q.append_pair(k, v);
            }
        }
        ResponseMode::Fragment => {
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish();
            url.set_fragment(Some(&encoded));
        }
    }
    found(url.as_str(), status)
}

async fn validate(
    state: &AppState,
    params: &Params,
    status: StatusCode,
) -> Result<AuthRequest, Refusal> {
    let page = |m: &str| Refusal::Page(StatusCode::BAD_REQUEST, m.to_owned());
    let client_id = params
        .get("client_id")
        .ok_or_else(|| page("The request names no client (client_id is missing)."))?;
    let unknown =
        || page("The application that sent you here is not registered with this sign-in service.");
    parse_client_id(client_id).map_err(|_| unknown())?;
    let client = state
        .store
        .get_client(client_id)
        .await?
        .ok_or_else(unknown)?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| page("The request has no redirect_uri."))?
        .to_owned();
    if !client.has_redirect_uri(&redirect_uri) {
        return Err(page(
            "The application asked to return to an address it has not registered (redirect_uri).",
        ));
    }
    let client_state = params.get("state").map(str::to_owned);
    let issuer = state.realm.issuer.clone();
    let (mode, mode_ok) = match params.get("response_mode") {
        None | Some("query") => (ResponseMode::Query, true),
        Some("fragment") => (ResponseMode::Fragment, true),
        Some(_) => (ResponseMode::Query, false),
    };
    let refuse = |error: &str, description: &str| {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if let Some(s) = &client_state {
            pairs.push(("state", s));
        }
        pairs.push(("iss", &issuer));
        Refusal::Redirect(redirect_with(&redirect_uri, mode, &pairs, status))
    };
    if !mode_ok {
        return Err(refuse(
            "invalid_request",
            "response_mode must be query or fragment",
        ));
    }
    match params.get("response_type") {
        None => return Err(refuse("invalid_request", "response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err(refuse(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
    }
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(refuse(
            "unauthorized_client",
            "this client may not use the authorization code flow",
        ));
    }
    if params.get("request").is_some() {
        return Err(refuse(
            "request_not_supported",
            "request objects are not supported",
        ));
    }
    if params.get("request_uri").is_some() {
        return Err(refuse(
            "request_uri_not_supported",
            "request_uri is not supported",
        ));
    }
    let challenge = params.get("code_challenge");
    match (challenge, params.get("code_challenge_method")) {
        (Some(c), Some("S256")) if valid_verifier(c) => {}
        (Some(_), Some("S256")) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge must be 43-128 characters of A-Z a-z 0-9 - . _ ~",
            ));
        }
        (Some(_), _) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method must be S256; plain is not supported",
            ));
        }
        (None, Some(_)) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method without code_challenge",
            ));
        }
        (None, None) if client.is_public() => {
            return Err(refuse(
                "invalid_request",
                "PKCE is required for public clients: send code_challenge with code_challenge_method=S256",
            ));
        }
        (None, None) => {}
    }
    let max_age = match params.get("max_age") {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                return Err(refuse(
                    "invalid_request",
                    "max_age must be a non-negative integer",
                ));
            }
        },
    };
    if params
        .get("scope")
        .is_some_and(|s| s.len() > scope::MAX_SCOPE_PARAM)
    {
        return Err(refuse("invalid_scope", "scope is too long"));
    }
    let carried = CARRIED
        .iter()
        .filter_map(|k| params.get(k).map(|v| (*k, v.to_owned())))
        .collect();
    Ok(AuthRequest {
        scope: params.get("scope").map(str::to_owned),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge: challenge.map(str::to_owned),
        prompt: params
            .get("prompt")
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
        max_age,
        login_hint: params.get("login_hint").map(str::to_owned),
        state: client_state.clone(),
        client,
        redirect_uri,
        mode,
        carried,
    })
}

impl AuthRequest {
    fn prompts(&self, p: &str) -> bool {
        self.prompt.iter().any(|x| x == p)
    }

    fn error(&self, issuer: &str, error: &str, description: &str) -> Response {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if let Some(s) = &self.state {
            pairs.push(("state", s));
        }
        pairs.push(("iss", issuer));
        redirect_with(&self.redirect_uri, self.mode, &pairs, StatusCode::FOUND)
    }
}

/// Issues a code for an authenticated session and redirects to the client.
async fn issue_code(
    state: &AppState,
    req: &AuthRequest,
    session: &SessionRecord,
    user: &User,
    status: StatusCode,
) -> Result<Response, StoreError> {
    let code = opaque::generate();
    let now = now();
    let scopes = scope::for_user(&req.client, user, req.scope.as_deref());
    state
        .store
        .insert_code(&CodeRecord {
            code_hash: opaque::digest(&code),
            client_id: req.client.client_id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            user_id: user.id.clone(),
            session_id: session.id.clone(),
            scope: scopes.join(" "),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            auth_time: session.auth_time,
            expires_at: now
                .saturating_add(i64::try_from(state.config.code_ttl).unwrap_or(i64::MAX)),
        })
        .await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &req.state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", &state.realm.issuer));
    tracing::info!(client_id = %req.client.client_id, user_id = %user.id, "authorization code issued");
    Ok(redirect_with(&req.redirect_uri, req.mode, &pairs, status))
}

fn login_form(
    state: &AppState,
    jar: CookieJar,
    req: &AuthRequest,
    username: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let (jar, csrf) = pages::csrf_token(state, jar);
    let action = format!("{}/login-actions/authenticate", state.realm.issuer);
    let page = LoginPage {
        realm: &state.realm.name,
        client_name: req.client.name.as_deref().unwrap_or(&req.client.client_id),
        action: &action,
        hidden: req.carried.clone(),
        csrf: &csrf,
        username,
        error,
    };
    (jar, pages::html(status, &page)).into_response()
}

fn refusal_response(state: &AppState, refusal: Refusal) -> Response {
    match refusal {
        Refusal::Page(status, message) => pages::error_page(state, status, &message),
        Refusal::Redirect(response) => response,
    }
}

/// Parses and validates an authorization request; the response to send when
/// it cannot be accepted.
async fn accept(
    state: &AppState,
    params: Result<QueryOrForm, OAuthError>,
    status: StatusCode,
) -> Result<(Params, AuthRequest), Response> {
    let checked = match params {
        Ok(QueryOrForm(params)) => validate(state, &params, status)
            .await
            .map(|req| (params, req)),
        Err(e) => Err(Refusal::Page(StatusCode::BAD_REQUEST, e.description)),
    };
    checked.map_err(|refusal| refusal_response(state, refusal))
}

/// `GET|POST R/protocol/openid-connect/auth`.
pub async fn authorize(
    State(state): State<AppState>,
    jar: CookieJar,
    params: Result<QueryOrForm, OAuthError>,
) -> Response {
    let (_, req) = match accept(&state, params, StatusCode::FOUND).await {
        Ok(accepted) => accepted,
        Err(response) => return response,
    };
    let issuer = state.realm.issuer.clone();
    if !req.prompts("login")
        && let Some(cookie) = jar.get(SESSION_COOKIE).map(|c| c.value().to_owned())
    {
        match sessions::from_cookie(&state, &cookie).await {
            Ok(Some((session, user)))
                if req
                    .max_age
                    .is_none_or(|age| now() - session.auth_time <= age) =>
            {
                return match issue_code(&state, &req, &session, &user, StatusCode::FOUND).await {
                    Ok(r) => r,
                    Err(e) => refusal_response(&state, e.into()),
                };
            }
            Ok(_) => {}
            Err(e) => return refusal_response(&state, e.into()),
        }
    }
    if req.prompts("none") {
        return req.error(&issuer, "login_required", "the user is not signed in");
    }
    let hint = req.login_hint.clone().unwrap_or_default();
    login_form(&state, jar, &req, &hint, None, StatusCode::OK)
}

/// `POST R/login-actions/authenticate`: the login form's submission.
pub async fn authenticate(
    State(state): State<AppState>,
    jar: CookieJar,
    params: Result<QueryOrForm, OAuthError>,
) -> Response {
    let (params, req) = match accept(&state, params, StatusCode::SEE_OTHER).await {
        Ok(accepted) => accepted,
        Err(response) => return response,
    };
    let typed = params.get("username").unwrap_or("");
    if !pages::csrf_ok(&jar, &params) {
        return login_form(
            &state,
            jar,
            &req,
            typed,
            Some("Your sign-in form expired. Please try again."),
            StatusCode::FORBIDDEN,
        );
    }
    let bad = "Invalid username or password.";
    let (Ok(login), Ok(password)) = (
        LoginName::parse(typed),
        Password::parse(params.get("password").unwrap_or("")),
    ) else {
        return login_form(
            &state,
            jar,
            &req,
            typed,
            Some(bad),
            StatusCode::UNAUTHORIZED,
        );
    };
    let user = match users::authenticate(state.store.as_ref(), &state.passwords, &login, &password)
        .await
    {
        Ok(user) => user,
        Err(LoginError::Refused) => {
            return login_form(
                &state,
                jar,
                &req,
                typed,
                Some(bad),
                StatusCode::UNAUTHORIZED,
            );
        }
        Err(LoginError::Store(e)) => return refusal_response(&state, e.into()),
        Err(LoginError::Hash(e)) => {
            tracing::error!(error = %e, "password check failed");
            return pages::error_page(
                &state,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Please try again.",
            );
        }
    };
    let (session, cookie) = match sessions::start(&state, &user, true).await {
        Ok(started) => started,
        Err(e) => return refusal_response(&state, e.into()),
    };
    let jar = match cookie {
        Some(value) => jar.add(pages::cookie(&state, SESSION_COOKIE, value, false)),
        None => jar,
    };
    match issue_code(&state, &req, &session, &user, StatusCode::SEE_OTHER).await {
        Ok(redirect) => (jar, redirect).into_response(),
        Err(e) => refusal_response(&state, e.into()),
    }
}
