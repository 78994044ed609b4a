//! A connection goes back idle and clean, or not at all.

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};

use super::Settings;

type Conns = super::Conns<sqlx::Sqlite>;

/// One connection, no ping (SQLite's settings).
const ONE: Settings = Settings {
    size: 1,
    checkout_timeout: Duration::from_secs(5),
    ping_idle: false,
    max_lifetime: None,
    idle_timeout: None,
};

struct Dir(std::path::PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

async fn one_connection() -> (Conns, Dir) {
    connections(ONE).await
}

async fn connections(settings: Settings) -> (Conns, Dir) {
    let dir = std::env::temp_dir().join(format!("domino-idp-conns-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let options =
        SqliteConnectOptions::from_str(&format!("sqlite://{}", dir.join("t.db").display()))
            .unwrap()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
    let conns = Conns::open(options, settings).await.unwrap();
    exec(&conns, "CREATE TABLE t (x INTEGER)").await;
    (conns, Dir(dir))
}

/// Runs `sql`, which must succeed, on `conns` or in a transaction.
async fn exec<'c>(executor: impl sqlx::Executor<'c, Database = sqlx::Sqlite>, sql: &str) {
    sqlx::query(sql).execute(executor).await.unwrap();
}

/// Marks the connection the next statement gets with a TEMP table, which
/// `same_connection` looks for.
async fn mark(conns: &Conns) {
    exec(conns, "CREATE TEMP TABLE mark (x)").await;
}

/// How many rows table `t` holds, read on one of `conns`.
async fn rows_in_t(conns: &Conns) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM t")
        .fetch_one(conns)
        .await
        .unwrap()
}

/// A TEMP table lives as long as its connection: seeing it again means the
/// same connection came back.
async fn same_connection(conns: &Conns) -> bool {
    sqlx::query("SELECT 1 FROM mark")
        .execute(conns)
        .await
        .is_ok()
}

/// A statement that runs for seconds unless it is interrupted.
const SLOW: &str =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000)
                    SELECT count(*) FROM n";

#[tokio::test]
async fn a_connection_is_reused_without_reopening() {
    let (conns, _dir) = one_connection().await;
    mark(&conns).await;
    for _ in 0..3 {
        assert!(same_connection(&conns).await);
    }
    let n = rows_in_t(&conns).await;
    assert_eq!(n, 0);
    assert!(same_connection(&conns).await);
}

#[tokio::test]
async fn a_statement_the_database_refuses_keeps_its_connection() {
    let (conns, _dir) = one_connection().await;
    mark(&conns).await;
    let refused = sqlx::query("INSERT INTO no_such_table VALUES (1)")
        .execute(&conns)
        .await;
    assert!(
        matches!(refused, Err(sqlx::Error::Database(_))),
        "{refused:?}"
    );
    assert!(same_connection(&conns).await);
}

#[tokio::test]
async fn a_connection_past_its_lifetime_is_replaced() {
    let lifetime = Duration::from_millis(500);
    let (conns, _dir) = connections(Settings {
        max_lifetime: Some(lifetime),
        ..ONE
    })
    .await;
    // Opened just now (the set's first connection is older: replaced).
    tokio::time::sleep(lifetime).await;
    mark(&conns).await;
    assert!(same_connection(&conns).await, "young: kept");
    tokio::time::sleep(lifetime).await;
    assert!(!same_connection(&conns).await, "old: replaced");
}

#[tokio::test]
async fn a_connection_idle_past_its_timeout_is_closed() {
    let timeout = Duration::from_millis(300);
    let (conns, _dir) = connections(Settings {
        size: 2,
        idle_timeout: Some(timeout),
        ..ONE
    })
    .await;
    mark(&conns).await;
    tokio::time::sleep(timeout / 3).await;
    assert!(same_connection(&conns).await, "idle a short while: kept");
    // Two at once: both are idle afterwards.
    let (a, b) = (
        conns.acquire().await.unwrap(),
        conns.acquire().await.unwrap(),
    );
    drop((a, b));
    assert_eq!(conns.idle(), 2);
    // The reaper looks every `timeout`: by two of them both are closed
    // without any checkout asking.
    tokio::time::sleep(timeout * 2 + timeout / 2).await;
    assert_eq!(conns.idle(), 0, "the idle connections were not closed");
    assert!(!same_connection(&conns).await, "a fresh connection answers");
    assert_eq!(rows_in_t(&conns).await, 0);
}

#[tokio::test]
async fn the_reaper_does_not_keep_its_set_alive() {
    let (conns, _dir) = connections(Settings {
        idle_timeout: Some(Duration::from_millis(50)),
        ..ONE
    })
    .await;
    let watched = std::sync::Arc::downgrade(&conns.inner);
    drop(conns);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(watched.upgrade().is_none(), "the reaper holds the set");
}

#[tokio::test]
async fn a_statement_dropped_half_way_closes_its_connection() {
    let (conns, _dir) = one_connection().await;
    mark(&conns).await;
    let slow = tokio::time::timeout(
        Duration::from_millis(50),
        sqlx::query_scalar::<_, i64>(SLOW).fetch_one(&conns),
    )
    .await;
    assert!(slow.is_err(), "the slow statement finished: {slow:?}");
    // A fresh connection answers, without the old one's TEMP table.
    assert!(!same_connection(&conns).await);
    let n = rows_in_t(&conns).await;
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_transaction_dropped_before_commit_is_rolled_back() {
    let (conns, _dir) = one_connection().await;
    {
        let mut tx = conns.begin().await.unwrap();
        exec(&mut *tx, "INSERT INTO t VALUES (1)").await;
    }
    let mut tx = conns.begin().await.unwrap();
    exec(&mut *tx, "INSERT INTO t VALUES (2)").await;
    tx.commit().await.unwrap();
    let rows: Vec<i64> = sqlx::query_scalar("SELECT x FROM t")
        .fetch_all(&conns)
        .await
        .unwrap();
    assert_eq!(rows, [2]);
}

#[tokio::test]
async fn a_committed_transaction_gives_its_connection_back() {
    let (conns, _dir) = one_connection().await;
    mark(&conns).await;
    let mut tx = conns.begin().await.unwrap();
    exec(&mut *tx, "INSERT INTO t VALUES (1)").await;
    tx.commit().await.unwrap();
    assert!(same_connection(&conns).await);
}

#[tokio::test]
async fn a_checkout_waits_for_the_connection_in_use() {
    let (conns, _dir) = one_connection().await;
    let held = conns.acquire().await.unwrap();
    let waiting = tokio::time::timeout(Duration::from_millis(100), conns.acquire()).await;
    assert!(waiting.is_err(), "a second connection was handed out");
    drop(held);
    let n = rows_in_t(&conns).await;
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_database_that_cannot_be_opened_is_an_error() {
    let missing = std::env::temp_dir()
        .join(format!("domino-idp-conns-{}", uuid::Uuid::new_v4()))
        .join("no-such-dir")
        .join("t.db");
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", missing.display()))
        .unwrap()
        .create_if_missing(true);
    assert!(Conns::open(options, ONE).await.is_err());
}
