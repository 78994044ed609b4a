//! Claim mappers' SQL.

/// `impl MapperStore for $store`, reading from `self.$read` and writing
/// through `self.$write`. The dialects differ in three fragments: the JSON
/// parameter (`$json_param`, the spec as `$2`), the spec column read back as
/// text (`$json_column`), and the column that keeps insertion order
/// (`$seq`: SQLite's rowid, Postgres's `seq`).
macro_rules! mapper_store {
    ($store:ty, $read:ident, $write:ident, $json_param:literal, $json_column:literal, $seq:literal) => {
        #[async_trait::async_trait]
        impl $crate::store::MapperStore for $store {
            async fn insert_mapper_if_absent(
                &self,
                spec: &$crate::domain::mapper::MapperSpec,
            ) -> Result<bool, $crate::store::StoreError> {
                let query = sqlx::query(concat!(
                    "INSERT INTO mappers (name, spec, created_at) VALUES ($1, ",
                    $json_param,
                    ", $3) ON CONFLICT (name) DO NOTHING"
                ))
                .bind(&spec.name)
                .bind($crate::store::rows::to_json(spec))
                .bind($crate::store::now());
                $crate::store::shared::Write(query)
                    .changed_one(&self.$write)
                    .await
            }

            /// In the order they were added.
            async fn list_mappers(
                &self,
            ) -> Result<Vec<$crate::domain::mapper::MapperSpec>, $crate::store::StoreError> {
                let sql = concat!(
                    "SELECT name, ",
                    $json_column,
                    " FROM mappers ORDER BY created_at, ",
                    $seq
                );
                $crate::store::shared::all_rows(
                    sqlx::query_as(sql),
                    &self.$read,
                    |(name, spec): (String, String)| {
                        $crate::store::rows::from_json(&format!("mapper {name}"), &spec)
                    },
                )
                .await
            }

            async fn delete_mapper(&self, name: &str) -> Result<bool, $crate::store::StoreError> {
                let sql = "DELETE FROM mappers WHERE name = $1";
                $crate::store::shared::Write(sqlx::query(sql).bind(name))
                    .change_row(&[name], &self.$write)
                    .await
            }
        }
    };
}

pub(crate) use mapper_store;
