//! Modules land in sys.sql_modules with their definitions, bodies sqlparser cannot read
//! included; fixture databases are set up with T-SQL.

use crate::common;

use common::{all_rows, config, connect, first_row, run};
use sqlsim::instance::{DatabaseSpec, Instance};
use sqlsim::server::start;

const PROC: &str = "-- nightly export
CREATE PROCEDURE dbo.usp_Export @path nvarchar(260)
AS
BEGIN
    DECLARE @cmd nvarchar(4000) = N'bcp Sales.dbo.Orders out ' + @path;
    EXEC master..xp_cmdshell @cmd;
END";

#[tokio::test]
async fn modules_are_recorded_with_their_text_and_views_are_queryable() {
    let mut inst = Instance::default_with_sa("pw");
    inst.databases[0].setup = vec![
        "CREATE TABLE dbo.Orders (id INT PRIMARY KEY, total DECIMAL(10,2)); \
         INSERT INTO dbo.Orders VALUES (1, 10.00), (2, 20.00)"
            .into(),
        PROC.into(),
        "CREATE VIEW dbo.BigOrders AS SELECT id, total FROM dbo.Orders WHERE total > 15".into(),
    ];
    inst.databases.push(DatabaseSpec {
        compatibility_level: 90,
        ..DatabaseSpec::named("Empty")
    });
    let s = start("127.0.0.1:0".parse().unwrap(), inst).await.unwrap();
    let mut c = connect(config(s.addr.port(), "sa", "pw")).await.unwrap();
    run(&mut c, "USE Sales").await;

    let mods = all_rows(
        &mut c,
        "SELECT o.name, o.type, o.type_desc, m.definition FROM sys.sql_modules m
         JOIN sys.objects o ON o.object_id = m.object_id ORDER BY o.name",
    )
    .await;
    let got: Vec<(&str, &str, &str)> = mods
        .iter()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("BigOrders", "V ", "VIEW"),
            ("usp_Export", "P ", "SQL_STORED_PROCEDURE")
        ]
    );
    assert_eq!(mods[1].get::<&str, _>(3), Some(PROC));

    let big = first_row(&mut c, "SELECT COUNT(*) FROM dbo.BigOrders").await;
    assert_eq!(big.get::<i32, _>(0), Some(1));

    // ALTER replaces the definition; DROP removes the module.
    run(&mut c, "ALTER PROCEDURE dbo.usp_Export AS SELECT 1").await;
    let def = first_row(
        &mut c,
        "SELECT m.definition FROM sys.sql_modules m JOIN sys.procedures p ON p.object_id = m.object_id",
    )
    .await;
    assert_eq!(
        def.get::<&str, _>(0),
        Some("ALTER PROCEDURE dbo.usp_Export AS SELECT 1")
    );
    run(&mut c, "DROP PROCEDURE dbo.usp_Export").await;
    assert_eq!(
        all_rows(&mut c, "SELECT name FROM sys.procedures")
            .await
            .len(),
        0
    );

    // Creating it twice is SQL Server's 2714.
    let err = c
        .simple_query("CREATE VIEW dbo.BigOrders AS SELECT 1 AS x")
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("2714") || err.contains("already an object"),
        "{err}"
    );

    let compat = first_row(
        &mut c,
        "SELECT compatibility_level FROM sys.databases WHERE name = 'Empty'",
    )
    .await;
    assert_eq!(compat.get::<u8, _>(0), Some(90));
}

#[tokio::test]
async fn a_broken_setup_batch_names_the_database_and_the_error() {
    let mut inst = Instance::default_with_sa("pw");
    inst.databases[0].setup = vec!["INSERT INTO dbo.Missing VALUES (1)".into()];
    let err = match start("127.0.0.1:0".parse().unwrap(), inst).await {
        Ok(_) => panic!("a broken fixture must not start"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("setup batch 1 of database Sales") && err.contains("208"),
        "{err}"
    );
}
