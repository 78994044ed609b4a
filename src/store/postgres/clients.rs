//! OAuth clients' SQL, shared with the other backend (`store::shared::clients`).

use super::PgStore;

crate::store::shared::client_store!(PgStore, pool, pool, "::jsonb", "::text");
