//! Registering OAuth clients: from the CLI and from `[[clients]]` seeding.

use crate::domain::client::{Client, ClientSpec};
use crate::domain::user::InvalidInput;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Registers a client; returns it with the generated secret, if one was generated.
pub async fn create(
    store: &dyn Store,
    spec: &ClientSpec,
) -> Result<(Client, Option<String>), ClientError> {
    let (client, secret) = Client::from_spec(spec)?;
    store.insert_client(&client).await?;
    Ok((client, secret))
}

/// Applies `[[clients]]` idempotently: a client that exists is left exactly as
/// it is (remove it with the CLI to re-seed it). Returns how many were created.
pub async fn seed(store: &dyn Store, specs: &[ClientSpec]) -> Result<usize, ClientError> {
    let mut created = 0;
    for spec in specs {
        if store.get_client(&spec.client_id).await?.is_some() {
            continue;
        }
        // Config validation has refused confidential clients without a secret,
        // so nothing is generated here that could be lost.
        let (client, _) = Client::from_spec(spec)?;
        if store.insert_client_if_absent(&client).await? {
            created += 1;
            tracing::info!(client_id = %client.client_id, "seeded client");
        }
    }
    Ok(created)
}
