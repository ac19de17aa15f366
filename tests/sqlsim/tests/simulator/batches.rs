//! Batches with control flow: variables and IF, as deployment and discovery scripts write them.

use crate::common;

use common::{all_rows, batch_error, first_row, run, sa, server};

#[tokio::test]
async fn variables_are_declared_assigned_and_read_within_a_batch() {
    let s = server().await;
    let mut c = sa(s.addr.port()).await;
    let row = first_row(
        &mut c,
        "DECLARE @n INT = '41', @name NVARCHAR(20);
         SET @n = @n + 1;
         SET @name = N'db-' + DB_NAME();
         SELECT @n AS n, @name AS name",
    )
    .await;
    // The declaration converts '41' to int, as assignment does on a server.
    assert_eq!(row.get::<i32, _>("n"), Some(42));
    assert_eq!(row.get::<&str, _>("name"), Some("db-master"));

    // SELECT @v = … takes the last row's value and sends no result set.
    let rows = all_rows(
        &mut c,
        "DECLARE @last SYSNAME, @count INT = 0;
         SELECT @last = name FROM sys.databases ORDER BY database_id;
         SELECT @count = COUNT(*) FROM sys.databases;
         SELECT @last AS last_db, @count AS dbs",
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<&str, _>("last_db"), Some("Sales"));
    assert_eq!(rows[0].get::<i32, _>("dbs"), Some(5));
}

#[tokio::test]
async fn variables_end_with_their_batch_and_must_be_declared_once() {
    let s = server().await;
    let mut c = sa(s.addr.port()).await;
    run(&mut c, "DECLARE @x INT = 1").await;
    let e = batch_error(&mut c, "SELECT @x").await;
    assert_eq!(e.code(), 137);
    assert_eq!(e.message(), "Must declare the scalar variable \"@x\".");

    let e = batch_error(&mut c, "DECLARE @x INT;\nDECLARE @x INT").await;
    assert_eq!((e.code(), e.class(), e.line()), (134, 15, 2));
    let e = batch_error(&mut c, "SET @undeclared = 1").await;
    assert_eq!(e.code(), 137);
    let e = batch_error(&mut c, "SELECT @undeclared = name FROM sys.databases").await;
    assert_eq!(e.code(), 137);
}

#[tokio::test]
async fn if_runs_the_branch_its_condition_picks() {
    let s = server().await;
    let mut c = sa(s.addr.port()).await;
    run(&mut c, "USE Sales; CREATE TABLE dbo.T (id INT)").await;
    // Idempotent deployment scripts: drop if there, create if not.
    run(
        &mut c,
        "IF OBJECT_ID('dbo.T') IS NOT NULL DROP TABLE dbo.T;
         IF NOT EXISTS (SELECT 1 FROM sys.tables WHERE name = 'T')
         BEGIN
             CREATE TABLE dbo.T (id INT, note NVARCHAR(10));
             INSERT INTO dbo.T VALUES (1, N'fresh');
         END",
    )
    .await;
    let row = first_row(&mut c, "SELECT note FROM dbo.T").await;
    assert_eq!(row.get::<&str, _>(0), Some("fresh"));
    let row = first_row(
        &mut c,
        "SELECT DB_ID() AS here, DB_ID('MSDB') AS msdb, \
                OBJECT_ID('Sales.dbo.T', 'U') AS as_table, OBJECT_ID('[dbo].[T]', 'V') AS as_view, \
                (SELECT object_id FROM sys.tables WHERE name = 'T') AS listed",
    )
    .await;
    assert_eq!(row.get::<i32, _>("here"), Some(5));
    assert_eq!(row.get::<i32, _>("msdb"), Some(4));
    assert_eq!(row.get::<i32, _>("as_table"), row.get::<i32, _>("listed"));
    assert!(row.get::<i32, _>("as_table").is_some());
    assert_eq!(row.get::<i32, _>("as_view"), None);

    let row = first_row(
        &mut c,
        "DECLARE @v INT = 3;
         IF @v < 2 SELECT 'small' AS size
         ELSE IF @v < 5 SELECT 'medium' AS size
         ELSE SELECT 'large' AS size",
    )
    .await;
    assert_eq!(row.get::<&str, _>("size"), Some("medium"));

    // An error inside a branch stops the batch with the statement's line.
    let e = batch_error(
        &mut c,
        "IF 1 = 1\nBEGIN\n  SELECT 1;\n  SELECT * FROM dbo.Missing;\nEND",
    )
    .await;
    assert_eq!((e.code(), e.line()), (208, 4));
}

/// Table hints change locking, never results: queries that carry them (as Microsoft's
/// assessment probes do) read the same rows; a function call is still a function call.
#[tokio::test]
async fn table_hints_are_accepted_and_change_nothing() {
    let s = server().await;
    let mut c = sa(s.addr.port()).await;
    let plain = all_rows(&mut c, "SELECT name FROM sys.configurations")
        .await
        .len();
    assert!(plain > 0);
    let hinted = all_rows(
        &mut c,
        "SELECT [name], [value] FROM sys.configurations WITH(NOLOCK)",
    )
    .await;
    assert_eq!(hinted.len(), plain);
    let row = first_row(
        &mut c,
        "SELECT d.name FROM master.sys.databases (NOLOCK) AS d WHERE d.database_id = 1",
    )
    .await;
    assert_eq!(row.get::<&str, _>("name"), Some("master"));
    let rows = all_rows(
        &mut c,
        "SELECT d.name FROM sys.databases d WITH (NOLOCK, READUNCOMMITTED) JOIN sys.master_files f WITH (NOLOCK) ON f.database_id = d.database_id WHERE d.database_id = 1",
    )
    .await;
    assert!(!rows.is_empty());
}

/// An instance of `version` on a free port, `sa` connected.
async fn of_version(version: (u8, u8, u16)) -> (sqlsim::server::ServerHandle, common::SimClient) {
    let mut inst = sqlsim::instance::Instance::default_with_sa(common::PW);
    inst.version = version;
    let s = sqlsim::server::start("127.0.0.1:0".parse().unwrap(), inst)
        .await
        .unwrap();
    let c = sa(s.addr.port()).await;
    (s, c)
}

#[tokio::test]
async fn each_version_refuses_the_t_sql_later_versions_brought() {
    // (batch, the version that brought it, the error an older server gives)
    let cases: &[(&str, (u8, u8, u16), i32)] = &[
        ("SELECT CONCAT(N'a', N'b') AS v", (11, 0, 0), 195),
        ("SELECT TRY_CONVERT(int, N'12') AS v", (11, 0, 0), 195),
        ("SELECT TRIM(N'  a  ') AS v", (14, 0, 0), 195),
        ("SELECT CONCAT_WS(N'-', N'a', N'b') AS v", (14, 0, 0), 195),
        (
            "SELECT COUNT(*) AS v FROM sys.dm_db_log_stats(DB_ID())",
            (13, 0, 5026),
            208,
        ),
        (
            "SELECT COUNT(*) AS v FROM sys.availability_groups",
            (11, 0, 0),
            208,
        ),
        (
            "CREATE TABLE dbo.T (id INT); DROP TABLE IF EXISTS dbo.T; SELECT 1 AS v",
            (13, 0, 0),
            156,
        ),
        (
            "CREATE OR ALTER VIEW dbo.V AS SELECT 1 AS v",
            (13, 0, 4001),
            156,
        ),
    ];
    for version in [(10, 50, 6000), (12, 0, 6024), (13, 0, 4001), (16, 0, 4135)] {
        let (_s, mut c) = of_version(version).await;
        for (sql, since, number) in cases {
            let outcome = c.simple_query(*sql).await;
            let result = match outcome {
                Ok(stream) => stream.into_results().await.map(|_| ()),
                Err(e) => Err(e),
            };
            if version < *since {
                let e = result.expect_err(&format!("{version:?} refuses {sql}"));
                let tiberius::error::Error::Server(e) = e else {
                    panic!("{version:?} {sql}: {e}")
                };
                assert_eq!(
                    e.code() as i32,
                    *number,
                    "{version:?} {sql}: {}",
                    e.message()
                );
            } else {
                result.unwrap_or_else(|e| panic!("{version:?} runs {sql}: {e}"));
            }
        }
    }
    // SERVERPROPERTY answers NULL for what a version does not know (serverproperty-transact-sql.md).
    let (_s, mut c) = of_version((10, 50, 6000)).await;
    let row = first_row(
        &mut c,
        "SELECT SERVERPROPERTY('IsHadrEnabled') AS h, SERVERPROPERTY('ProductMajorVersion') AS m",
    )
    .await;
    assert!(row.get::<i32, _>("h").is_none());
    assert!(row.get::<i32, _>("m").is_none());
}
