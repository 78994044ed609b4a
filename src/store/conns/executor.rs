//! `&Conns` as an `Executor`, as sqlx's `impl Executor for &Pool`.

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt as _, TryStreamExt as _};
use sqlx::{Database, Describe, Either, Error, Execute, Executor};

use super::Conns;

impl<DB: Database> Conns<DB> {
    /// Runs `statement` on a connection of the set, lent out for it: given
    /// back when it completes (unless it broke the connection), closed when
    /// it is dropped half-way.
    pub(super) async fn lend<T>(
        &self,
        statement: impl AsyncFnOnce(&mut DB::Connection) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut conn = self.acquire().await?;
        let out = statement(conn.start()).await;
        conn.settle(&out);
        out
    }
}

/// As sqlx's `impl Executor for &Pool`: each statement on a connection of
/// the set, checked out for it and given back after it (without a ping).
/// `fetch_many` collects the results before it yields them: the store's
/// statements return a handful of rows.
impl<'c, DB: Database> Executor<'c> for &'c Conns<DB>
where
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        let all = self.lend(async move |conn| conn.fetch_many(query).try_collect::<Vec<_>>().await);
        stream::once(all)
            .map_ok(|results| stream::iter(results.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<DB::Row>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        Box::pin(self.lend(async move |conn| conn.fetch_optional(query).await))
    }

    fn execute<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<DB::QueryResult, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        Box::pin(self.lend(async move |conn| conn.execute(query).await))
    }

    fn fetch_all<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, Result<Vec<DB::Row>, Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        Box::pin(self.lend(async move |conn| conn.fetch_all(query).await))
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement<'q>, Error>>
    where
        'c: 'e,
    {
        Box::pin(self.lend(async move |conn| conn.prepare_with(sql, parameters).await))
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<DB>, Error>>
    where
        'c: 'e,
    {
        Box::pin(self.lend(async move |conn| conn.describe(sql).await))
    }
}
