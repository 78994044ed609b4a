//! The web console's sessions' SQL, shared with the other backend
//! (`store::shared::console`).

use super::PgStore;

crate::store::shared::console_store!(PgStore, pool, pool);
