//! Realm-internal secrets' SQL.

use async_trait::async_trait;

use super::{PgStore, unavailable};
use crate::store::{RealmSecretStore, StoreError};

#[async_trait]
impl RealmSecretStore for PgStore {
    async fn realm_secret(
        &self,
        name: &str,
        candidate: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        // ON CONFLICT DO NOTHING returns no row to the loser of a race, so
        // the insert is followed by a read; the row never changes once written.
        sqlx::query(
            "INSERT INTO realm_secrets (name, secret, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        let (secret,): (String,) =
            sqlx::query_as("SELECT secret FROM realm_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await
                .map_err(unavailable)?;
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    //! The shared scenario, against the server `IDP_TEST_POSTGRES_URL`
    //! names (skipped when it is unset).
    use std::sync::Arc;

    use crate::store::postgres::testdb;
    use crate::store::scenarios;

    #[tokio::test]
    async fn the_first_secret_stays() {
        let Some((store, _)) = testdb::fresh().await else {
            return;
        };
        scenarios::realm_secret_is_created_once(Arc::new(store)).await;
    }
}
