//! Realm-internal secrets' SQL.

/// `impl RealmSecretStore for $store`, writing through `self.$write`.
/// Whoever inserts first wins and everyone reads the winner's: the no-op
/// update on conflict makes `RETURNING` give the stored row to the loser of
/// a race too (on Postgres it waits for the winner's commit), and the row
/// never changes once written.
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
                let (secret,): (String,) = sqlx::query_as(
                    "INSERT INTO realm_secrets (name, secret, created_at) VALUES ($1, $2, $3)
                     ON CONFLICT (name) DO UPDATE SET name = excluded.name
                     RETURNING secret",
                )
                .bind(name)
                .bind(candidate)
                .bind(now)
                .fetch_one(&self.$write)
                .await
                .map_err($crate::store::shared::unavailable)?;
                Ok(secret)
            }
        }
    };
}

pub(crate) use realm_secret_store;
