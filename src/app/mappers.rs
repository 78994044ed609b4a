//! Claim mappers in the store: registering (CLI, `[[mappers]]` seeding) and
//! loading them for minting.

use crate::domain::mapper::{Mapper, MapperSpec};
use crate::domain::user::InvalidInput;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum MapperError {
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Registers a mapper after validating it; `Conflict` when the name is taken.
pub async fn create(store: &dyn Store, spec: &MapperSpec) -> Result<Mapper, MapperError> {
    let mapper = Mapper::from_spec(spec)?;
    store.insert_mapper(spec).await?;
    Ok(mapper)
}

/// Registers a mapper unless one of that name exists (the Keycloak
/// import); true when it was created.
pub async fn create_if_absent(store: &dyn Store, spec: &MapperSpec) -> Result<bool, MapperError> {
    Mapper::from_spec(spec)?;
    Ok(store.insert_mapper_if_absent(spec).await?)
}

/// Applies `[[mappers]]` idempotently: a mapper whose name exists is left as
/// it is (change it with `mapper remove` + `mapper add`). Returns how many
/// were created. The specs were validated with the configuration.
pub async fn seed(store: &dyn Store, specs: &[MapperSpec]) -> Result<usize, MapperError> {
    let mut created = 0;
    for spec in specs {
        Mapper::from_spec(spec)?;
        if store.insert_mapper_if_absent(spec).await? {
            created += 1;
            tracing::info!(mapper = %spec.name, "seeded mapper");
        }
    }
    Ok(created)
}

/// The mappers to apply, in order. A stored definition that no longer
/// validates (edited by hand) is skipped with a warning rather than failing
/// every login.
pub async fn load(store: &dyn Store) -> Result<Vec<Mapper>, StoreError> {
    let specs = store.list_mappers().await?;
    Ok(specs
        .iter()
        .filter_map(|spec| match Mapper::from_spec(spec) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::warn!(error = %e, "stored mapper is invalid; skipped");
                None
            }
        })
        .collect())
}
