//! Claim mappers' SQL.

use async_trait::async_trait;

use super::{SqliteStore, from_json, to_json, unavailable};
use crate::domain::mapper::MapperSpec;
use crate::store::{MapperStore, StoreError, now};

impl SqliteStore {
    async fn write_mapper(&self, spec: &MapperSpec, if_absent: bool) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO mappers (name, spec, created_at) VALUES (?, ?, ?) {}",
            if if_absent {
                "ON CONFLICT(name) DO NOTHING"
            } else {
                ""
            }
        );
        let done = sqlx::query(&sql)
            .bind(&spec.name)
            .bind(to_json(spec))
            .bind(now())
            .execute(&self.writer)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::Conflict(format!("a mapper named {:?} already exists", spec.name))
                }
                _ => unavailable(e),
            })?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl MapperStore for SqliteStore {
    async fn insert_mapper(&self, spec: &MapperSpec) -> Result<(), StoreError> {
        self.write_mapper(spec, false).await.map(|_| ())
    }

    async fn insert_mapper_if_absent(&self, spec: &MapperSpec) -> Result<bool, StoreError> {
        self.write_mapper(spec, true).await
    }

    async fn list_mappers(&self) -> Result<Vec<MapperSpec>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, spec FROM mappers ORDER BY created_at, rowid")
                .fetch_all(&self.pool)
                .await
                .map_err(unavailable)?;
        rows.iter()
            .map(|(name, spec)| from_json(&format!("mapper {name}"), spec))
            .collect()
    }

    async fn delete_mapper(&self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM mappers WHERE name = ?")
            .bind(name)
            .execute(&self.writer)
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }
}
