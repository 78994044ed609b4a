//! Roles' SQL, shared with the other backend (`store::shared::roles`).

use super::PgStore;

crate::store::shared::role_store!(PgStore, pool, pool, "::jsonb", "::text");
