//! What the token endpoint reads before it authenticates the client: the
//! configuration (the clients are in it) and, for a refresh grant, the
//! presented token with its user and session. That read carries the
//! configuration's change counter in the same statement, so a refresh makes
//! one read and one write (on Postgres, two round trips) instead of a
//! counter read besides.

use std::sync::Arc;

use crate::app::Issuer;
use crate::app::config_cache::Snapshot;
use crate::app::oidc::params::Params;
use crate::domain::client::GrantType;
use crate::domain::opaque;
use crate::store::{RefreshHolder, StoreError};

pub struct Prefetched {
    pub config: Arc<Snapshot>,
    /// For a refresh grant: the presented token as stored (`Some(None)`:
    /// there is no such token); `None` when it was not read here.
    pub(super) refresh: Option<Option<RefreshHolder>>,
}

impl Prefetched {
    /// A configuration the caller read (a browser's request, read for it by
    /// the CORS layer), and nothing else.
    pub fn config(config: Arc<Snapshot>) -> Prefetched {
        Prefetched {
            config,
            refresh: None,
        }
    }
}

impl Issuer {
    /// The configuration as of now (see `configuration`), read together
    /// with the presented refresh token when the request is a refresh grant.
    pub async fn prefetch(&self, params: &Params) -> Result<Prefetched, StoreError> {
        let refresh =
            params.get("grant_type").and_then(GrantType::parse) == Some(GrantType::RefreshToken);
        if let (true, Some(presented)) = (refresh, params.get("refresh_token")) {
            let found = self
                .store
                .get_refresh_with_holder(&opaque::digest(presented))
                .await?;
            let config = match &found {
                Some(found) => self.configuration_at(found.config_version).await?,
                None => self.configuration().await?,
            };
            return Ok(Prefetched {
                config,
                refresh: Some(found),
            });
        }
        Ok(Prefetched::config(self.configuration().await?))
    }
}
