//! Roles' SQL.

use async_trait::async_trait;

use super::{PgStore, conflict_or_unavailable, to_json, unavailable, unstorable};
use crate::domain::role::{Holder, Role, RoleRef};
use crate::store::rows::{GrantRow, RoleRow, grants_from_rows, role_client, role_from_row};
use crate::store::{RoleGrant, RoleStore, StoreError, now};

#[async_trait]
impl RoleStore for PgStore {
    async fn insert_role(&self, role: &Role, if_absent: bool) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO roles (client_id, name, description, composites, created_at)
             VALUES ($1, $2, $3, $4::jsonb, $5) {}",
            if if_absent {
                "ON CONFLICT (client_id, name) DO NOTHING"
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
            .execute(&self.pool)
            .await
            .map_err(|e| {
                conflict_or_unavailable(e, || format!("the role {} already exists", role.role))
            })?;
        Ok(done.rows_affected() == 1)
    }

    async fn list_roles(&self) -> Result<Vec<Role>, StoreError> {
        let rows: Vec<RoleRow> = sqlx::query_as(
            "SELECT client_id, name, description, composites::text FROM roles ORDER BY client_id, name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.into_iter().map(role_from_row).collect()
    }

    async fn delete_role(&self, role: &RoleRef) -> Result<bool, StoreError> {
        if unstorable(&role.name) {
            return Ok(false);
        }
        let mut tx = self.pool.begin().await.map_err(unavailable)?;
        sqlx::query("DELETE FROM role_grants WHERE role_client = $1 AND role_name = $2")
            .bind(role_client(role))
            .bind(&role.name)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        let done = sqlx::query("DELETE FROM roles WHERE client_id = $1 AND name = $2")
            .bind(role_client(role))
            .bind(&role.name)
            .execute(&mut *tx)
            .await
            .map_err(unavailable)?;
        tx.commit().await.map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn grant_role(&self, holder: &Holder, role: &RoleRef) -> Result<bool, StoreError> {
        if unstorable(holder.id()) {
            return Err(StoreError::Conflict(format!(
                "{holder} cannot be stored (NUL byte)"
            )));
        }
        let done = sqlx::query(
            "INSERT INTO role_grants (holder_kind, holder_id, role_client, role_name, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(holder.kind())
        .bind(holder.id())
        .bind(role_client(role))
        .bind(&role.name)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_role(&self, holder: &Holder, role: &RoleRef) -> Result<bool, StoreError> {
        if unstorable(holder.id()) || unstorable(&role.name) {
            return Ok(false);
        }
        let done = sqlx::query(
            "DELETE FROM role_grants
             WHERE holder_kind = $1 AND holder_id = $2 AND role_client = $3 AND role_name = $4",
        )
        .bind(holder.kind())
        .bind(holder.id())
        .bind(role_client(role))
        .bind(&role.name)
        .execute(&self.pool)
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
