//! Roles' SQL.

/// `impl RoleStore for $store`, reading from `self.$read` and writing
/// through `self.$write`; the composites are JSON, written as `$4` followed
/// by `$json_in` and read back as text with `$json_out`.
macro_rules! role_store {
    ($store:ty, $read:ident, $write:ident, $json_in:literal, $json_out:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::RoleStore for $store {
            async fn insert_role(&self, role: &$crate::domain::role::Role, if_absent: bool) -> Result<bool, $crate::store::StoreError> {
                let sql = format!(
                    concat!(
                        "INSERT INTO roles (client_id, name, description, composites, created_at)
                         VALUES ($1, $2, $3, $4",
                        $json_in,
                        ", $5) {}"
                    ),
                    $crate::store::shared::on_conflict(if_absent, "client_id, name")
                );
                let done = sqlx::query(&sql)
                    .bind($crate::store::rows::role_client(&role.role))
                    .bind(&role.role.name)
                    .bind(role.description.as_deref())
                    .bind($crate::store::rows::to_json(&role.composites))
                    .bind($crate::store::now())
                    .execute(&self.$write)
                    .await
                    .map_err(|e| {
                        $crate::store::shared::conflict_or_unavailable(e, || format!("the role {} already exists", role.role))
                    })?;
                Ok(done.rows_affected() == 1)
            }

            async fn list_roles(&self) -> Result<Vec<$crate::domain::role::Role>, $crate::store::StoreError> {
                let sql = concat!(
                    "SELECT client_id, name, description, composites",
                    $json_out,
                    " FROM roles ORDER BY client_id, name"
                );
                $crate::store::shared::all_rows(sqlx::query_as(sql), &self.$read, $crate::store::rows::role_from_row)
                    .await
            }

            async fn delete_role(&self, role: &$crate::domain::role::RoleRef) -> Result<bool, $crate::store::StoreError> {
                if $crate::store::shared::unstorable(&role.name) {
                    return Ok(false);
                }
                let mut tx = self.$write.begin().await.map_err($crate::store::shared::unavailable)?;
                sqlx::query("DELETE FROM role_grants WHERE role_client = $1 AND role_name = $2")
                    .bind($crate::store::rows::role_client(role))
                    .bind(&role.name)
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::store::shared::unavailable)?;
                let done = sqlx::query("DELETE FROM roles WHERE client_id = $1 AND name = $2")
                    .bind($crate::store::rows::role_client(role))
                    .bind(&role.name)
                    .execute(&mut *tx)
                    .await
                    .map_err($crate::store::shared::unavailable)?;
                tx.commit().await.map_err($crate::store::shared::unavailable)?;
                Ok(done.rows_affected() == 1)
            }

            async fn grant_role(&self, holder: &$crate::domain::role::Holder, role: &$crate::domain::role::RoleRef) -> Result<bool, $crate::store::StoreError> {
                if $crate::store::shared::unstorable(holder.id()) {
                    return Err($crate::store::StoreError::Conflict(format!(
                        "{holder} cannot be stored (NUL byte)"
                    )));
                }
                let query = sqlx::query(
                    "INSERT INTO role_grants (holder_kind, holder_id, role_client, role_name, created_at)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(holder.kind())
                .bind(holder.id())
                .bind($crate::store::rows::role_client(role))
                .bind(&role.name)
                .bind($crate::store::now());
                $crate::store::shared::Write(query).changed_one(&self.$write).await
            }

            async fn revoke_role(&self, holder: &$crate::domain::role::Holder, role: &$crate::domain::role::RoleRef) -> Result<bool, $crate::store::StoreError> {
                let query = sqlx::query(
                    "DELETE FROM role_grants
                     WHERE holder_kind = $1 AND holder_id = $2 AND role_client = $3 AND role_name = $4",
                )
                .bind(holder.kind())
                .bind(holder.id())
                .bind($crate::store::rows::role_client(role))
                .bind(&role.name);
                $crate::store::shared::Write(query).change_row(&[holder.id(), &role.name], &self.$write).await
            }

            /// Every grant when `holders` is empty; else the grants of those
            /// holders (a token's are a few: the user or client and its
            /// groups' paths) in one statement of primary-key lookups, not a
            /// scan of every grant.
            async fn role_grants(
                &self,
                holders: &[$crate::domain::role::Holder],
            ) -> Result<Vec<$crate::store::RoleGrant>, $crate::store::StoreError> {
                use std::fmt::Write as _;
                let mut sql = String::from(
                    "SELECT holder_kind, holder_id, role_client, role_name FROM role_grants",
                );
                for (i, _) in holders.iter().enumerate() {
                    let _ = write!(
                        sql,
                        "{} (holder_kind = ${} AND holder_id = ${})",
                        if i == 0 { " WHERE" } else { " OR" },
                        2 * i + 1,
                        2 * i + 2
                    );
                }
                sql.push_str(" ORDER BY holder_kind, holder_id, role_client, role_name");
                let mut query = sqlx::query_as(&sql);
                for holder in holders {
                    query = query.bind(holder.kind()).bind(holder.id());
                }
                let rows: Vec<$crate::store::rows::GrantRow> = query
                    .fetch_all(&self.$read)
                    .await
                    .map_err($crate::store::shared::unavailable)?;
                Ok($crate::store::rows::grants_from_rows(rows, holders))
            }
        }
    };
}

pub(crate) use role_store;
