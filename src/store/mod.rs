//! Persistence behind small per-area traits (`UserStore`, `ClientStore`,
//! `MapperStore`, `GrantStore`, `LockoutStore`, `SigningKeyStore`,
//! `ApiKeyStore`, `RealmSecretStore`, `RoleStore`, `ConsoleStore`) that
//! `Store` composes; each backend implements each one directly, in the file
//! of that area, with its own migrations. The traits are in `areas`, the
//! records they take and return in `records`.

mod areas;
mod conns;
pub mod postgres;
mod records;
mod rows;
mod shared;
pub mod sqlite;

use std::sync::Arc;

pub use crate::domain::lockout::LockPolicy;
pub use areas::{
    ApiKeyStore, ClientStore, ConsoleStore, Database, GrantStore, LockoutStore, MapperStore,
    RealmSecretStore, RoleStore, SigningKeyStore, UserStore,
};
pub use records::{
    ApiKeyHolder, ApiKeyRecord, BearerHolder, CodeRecord, CodeRedemption, ConsoleSessionRecord,
    Expiring, FailureKind, LockState, Lockout, RefreshClaim, RefreshHolder, RefreshRecord,
    Reservation, RoleGrant, SessionHolder, SessionRecord, SessionSummary, StoreError, StoredKey,
    StoredKeyDates, UserRecord,
};

/// `Store` and its blanket impl, from one list of the area traits, so that
/// an area added to one is added to the other.
macro_rules! composed_of {
    ($($area:ident),+) => {
        /// Everything the issuer keeps: each backend implements every area
        /// trait directly, in the file of that area; code that needs one
        /// area asks for that trait alone.
        pub trait Store: $($area +)+ 'static {}

        impl<T> Store for T where T: $($area +)+ 'static {}
    };
}

composed_of!(
    Database,
    UserStore,
    ClientStore,
    MapperStore,
    GrantStore,
    LockoutStore,
    SigningKeyStore,
    ApiKeyStore,
    RealmSecretStore,
    RoleStore,
    ConsoleStore
);

/// Opens the store a `database_url` names.
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(database_url).await?))
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::open(database_url).await?))
    } else {
        Err(StoreError::Open(format!(
            "unsupported database_url {:?}; use sqlite://PATH or postgres://USER@HOST/DB",
            crate::config::redacted_url(database_url)
        )))
    }
}

/// Row bookkeeping times (created_at, updated_at); the operations pass
/// their own `now` from the issuer's clock.
pub(crate) fn now() -> i64 {
    use crate::clock::Clock as _;
    crate::clock::SystemClock.now()
}

#[cfg(test)]
pub(crate) mod scenarios;
