//! Refresh tokens shaped like Keycloak's: JWTs with `typ: "Refresh"`,
//! signed HS512 with a realm-internal secret that the JWKS never publishes,
//! so no resource server verifying against the JWKS can take one for an
//! access token, while clients that read them (keycloak-js decodes its
//! refresh token without verifying it) can. The JWT form is only a shape:
//! the store stays the authority. A refresh token counts only when the
//! digest of the exact string is stored (single use, rotated, family-revoked
//! on reuse), so the signature is never what makes one valid, and an opaque
//! token issued before JWTs keeps working until it expires.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::app::Issuer;
use crate::app::oidc::OAuthError;
use crate::domain::opaque;
use crate::domain::token::Claims;
use crate::store::{RefreshClaim, StoreError};

/// The store's name for the HMAC key.
const SECRET_NAME: &str = "refresh-token-hs512";
/// HMAC-SHA512 wants a key at least as long as its output: 64 bytes.
const SECRET_BYTES: usize = 64;

/// The realm's refresh-token key, read from the store once per process.
pub struct RefreshKey(EncodingKey);

impl std::fmt::Debug for RefreshKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshKey([redacted])")
    }
}

/// What a refresh token says about itself, for the JWT.
pub struct RefreshClaims<'a> {
    pub subject: &'a str,
    pub client_id: &'a str,
    pub session_id: &'a str,
    pub scope: &'a str,
    pub issued_at: i64,
    pub expires_at: i64,
}

impl Issuer {
    /// The key every instance on this database shares: created by the first
    /// to ask (`RealmSecretStore::realm_secret` settles a race), then kept.
    async fn refresh_key(&self) -> Result<&RefreshKey, StoreError> {
        self.refresh_key
            .get_or_try_init(|| async {
                let candidate = URL_SAFE_NO_PAD.encode(opaque::random_bytes::<SECRET_BYTES>());
                let stored = self
                    .store
                    .realm_secret(SECRET_NAME, &candidate, self.clock.now())
                    .await?;
                let bytes = URL_SAFE_NO_PAD
                    .decode(stored.as_bytes())
                    .ok()
                    .filter(|b| b.len() >= SECRET_BYTES)
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("realm secret {SECRET_NAME} is unusable"))
                    })?;
                Ok(RefreshKey(EncodingKey::from_secret(&bytes)))
            })
            .await
    }

    /// A new refresh token: a fresh `jti` makes every one distinct.
    pub async fn sign_refresh_token(&self, c: &RefreshClaims<'_>) -> Result<String, OAuthError> {
        let key = self.refresh_key().await?;
        let mut claims = Claims::new();
        for (name, value) in [
            ("exp", json!(c.expires_at)),
            ("iat", json!(c.issued_at)),
            ("jti", json!(uuid::Uuid::new_v4().to_string())),
            ("iss", json!(self.policy.issuer)),
            // Keycloak's: the realm itself is the audience of a refresh token.
            ("aud", json!(self.policy.issuer)),
            ("sub", json!(c.subject)),
            ("typ", json!("Refresh")),
            ("azp", json!(c.client_id)),
            ("sid", json!(c.session_id)),
            ("session_state", json!(c.session_id)),
            ("scope", json!(c.scope)),
        ] {
            claims.insert(name.into(), value);
        }
        jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &key.0)
            .map_err(OAuthError::server_error)
    }
}

/// Whether a presented token is one of our refresh tokens by its form: an
/// HS512 JWT, or (issued before refresh tokens were JWTs) not a JWT at all.
/// Access and ID tokens are RS256 JWTs. The store decides the rest.
pub fn looks_like_refresh(token: &str) -> bool {
    if token.split('.').count() != 3 {
        return true;
    }
    jsonwebtoken::decode_header(token).is_ok_and(|h| h.alg == Algorithm::HS512)
}

/// The answer to a refresh token that cannot be spent. A replay (a token
/// already rotated) revokes its family; the session stays, so that of two
/// requests racing with one token exactly one wins (and its new refresh
/// token, of the revoked family, is dead too).
pub async fn refused(state: &Issuer, claim: RefreshClaim) -> Result<OAuthError, StoreError> {
    Ok(match claim {
        RefreshClaim::Replayed(record) => {
            let revoked = state
                .store
                .revoke_family(&record.family_id, state.clock.now())
                .await?;
            state.metrics.refresh_reuse();
            tracing::warn!(
                target: "audit",
                event = "refresh.reuse",
                client_id = %record.client_id,
                user_id = %record.user_id,
                family_id = %record.family_id,
                revoked,
                "refresh token replayed: family revoked"
            );
            OAuthError::invalid_grant(
                "refresh token has already been used; every refresh token of its family is revoked",
            )
        }
        RefreshClaim::Claimed(_) | RefreshClaim::Inactive | RefreshClaim::Unknown => {
            OAuthError::invalid_grant("refresh token is invalid, expired or revoked")
        }
    })
}
