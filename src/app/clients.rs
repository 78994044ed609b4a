//! Registering OAuth clients: from the CLI and from `[[clients]]` seeding,
//! and the built-in `domino-play` (see `domain::client::builtin_domino_play`),
//! which a client of the same id from either replaces.

use crate::domain::client::{
    ADMIN_CONSOLE, Client, ClientSpec, builtin_admin_console, builtin_domino_play,
};
use crate::store::{Store, StoreError};

pub use crate::app::SpecError as ClientError;

/// Registers a client; returns it with the generated secret, if one was
/// generated. A client of the built-in `domino-play`'s id replaces it.
pub async fn create(
    store: &dyn Store,
    spec: &ClientSpec,
) -> Result<(Client, Option<String>), ClientError> {
    let (client, secret) = Client::from_spec(spec)?;
    match store.insert_client(&client).await {
        Ok(()) => Ok((client, secret)),
        Err(StoreError::Conflict(why)) => {
            if replace_builtin(store, &client).await? {
                Ok((client, secret))
            } else {
                Err(StoreError::Conflict(why).into())
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Replaces the stored client of `client`'s id with `client` if the stored
/// one is the built-in `domino-play`; false, with nothing written, if it is
/// anything else. The built-in client has no codes or refresh tokens, so
/// deleting it loses nothing. Not atomic (the client store has no
/// compare-and-swap): processes replacing it at the same moment each delete
/// and insert, and the last insert stands, or one insert conflicts; at
/// start-up they all seed the same `[[clients]]` entry.
async fn replace_builtin(store: &dyn Store, client: &Client) -> Result<bool, StoreError> {
    match store.get_client(&client.client_id).await? {
        Some(existing) if existing.is_builtin() => {}
        _ => return Ok(false),
    }
    store.delete_client(&client.client_id).await?;
    store.insert_client(client).await?;
    tracing::info!(client_id = %client.client_id, "replaced the built-in client");
    Ok(true)
}

/// Applies `[[clients]]` idempotently: a client that exists is left exactly as
/// it is (remove it with the CLI to re-seed it), unless it is the built-in
/// `domino-play`, which a `[[clients]]` entry of that id replaces. Returns
/// how many were created.
pub async fn seed(store: &dyn Store, specs: &[ClientSpec]) -> Result<usize, ClientError> {
    let mut created = 0;
    for spec in specs {
        // Config validation has refused confidential clients without a secret,
        // so nothing is generated here that could be lost.
        let (client, _) = Client::from_spec(spec)?;
        // Instances starting together may create the built-in client or
        // replace it while this one looks: look again, a few times.
        for _ in 0..3 {
            match store.get_client(&spec.client_id).await? {
                Some(existing) if existing.is_builtin() && !client.is_builtin() => {
                    match replace_builtin(store, &client).await {
                        Ok(true) => {
                            created += 1;
                            break;
                        }
                        Ok(false) | Err(StoreError::Conflict(_)) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                Some(_) => break,
                None => {
                    if store.insert_client_if_absent(&client).await? {
                        created += 1;
                        tracing::info!(client_id = %client.client_id, "seeded client");
                        break;
                    }
                }
            }
        }
    }
    Ok(created)
}

/// Creates the built-in `domino-play` unless a client of that id exists;
/// true when it was created. Safe when several processes start at once.
pub async fn ensure_builtin(store: &dyn Store) -> Result<bool, ClientError> {
    let (client, _) = Client::from_spec(&builtin_domino_play())?;
    let created = store.insert_client_if_absent(&client).await?;
    if created {
        tracing::info!(client_id = %client.client_id, "created the built-in client");
    }
    Ok(created)
}

/// Creates the built-in `admin-console` for `base_url` unless a client of
/// that id exists; re-points a built-in one made for another base URL (the
/// port moved). A configured `admin-console` is left as it is. True when
/// something was written.
pub async fn ensure_admin_console(store: &dyn Store, base_url: &str) -> Result<bool, ClientError> {
    let (client, _) = Client::from_spec(&builtin_admin_console(base_url))?;
    match store.get_client(ADMIN_CONSOLE).await? {
        Some(existing)
            if existing.is_builtin() && existing.redirect_uris != client.redirect_uris =>
        {
            store.delete_client(ADMIN_CONSOLE).await?;
            let written = store.insert_client_if_absent(&client).await?;
            tracing::info!(client_id = ADMIN_CONSOLE, redirect_uri = %client.redirect_uris.join(" "), "re-pointed the built-in client");
            Ok(written)
        }
        Some(_) => Ok(false),
        None => {
            let created = store.insert_client_if_absent(&client).await?;
            if created {
                tracing::info!(client_id = ADMIN_CONSOLE, "created the built-in client");
            }
            Ok(created)
        }
    }
}
