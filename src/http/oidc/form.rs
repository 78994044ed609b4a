//! Extractors for OAuth parameters: a form body (token, introspection,
//! revocation), or the query of a GET / the form of a POST (authorize,
//! userinfo, logout). Every failure is an RFC 6749 error, never a 500.

use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};

use crate::app::Issuer;
use crate::app::oidc::{OAuthError, Params};
use crate::http::body::{self, Unread, is_form, require_utf8_form};

/// Parameters from an `application/x-www-form-urlencoded` POST body.
pub struct OAuthForm(pub Params);

/// Parameters from the query (GET) or the form body (POST).
pub struct QueryOrForm(pub Params);

async fn body_params(req: Request, state: &Issuer) -> Result<Params, OAuthError> {
    if !is_form(req.headers()) {
        return Err(OAuthError::invalid_request(
            "send the parameters as application/x-www-form-urlencoded",
        ));
    }
    let bytes = body::read(req, state)
        .await
        .map_err(|unread| match unread {
            Unread::TooLarge(limit) => OAuthError::too_large(limit),
            Unread::Failed => OAuthError::invalid_request("the request body could not be read"),
        })?;
    parse(&bytes)
}

fn parse(form: &[u8]) -> Result<Params, OAuthError> {
    require_utf8_form(form).map_err(OAuthError::invalid_request)?;
    Params::parse(form).map_err(OAuthError::invalid_request)
}

impl FromRequest<Issuer> for OAuthForm {
    type Rejection = OAuthError;

    async fn from_request(req: Request, state: &Issuer) -> Result<Self, Self::Rejection> {
        body_params(req, state).await.map(OAuthForm)
    }
}

impl FromRequest<Issuer> for QueryOrForm {
    type Rejection = OAuthError;

    async fn from_request(req: Request, state: &Issuer) -> Result<Self, Self::Rejection> {
        if req.method() == Method::POST && req.headers().contains_key(header::CONTENT_TYPE) {
            return body_params(req, state).await.map(QueryOrForm);
        }
        let query = req.uri().query().unwrap_or("");
        parse(query.as_bytes()).map(QueryOrForm)
    }
}
