//! Client authentication at the token, introspection and revocation
//! endpoints: `client_secret_basic`, `client_secret_post`, or `none` for
//! public clients (RFC 6749 §2.3.1).

use axum::http::{HeaderMap, header};
use axum_extra::headers::authorization::{Basic, Credentials};

use crate::app::Issuer;
use crate::app::config_cache::Snapshot;
use crate::app::oidc::{OAuthError, Params};
use crate::domain::client::{Client, ClientId};

/// Who the caller says it is and what it proves it with.
struct Presented {
    client_id: String,
    secret: Option<String>,
    via_basic: bool,
}

fn form_decode(raw: &str) -> Option<String> {
    // RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64.
    let decoded: String = url::form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    (!decoded.contains('\u{fffd}')).then_some(decoded)
}

fn presented(headers: &HeaderMap, params: &Params, realm: &str) -> Result<Presented, OAuthError> {
    let basic_failure = |d: &str| OAuthError::invalid_client(d.to_owned(), Some(realm));
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let is_basic = value
            .as_bytes()
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"basic "));
        if !is_basic {
            return Err(basic_failure(
                "unsupported Authorization scheme; use HTTP Basic with the client id and secret",
            ));
        }
        let basic = Basic::decode(value)
            .ok_or_else(|| basic_failure("malformed HTTP Basic credentials"))?;
        let client_id = form_decode(basic.username())
            .ok_or_else(|| basic_failure("malformed HTTP Basic credentials"))?;
        let secret = form_decode(basic.password())
            .ok_or_else(|| basic_failure("malformed HTTP Basic credentials"))?;
        if params.get("client_secret").is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method: HTTP Basic or client_secret, not both",
            ));
        }
        if params.get("client_id").is_some_and(|id| id != client_id) {
            return Err(OAuthError::invalid_request(
                "client_id differs from the HTTP Basic user name",
            ));
        }
        return Ok(Presented {
            client_id,
            secret: Some(secret),
            via_basic: true,
        });
    }
    let client_id = params.get("client_id").ok_or_else(|| {
        OAuthError::invalid_client(
            "client authentication is required: HTTP Basic, client_secret_post, or client_id for public clients",
            None,
        )
    })?;
    Ok(Presented {
        client_id: client_id.to_owned(),
        secret: params.get("client_secret").map(str::to_owned),
        via_basic: false,
    })
}

/// Authenticates the calling client. Every failure is `invalid_client` (401),
/// with a Basic challenge when the client tried Basic.
pub async fn authenticate(
    state: &Issuer,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Client, OAuthError> {
    let config = state.configuration().await?;
    authenticate_in(state, &config, headers, params)
}

/// `authenticate` against a configuration the caller read already (the
/// token endpoint reads it once per token).
pub fn authenticate_in(
    state: &Issuer,
    config: &Snapshot,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Client, OAuthError> {
    let realm = state.realm.name.as_str();
    let p = presented(headers, params, realm)?;
    let fail = |d: &str| OAuthError::invalid_client(d.to_owned(), p.via_basic.then_some(realm));
    let Ok(client_id) = ClientId::parse(&p.client_id) else {
        return Err(fail("unknown client or bad credentials"));
    };
    let Some(client) = config.client(&client_id).cloned() else {
        return Err(fail("unknown client or bad credentials"));
    };
    match (
        client.is_public(),
        p.secret.as_deref().filter(|s| !s.is_empty()),
    ) {
        (true, None) => Ok(client),
        (true, Some(_)) => Err(fail("a public client does not authenticate with a secret")),
        (false, None) => Err(fail("this client must authenticate with its secret")),
        (false, Some(secret)) if client.secret_matches(secret) => Ok(client),
        (false, Some(_)) => Err(fail("unknown client or bad credentials")),
    }
}
