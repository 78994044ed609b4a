//! Claim mappers' SQL.

use async_trait::async_trait;

use super::{PgStore, conflict_or_unavailable, from_json, to_json, unavailable, unstorable};
use crate::domain::mapper::MapperSpec;
use crate::store::{MapperStore, StoreError, now};

impl PgStore {
    async fn write_mapper(&self, spec: &MapperSpec, if_absent: bool) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO mappers (name, spec, created_at) VALUES ($1, $2::jsonb, $3) {}",
            if if_absent {
                "ON CONFLICT (name) DO NOTHING"
            } else {
                ""
            }
        );
        let done = sqlx::query(&sql)
            .bind(&spec.name)
            .bind(to_json(spec))
            .bind(now())
            .execute(&self.pool)
            .await
            .map_err(|e| {
                conflict_or_unavailable(e, || {
                    format!("a mapper named {:?} already exists", spec.name)
                })
            })?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl MapperStore for PgStore {
    async fn insert_mapper(&self, spec: &MapperSpec) -> Result<(), StoreError> {
        self.write_mapper(spec, false).await.map(|_| ())
    }

    async fn insert_mapper_if_absent(&self, spec: &MapperSpec) -> Result<bool, StoreError> {
        self.write_mapper(spec, true).await
    }

    /// In the order they were added: `seq` is Postgres's stand-in for SQLite's rowid.
    async fn list_mappers(&self) -> Result<Vec<MapperSpec>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, spec::text FROM mappers ORDER BY created_at, seq")
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable)?;
        rows.iter()
            .map(|(name, spec)| from_json(&format!("mapper {name}"), spec))
            .collect()
    }

    async fn delete_mapper(&self, name: &str) -> Result<bool, StoreError> {
        if unstorable(name) {
            return Ok(false);
        }
        let done = sqlx::query("DELETE FROM mappers WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }
}
