//! Migrating and probing a backend.

/// `impl Database for $store`: migrations from `$migrations` applied on a
/// connection of `self.$write`, probes read from `self.$read`. On Postgres sqlx holds an
/// advisory lock (keyed by the database name) while it migrates, so
/// instances starting together apply each step once.
///
/// `config_version`, read for every token, goes through `hot_config_version`
/// with the SQL of `CONFIG_VERSION_SQL`: sqlx's here, or the SQLite backend's
/// own (`store::sqlite::hot`), which invokes only `@common`.
macro_rules! database {
    ($store:ty, $read:ident, $write:ident, $migrations:tt) => {
        $crate::store::shared::database!(@common $store, $read, $write, $migrations);

        impl $store {
            async fn hot_config_version(&self) -> Result<i64, $crate::store::StoreError> {
                use sqlx::Row as _;
                // A read: no ping before it (`Conns::fetch_rerunnable`).
                self.$read
                    .fetch_rerunnable(|| sqlx::query(CONFIG_VERSION_SQL))
                    .await
                    .and_then(|row| row.ok_or(sqlx::Error::RowNotFound)?.try_get(0))
                    .map_err($crate::store::shared::unavailable)
            }
        }
    };
    (@common $store:ty, $read:ident, $write:ident, $migrations:tt) => {
        /// The configuration's change counter (`store::Database::config_version`).
        const CONFIG_VERSION_SQL: &str = "SELECT version FROM config_version WHERE id = 1";

        #[async_trait::async_trait]
        impl $crate::store::Database for $store {
            async fn migrate(&self) -> Result<(), $crate::store::StoreError> {
                let failed = |e: &dyn std::fmt::Display| {
                    $crate::store::StoreError::Open(format!("migration failed: {e}"))
                };
                let mut conn = self.$write.acquire().await.map_err(|e| failed(&e))?;
                // `run_direct`: `run` on a borrowed connection trips the
                // compiler over `Acquire`'s lifetimes in an async trait.
                sqlx::migrate!($migrations)
                    .run_direct(&mut *conn)
                    .await
                    .map_err($crate::store::shared::migration_failed)
            }

            async fn ping(&self) -> Result<(), $crate::store::StoreError> {
                sqlx::query("SELECT 1")
                    .execute(&self.$read)
                    .await
                    .map(|_| ())
                    .map_err($crate::store::shared::unavailable)
            }

            async fn config_version(&self) -> Result<i64, $crate::store::StoreError> {
                self.hot_config_version().await
            }
        }
    };
}

pub(crate) use database;

/// Why the migrations did not run, for the operator: a database that a newer
/// release migrated says so and what to do (docs/postgres.md, "Upgrades"),
/// instead of sqlx's "previously applied but is missing".
pub(crate) fn migration_failed(e: sqlx::migrate::MigrateError) -> crate::store::StoreError {
    use sqlx::migrate::MigrateError;
    crate::store::StoreError::Open(match e {
        MigrateError::VersionMissing(version) => format!(
            "the database was migrated by a newer release of domino-idp (its migration \
             {version} is unknown to this one): run that release or a later one, or \
             restore the database from before the upgrade"
        ),
        e => format!("migration failed: {e}"),
    })
}
