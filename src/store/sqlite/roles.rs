//! Roles' SQL.

use async_trait::async_trait;

use super::{SqliteStore, to_json, unavailable};
use crate::domain::role::{Holder, Role, RoleRef};
use crate::store::rows::{GrantRow, RoleRow, grants_from_rows, role_client, role_from_row};
use crate::store::{RoleGrant, RoleStore, StoreError, now};

#[async_trait]
impl RoleStore for SqliteStore {
    async fn insert_role(&self, role: &Role, if_absent: bool) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO roles (client_id, name, description, composites, created_at)
             VALUES (?, ?, ?, ?, ?) {}",
            if if_absent {
                "ON CONFLICT(client_id, name) DO NOTHING"
            } else {
                ""
            }
        );
        let done = sqlx::query(&sql)
            .bind(role_client(&role.role))
            .bind(&role.role.name)
            .bind(role.description.as_deref())
            .bind(to_json(&role.composites))
            .bind(now())
            .execute(&self.writer)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    StoreError::Conflict(format!("the role {} already exists", role.role))
                }
                _ => unavailable(e),
            })?;
        Ok(done.rows_affected() == 1)
    }

    async fn list_roles(&self) -> Result<Vec<Role>, StoreError> {
        let rows: Vec<RoleRow> = sqlx::query_as(
            "SELECT client_id, name, description, composites FROM roles ORDER BY client_id, name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.into_iter().map(role_from_row).collect()
    }

    async fn delete_role(&self, role: &RoleRef) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await.map_err(unavailable)?;
        sqlx::query("DELETE FROM role_grants WHERE role_client = ? AND role_name = ?")
            .bind(role_client(role))
            .bind(&role.name)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        let done = sqlx::query("DELETE FROM roles WHERE client_id = ? AND name = ?")
            .bind(role_client(role))
            .bind(&role.name)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn grant_role(&self, holder: &Holder, role: &RoleRef) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO role_grants (holder_kind, holder_id, role_client, role_name, created_at)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(holder.kind())
        .bind(holder.id())
        .bind(role_client(role))
        .bind(&role.name)
        .bind(now())
        .execute(&self.writer)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_role(&self, holder: &Holder, role: &RoleRef) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "DELETE FROM role_grants
             WHERE holder_kind = ? AND holder_id = ? AND role_client = ? AND role_name = ?",
        )
        .bind(holder.kind())
        .bind(holder.id())
        .bind(role_client(role))
        .bind(&role.name)
        .execute(&self.writer)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn role_grants(&self, holders: &[Holder]) -> Result<Vec<RoleGrant>, StoreError> {
        let rows: Vec<GrantRow> = sqlx::query_as(
            "SELECT holder_kind, holder_id, role_client, role_name FROM role_grants
             ORDER BY holder_kind, holder_id, role_client, role_name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(grants_from_rows(rows, holders))
    }
}
