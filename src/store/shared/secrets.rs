//! Realm-internal secrets' SQL.

/// `impl RealmSecretStore for $store`, writing (and reading back its own
/// write) through `self.$write`.
macro_rules! realm_secret_store {
    ($store:ty, $write:ident) => {
        #[async_trait::async_trait]
        impl $crate::store::RealmSecretStore for $store {
            async fn realm_secret(
                &self,
                name: &str,
                candidate: &str,
                now: i64,
            ) -> Result<String, $crate::store::StoreError> {
                use $crate::store::shared::unavailable;
                // Whoever inserts first wins; everyone reads the winner's.
                // The row never changes once written.
                sqlx::query(
                    "INSERT INTO realm_secrets (name, secret, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(candidate)
                .bind(now)
                .execute(&self.$write)
                .await
                .map_err(unavailable)?;
                let (secret,): (String,) =
                    sqlx::query_as("SELECT secret FROM realm_secrets WHERE name = $1")
                        .bind(name)
                        .fetch_one(&self.$write)
                        .await
                        .map_err(unavailable)?;
                Ok(secret)
            }
        }
    };
}

pub(crate) use realm_secret_store;
