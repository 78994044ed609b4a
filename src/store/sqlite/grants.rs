//! Sessions, authorization codes, refresh-token families and the deny-list:
//! most of it shared with the other backend (`store::shared::grants`); here
//! the four writes that must win against a rotation in flight. SQLite runs
//! one write at a time, so each is a plain statement or transaction; the
//! refresh tokens' go through the group commit (`batch`).

use std::sync::LazyLock;

use rusqlite::{Connection, params};
use sqlx::sqlite::SqliteConnection;

use super::hot::{first, unavailable as lite_unavailable};
use super::{OnFile, SqliteStore, unavailable};
use crate::store::rows::Arg;
use crate::store::rows::REFRESH_COLUMNS;
use crate::store::shared::Write;
use crate::store::shared::binds::refresh_grant;
use crate::store::shared::grants::JTI_DENIED_SQL;
use crate::store::{RefreshRecord, StoreError};

crate::store::shared::grant_store!(@common SqliteStore, pool, writer);

/// Inserts `t`, revoked already when its family or session is: `$1`-`$11`
/// are `t`'s columns in the order of `REFRESH_COLUMNS`.
static INSERT_SUCCESSOR: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO refresh_tokens ({REFRESH_COLUMNS})
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, COALESCE($11,
             (SELECT revoked_at FROM refresh_tokens WHERE family_id = $2
                  AND revoked_at IS NOT NULL ORDER BY revoked_at LIMIT 1),
             (SELECT ended_at FROM sessions WHERE id = $3))"
    )
});

/// Spends the presented token (`$2`) at `$1` if it is live and names the
/// successor's family, session, client and user (`$3`-`$6`).
static SPEND: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE refresh_tokens SET used_at = $1
         WHERE token_hash = $2 AND family_id = $3 AND session_id = $4
           AND client_id = $5 AND user_id = $6
           AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1
         RETURNING {REFRESH_COLUMNS}"
    )
});

/// `INSERT_SUCCESSOR` on the group commit's connection.
fn insert_successor(conn: &Connection, t: &RefreshRecord) -> Result<(), StoreError> {
    let mut statement = conn
        .prepare_cached(&INSERT_SUCCESSOR)
        .map_err(lite_unavailable)?;
    statement
        .execute(params![
            t.token_hash,
            t.family_id,
            t.session_id,
            t.client_id.as_str(),
            t.user_id,
            t.scope,
            t.auth_time,
            t.issued_at,
            t.expires_at,
            t.used_at,
            t.revoked_at,
        ])
        .map(drop)
        .map_err(lite_unavailable)
}

/// The claim and the successor on the group commit's connection.
fn rotate(
    conn: &Connection,
    presented: &str,
    t: &RefreshRecord,
) -> Result<Option<RefreshRecord>, StoreError> {
    let spent = first(
        conn,
        &SPEND,
        params![
            t.issued_at,
            presented,
            t.family_id,
            t.session_id,
            t.client_id.as_str(),
            t.user_id
        ],
        RefreshRecord::read,
    )?;
    if spent.is_some() {
        insert_successor(conn, t)?;
    }
    Ok(spent)
}

/// `INSERT_SUCCESSOR` through sqlx, for an in-memory database.
async fn insert_successor_sqlx(
    conn: &mut SqliteConnection,
    t: &RefreshRecord,
) -> Result<(), sqlx::Error> {
    refresh_grant(sqlx::query(&INSERT_SUCCESSOR), t)
        .bind(t.used_at)
        .bind(t.revoked_at)
        .execute(conn)
        .await
        .map(drop)
}

impl SqliteStore {
    /// Read for every bearer a resource endpoint checks: a hot read.
    async fn hot_jti_denied(&self, jti: &str) -> Result<bool, StoreError> {
        self.hot_first(JTI_DENIED_SQL, &[Arg::Text(jti)], |row| row.int("denied"))
            .await
            .map(|row| row.is_some())
    }

    async fn end_session_tx(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await.map_err(unavailable)?;
        let end = sqlx::query(
            "UPDATE sessions SET ended_at = $1, cookie_hash = NULL WHERE id = $2 AND ended_at IS NULL",
        );
        let ended = Write(end.bind(now).bind(id)).changed_one(&mut *tx).await?;
        let revoke = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE session_id = $2 AND revoked_at IS NULL",
        );
        Write(revoke.bind(now).bind(id)).run(&mut *tx).await?;
        tx.commit().await.map_err(unavailable)?;
        Ok(ended)
    }

    /// Inserts a token; born revoked when its family was revoked or its
    /// session ended meanwhile (a replay at another instance can revoke the
    /// family while this rotation is in flight). SQLite runs one write at a
    /// time, so the revocation either sees this row or this row sees it.
    async fn insert_refresh_tx(&self, t: &RefreshRecord) -> Result<(), StoreError> {
        let t = t.clone();
        let Some(OnFile { batch, .. }) = &self.file else {
            let mut tx = self.writer.begin().await.map_err(unavailable)?;
            insert_successor_sqlx(&mut tx, &t)
                .await
                .map_err(unavailable)?;
            return tx.commit().await.map_err(unavailable);
        };
        batch.run(move |conn| insert_successor(conn, &t)).await
    }

    /// The claim and the successor in one savepoint of a group commit: a
    /// successor that fails to insert leaves the presented token unspent.
    async fn rotate_refresh_tx(
        &self,
        presented: &str,
        t: &RefreshRecord,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        let (presented, t) = (presented.to_owned(), t.clone());
        let Some(OnFile { batch, .. }) = &self.file else {
            return self.rotate_sqlx(&presented, &t).await;
        };
        batch.run(move |conn| rotate(conn, &presented, &t)).await
    }

    /// `rotate` through sqlx, for an in-memory database.
    async fn rotate_sqlx(
        &self,
        presented: &str,
        t: &RefreshRecord,
    ) -> Result<Option<RefreshRecord>, StoreError> {
        let mut tx = self.writer.begin().await.map_err(unavailable)?;
        let spent: Option<RefreshRecord> = sqlx::query_as(&SPEND)
            .bind(t.issued_at)
            .bind(presented)
            .bind(&t.family_id)
            .bind(&t.session_id)
            .bind(t.client_id.as_str())
            .bind(&t.user_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(unavailable)?;
        if spent.is_some() {
            insert_successor_sqlx(&mut tx, t)
                .await
                .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(spent)
    }

    async fn revoke_family_tx(&self, family_id: &str, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(family_id)
        .execute(&self.writer)
        .await
        .map_err(unavailable)?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    crate::store::scenarios::scenario_tests!(crate::store::sqlite::testdb::fresh: expired_grants_are_purged_in_chunks, a_session_inserted_twice_is_stored_once);

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refresh_token_rotates_once() {
        let (store, _dir) = crate::store::sqlite::testdb::fresh().await.unwrap();
        crate::store::scenarios::a_refresh_token_rotates_once(std::sync::Arc::new(store)).await;
    }

    /// An in-memory database has no group commit: the same through sqlx.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refresh_token_rotates_once_in_memory() {
        use crate::store::Database as _;
        let store = crate::store::sqlite::SqliteStore::open("sqlite::memory:")
            .await
            .unwrap();
        store.migrate().await.unwrap();
        assert!(store.file.is_none());
        crate::store::scenarios::a_refresh_token_rotates_once(std::sync::Arc::new(store)).await;
    }

    /// A job that fails in a group commit fails alone: a token naming no
    /// session (its foreign key fails) is refused, and the tokens committed
    /// in the same batch around it are stored and acknowledged.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_fails_alone_in_its_batch() {
        use crate::store::GrantStore as _;
        use crate::store::scenarios::grants::Fixture;
        let (store, _dir) = crate::store::sqlite::testdb::fresh().await.unwrap();
        let store = std::sync::Arc::new(store);
        let f = Fixture::new(store.as_ref()).await;
        f.session(store.as_ref(), "s").await;
        let writes: Vec<_> = (0..40)
            .map(|i| {
                let session = if i == 20 { "gone" } else { "s" };
                let token = f.token_in(&format!("t{i}"), &format!("f{i}"), session);
                let store = store.clone();
                tokio::spawn(async move { store.insert_refresh(&token).await })
            })
            .collect();
        for (i, write) in writes.into_iter().enumerate() {
            let outcome = write.await.unwrap();
            let stored = store.get_refresh(&format!("t{i}")).await.unwrap();
            assert_eq!(outcome.is_ok(), i != 20, "t{i}: {outcome:?}");
            assert_eq!(stored.is_some(), i != 20, "t{i}");
        }
    }

    /// The deny-list read, hot on a file and through sqlx in memory.
    #[tokio::test]
    async fn a_denied_jti_is_found_and_no_other() {
        use crate::store::{Database as _, GrantStore as _};
        let (file, _dir) = crate::store::sqlite::testdb::fresh().await.unwrap();
        let memory = crate::store::sqlite::SqliteStore::open("sqlite::memory:")
            .await
            .unwrap();
        memory.migrate().await.unwrap();
        for store in [&file, &memory] {
            store.deny_jti("j1", i64::MAX).await.unwrap();
            assert!(store.is_jti_denied("j1").await.unwrap());
            assert!(!store.is_jti_denied("j2").await.unwrap());
        }
    }
}
