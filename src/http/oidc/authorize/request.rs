//! The authorization request: parsing and checking it in RFC 6749 §4.1.2.1's
//! order, and building the redirects back to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::Issuer;
use crate::app::oidc::grants::valid_verifier;
use crate::app::oidc::{Params, scope};
use crate::domain::client::{Client, ClientId, GrantType, RedirectUri};
use crate::store::StoreError;

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
pub(super) struct AuthRequest {
    pub(super) client: Client,
    pub(super) redirect_uri: RedirectUri,
    pub(super) mode: ResponseMode,
    pub(super) scope: Option<String>,
    pub(super) state: Option<String>,
    pub(super) nonce: Option<String>,
    pub(super) code_challenge: Option<String>,
    pub(super) prompt: Vec<String>,
    pub(super) max_age: Option<i64>,
    pub(super) login_hint: Option<String>,
    pub(super) carried: Vec<(&'static str, String)>,
}

pub(super) enum Refusal {
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
        Ok(location) => (status, [(header::LOCATION, location)]).into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "bad redirect").into_response(),
    }
}

/// How the response parameters travel back (OAuth 2.0 Multiple Response Types §2).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ResponseMode {
    /// Added to the redirect URI's query (keeping any it has); the default for `code`.
    Query,
    /// In the fragment, as keycloak-js asks by default.
    Fragment,
}

pub(super) fn redirect_with(
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

pub(super) async fn validate(
    state: &Issuer,
    params: &Params,
    status: StatusCode,
) -> Result<AuthRequest, Refusal> {
    let page = |m: &str| Refusal::Page(StatusCode::BAD_REQUEST, m.to_owned());
    let client_id = params
        .get("client_id")
        .ok_or_else(|| page("The request names no client (client_id is missing)."))?;
    let unknown =
        || page("The application that sent you here is not registered with this sign-in service.");
    let client_id = ClientId::parse(client_id).map_err(|_| unknown())?;
    let client = state
        .store
        .get_client(&client_id)
        .await?
        .ok_or_else(unknown)?;
    let presented = params
        .get("redirect_uri")
        .ok_or_else(|| page("The request has no redirect_uri."))?;
    let redirect_uri = client.redirect_uri(presented).cloned().ok_or_else(|| {
        page("The application asked to return to an address it has not registered (redirect_uri).")
    })?;
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
    pub(super) fn prompts(&self, p: &str) -> bool {
        self.prompt.iter().any(|x| x == p)
    }

    pub(super) fn error(&self, issuer: &str, error: &str, description: &str) -> Response {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if let Some(s) = &self.state {
            pairs.push(("state", s));
        }
        pairs.push(("iss", issuer));
        redirect_with(&self.redirect_uri, self.mode, &pairs, StatusCode::FOUND)
    }
}
