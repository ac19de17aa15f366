//! A table created and filled over TDS appears in the catalog views with the right columns,
//! types and row count.

use crate::common;

use common::{SimClient, all_rows, batch_error, first_row, run, sa, server};

#[tokio::test]
async fn created_tables_show_in_sys_views_with_types_and_row_counts() {
    let s = server().await;
    let mut c = sa(s.addr.port()).await;
    c.simple_query(
        "CREATE DATABASE Inventory; USE Inventory;
         CREATE TABLE dbo.Parts (
             PartId INT IDENTITY(1,1) NOT NULL PRIMARY KEY,
             Name NVARCHAR(80) NOT NULL,
             Price DECIMAL(12,2) NULL,
             Photo VARBINARY(MAX) NULL);
         CREATE TABLE dbo.Log (Message VARCHAR(200));
         INSERT INTO dbo.Parts (Name, Price) VALUES (N'bolt', 0.10), (N'nut', 0.05), (N'gear', 12.50);
         INSERT INTO dbo.Log (Message) VALUES ('x');",
    )
    .await
    .unwrap()
    .into_results()
    .await
    .unwrap();

    let dbs = all_rows(
        &mut c,
        "SELECT name, database_id, state_desc FROM sys.databases ORDER BY database_id",
    )
    .await;
    let names: Vec<&str> = dbs.iter().map(|r| r.get::<&str, _>(0).unwrap()).collect();
    assert_eq!(
        names,
        ["master", "tempdb", "model", "msdb", "Sales", "Inventory"]
    );
    assert_eq!(dbs[5].get::<i32, _>("database_id"), Some(6));
    assert_eq!(dbs[5].get::<&str, _>("state_desc"), Some("ONLINE"));

    let cols = all_rows(&mut c, "SELECT c.name, c.system_type_id, c.max_length, c.precision, c.scale, c.is_nullable, c.is_identity
             FROM sys.columns c JOIN sys.tables t ON t.object_id = c.object_id
             WHERE t.name = 'Parts' ORDER BY c.column_id").await;
    let got: Vec<(String, u8, i16, u8, u8, bool, bool)> = cols
        .iter()
        .map(|r| {
            (
                r.get::<&str, _>(0).unwrap().to_string(),
                r.get::<u8, _>(1).unwrap(),
                r.get::<i16, _>(2).unwrap(),
                r.get::<u8, _>(3).unwrap(),
                r.get::<u8, _>(4).unwrap(),
                r.get::<bool, _>(5).unwrap(),
                r.get::<bool, _>(6).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("PartId".into(), 56, 4, 10, 0, false, true),
            ("Name".into(), 231, 160, 0, 0, false, false),
            ("Price".into(), 106, 9, 12, 2, true, false),
            ("Photo".into(), 165, -1, 0, 0, true, false),
        ]
    );

    let counts = all_rows(
        &mut c,
        "SELECT t.name, p.rows, i.type_desc FROM sys.tables t
             JOIN sys.partitions p ON p.object_id = t.object_id
             JOIN sys.indexes i ON i.object_id = p.object_id AND i.index_id = p.index_id
             ORDER BY t.name",
    )
    .await;
    let got: Vec<(&str, i64, &str)> = counts
        .iter()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap()))
        .collect();
    assert_eq!(got, vec![("Log", 1, "HEAP"), ("Parts", 3, "CLUSTERED")]);

    // The identity column numbered the rows.
    let ids = all_rows(&mut c, "SELECT PartId FROM dbo.Parts ORDER BY PartId").await;
    let ids: Vec<i32> = ids.iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(ids, [1, 2, 3]);

    // Dropped tables leave the catalog.
    run(&mut c, "DROP TABLE dbo.Log").await;
    let left = all_rows(&mut c, "SELECT name FROM sys.tables").await;
    assert_eq!(left.len(), 1);
    s.stop().await;
}

async fn scalar_i32(c: &mut SimClient, sql: &str) -> Option<i32> {
    first_row(c, sql).await.get::<i32, _>(0)
}

#[tokio::test]
async fn row_checksums_run_in_the_database_and_follow_every_change() {
    let s = server().await;
    let mut c = sa(s.addr.port()).await;
    c.simple_query(
        "USE Sales; CREATE TABLE dbo.T (id INT NOT NULL PRIMARY KEY, name NVARCHAR(20), amount DECIMAL(10,2));
         INSERT INTO dbo.T VALUES (1, N'a', 1.50), (2, N'b', NULL), (3, N'c', 3.00);",
    )
    .await
    .unwrap()
    .into_results()
    .await
    .unwrap();
    let agg = "SELECT CHECKSUM_AGG(BINARY_CHECKSUM(*)) FROM dbo.T";
    let before = scalar_i32(&mut c, agg).await;
    assert!(before.is_some());
    assert_eq!(scalar_i32(&mut c, agg).await, before, "deterministic");

    c.execute("UPDATE dbo.T SET name = N'B' WHERE id = 2", &[])
        .await
        .unwrap();
    let after = scalar_i32(&mut c, agg).await;
    assert_ne!(
        after, before,
        "a one-letter case change shows in BINARY_CHECKSUM"
    );
    c.execute("UPDATE dbo.T SET name = N'b' WHERE id = 2", &[])
        .await
        .unwrap();
    assert_eq!(
        scalar_i32(&mut c, agg).await,
        before,
        "and reverting restores it"
    );

    // CHECKSUM follows the case-insensitive collation; BINARY_CHECKSUM does not.
    assert_eq!(
        scalar_i32(&mut c, "SELECT CHECKSUM(N'abc')").await,
        scalar_i32(&mut c, "SELECT CHECKSUM(N'ABC')").await
    );
    assert_ne!(
        scalar_i32(&mut c, "SELECT BINARY_CHECKSUM(N'abc')").await,
        scalar_i32(&mut c, "SELECT BINARY_CHECKSUM(N'ABC')").await
    );

    // Only a string's first 255 characters count, as on SQL Server; as varbinary(max) it
    // counts whole.
    let long = |c: &str| format!("REPLICATE(N'x', 300) + N'{c}'");
    assert_eq!(
        scalar_i32(&mut c, &format!("SELECT BINARY_CHECKSUM({})", long("a"))).await,
        scalar_i32(&mut c, &format!("SELECT BINARY_CHECKSUM({})", long("b"))).await
    );
    assert_ne!(
        scalar_i32(
            &mut c,
            &format!(
                "SELECT BINARY_CHECKSUM(CAST({} AS varbinary(max)))",
                long("a")
            )
        )
        .await,
        scalar_i32(
            &mut c,
            &format!(
                "SELECT BINARY_CHECKSUM(CAST({} AS varbinary(max)))",
                long("b")
            )
        )
        .await
    );

    // Per-range checksums, as validation bisects a table.
    let ranges = all_rows(
        &mut c,
        "SELECT CASE WHEN id <= 2 THEN 1 ELSE 2 END AS r, CHECKSUM_AGG(BINARY_CHECKSUM(*)) AS c
             FROM dbo.T GROUP BY CASE WHEN id <= 2 THEN 1 ELSE 2 END ORDER BY r",
    )
    .await;
    assert_eq!(ranges.len(), 2);

    let hash = first_row(
        &mut c,
        "SELECT HASHBYTES('SHA2_256', name) FROM dbo.T WHERE id = 1",
    )
    .await;
    assert_eq!(hash.get::<&[u8], _>(0).map(<[u8]>::len), Some(32));
    s.stop().await;
}

#[tokio::test]
async fn an_instance_holds_up_to_121_user_databases() {
    let mut inst = sqlsim::instance::Instance::default_with_sa("pw");
    inst.databases = (0..121)
        .map(|i| sqlsim::instance::DatabaseSpec::named(&format!("Db{i:03}")))
        .collect();
    let s = sqlsim::server::start("127.0.0.1:0".parse().unwrap(), inst)
        .await
        .unwrap();
    let mut c = common::connect(common::config(s.addr.port(), "sa", "pw"))
        .await
        .unwrap();
    let n = common::first_row(&mut c, "SELECT COUNT(*) FROM sys.databases").await;
    assert_eq!(n.get::<i32, _>(0), Some(125));
    let e = common::batch_error(&mut c, "CREATE DATABASE OneTooMany").await;
    assert!(
        e.message().contains("at most 125 databases"),
        "{}",
        e.message()
    );
}

#[tokio::test]
async fn a_declared_row_count_past_int_overflows_count_and_not_count_big() {
    use sqlsim::instance::{DatabaseSpec, Instance};
    let mut inst = Instance::default_with_sa(common::PW);
    let mut db = DatabaseSpec::named("Telemetry");
    db.setup = vec![
        "CREATE TABLE dbo.Readings (id BIGINT PRIMARY KEY, v INT)".into(),
        "INSERT INTO dbo.Readings VALUES (1, 10), (2, 20), (3, 30)".into(),
    ];
    db.declared_rows
        .insert("dbo.Readings".into(), 3_000_000_000);
    db.setup
        .push("CREATE TABLE dbo.Sites (id INT PRIMARY KEY)".into());
    db.declared_rows.insert("dbo.Sites".into(), 1_000);
    inst.databases = vec![db];
    let s = sqlsim::server::start("127.0.0.1:0".parse().unwrap(), inst)
        .await
        .unwrap();
    let mut c = sa(s.addr.port()).await;
    run(&mut c, "USE Telemetry").await;

    // count-transact-sql.md: COUNT returns int; past 2^31-1 the server raises 8115.
    let e = common::batch_error(&mut c, "SELECT COUNT(*) FROM dbo.Readings").await;
    assert_eq!(e.code(), 8115);
    assert_eq!(
        e.message(),
        "Arithmetic overflow error converting expression to data type int."
    );
    let row = first_row(&mut c, "SELECT COUNT_BIG(*) AS n FROM dbo.Readings").await;
    assert_eq!(row.get::<i64, _>("n"), Some(3_000_000_000));
    let row = first_row(
        &mut c,
        "SELECT SUM(p.rows) AS n FROM sys.partitions p WHERE p.object_id = OBJECT_ID('dbo.Readings')",
    )
    .await;
    assert_eq!(row.get::<i64, _>("n"), Some(3_000_000_000));
    // Within int's range COUNT answers the declared count too.
    let row = first_row(&mut c, "SELECT COUNT(*) AS n FROM dbo.Sites").await;
    assert_eq!(row.get::<i32, _>("n"), Some(1_000));
    // A count with a WHERE counts the rows stored.
    let row = first_row(
        &mut c,
        "SELECT COUNT(*) AS n FROM dbo.Readings WHERE v > 10",
    )
    .await;
    assert_eq!(row.get::<i32, _>("n"), Some(2));
}

#[tokio::test]
async fn int_arithmetic_past_int_overflows_as_size_times_8_of_a_2_tib_file_does() {
    use sqlsim::instance::{DatabaseFile, DatabaseSpec, Instance};
    let mut inst = Instance::default_with_sa(common::PW);
    let mut db = DatabaseSpec::named("Archive");
    db.files = vec![DatabaseFile {
        name: "Archive".into(),
        type_desc: "ROWS".into(),
        physical_name: "/var/opt/mssql/data/Archive.mdf".into(),
        size_mb: 2 * 1024 * 1024,
        growth: 64,
        is_percent_growth: false,
    }];
    inst.databases = vec![db];
    let s = sqlsim::server::start("127.0.0.1:0".parse().unwrap(), inst)
        .await
        .unwrap();
    let mut c = sa(s.addr.port()).await;
    // size is an int of 8 KB pages (sys-master-files-transact-sql.md): int * int is an int.
    let e = common::batch_error(
        &mut c,
        "SELECT size * 8 AS kb FROM sys.master_files WHERE name = 'Archive'",
    )
    .await;
    assert_eq!(e.code(), 8115);
    assert_eq!(
        e.message(),
        "Arithmetic overflow error converting expression to data type int."
    );
    // Also where the overflow is inside the expression and its end would fit.
    let e = common::batch_error(
        &mut c,
        "SELECT size * 8 / 1024 AS mb FROM sys.master_files WHERE name = 'Archive'",
    )
    .await;
    assert_eq!(e.code(), 8115);
    let row = first_row(
        &mut c,
        "SELECT size / 128.0 AS mb FROM sys.master_files WHERE name = 'Archive'",
    )
    .await;
    assert_eq!(
        row.get::<tiberius::numeric::Numeric, _>("mb")
            .map(|n| n.int_part()),
        Some(2_097_152)
    );
}

/// Alias types (create-type-transact-sql.md, sys-types-transact-sql.md): CREATE TYPE … FROM
/// records a user type of its own id with its base's numbers, a column declared with one holds
/// base-type values and shows the alias's user_type_id, whatever characters its quoted name has;
/// an unknown base, a taken name or a missing schema is refused as a server refuses it.
#[tokio::test]
async fn alias_types_are_recorded_and_columns_declared_with_them_take_their_base() {
    let s = server().await;
    let mut c = sa(s.addr.port()).await;
    run(&mut c, "CREATE DATABASE Types").await;
    run(&mut c, "USE Types").await;
    run(&mut c, "CREATE TYPE dbo.Phone FROM nvarchar(20) NOT NULL").await;
    run(&mut c, "CREATE TYPE [int)));EXEC('x')--] FROM int").await;
    run(&mut c, "CREATE TYPE Amount FROM decimal(12, 2)").await;
    run(
        &mut c,
        "CREATE TABLE dbo.Calls (id [int)));EXEC('x')--] PRIMARY KEY, phone dbo.Phone, cost Amount, note NVARCHAR(10))",
    )
    .await;
    run(
        &mut c,
        "INSERT INTO dbo.Calls VALUES (1, N'+44 20 7946 0000', 12.5, N'a'), (2, N'+1 555 0100', 3.25, NULL)",
    )
    .await;
    let rows = all_rows(
        &mut c,
        "SELECT c.name, ty.name AS type_name, ty.is_user_defined, bt.name AS base, c.max_length, \
                c.precision, c.scale, ty.user_type_id \
         FROM sys.columns c JOIN sys.types ty ON ty.user_type_id = c.user_type_id \
         LEFT JOIN sys.types bt ON bt.user_type_id = ty.system_type_id AND ty.is_user_defined = 1 \
         WHERE c.object_id = OBJECT_ID('dbo.Calls') ORDER BY c.column_id",
    )
    .await;
    // name, type, user-defined, base, max_length, precision, scale, user_type_id
    let seen: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {:?} {} {} {} {}",
                r.get::<&str, _>(0).unwrap(),
                r.get::<&str, _>(1).unwrap(),
                r.get::<bool, _>(2).unwrap(),
                r.get::<&str, _>(3),
                r.get::<i16, _>(4).unwrap(),
                r.get::<u8, _>(5).unwrap(),
                r.get::<u8, _>(6).unwrap(),
                r.get::<i32, _>(7).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            "id int)));EXEC('x')-- true Some(\"int\") 4 10 0 258",
            "phone Phone true Some(\"nvarchar\") 40 0 0 257",
            "cost Amount true Some(\"decimal\") 9 12 2 259",
            "note nvarchar false None 20 0 0 231",
        ]
    );
    let r = first_row(
        &mut c,
        "SELECT SUM(cost) AS total, MAX(phone) AS top FROM dbo.Calls",
    )
    .await;
    assert_eq!(
        r.get::<tiberius::numeric::Numeric, _>(0)
            .map(|n| n.to_string()),
        Some("15.75".into())
    );
    assert_eq!(r.get::<&str, _>(1), Some("+44 20 7946 0000"));
    for (sql, number) in [
        ("CREATE TYPE Phone FROM nvarchar(30)", 219),
        ("CREATE TYPE Geo FROM geography", 243),
        ("CREATE TYPE Doc FROM xml", 243),
        ("CREATE TYPE nowhere.T FROM int", 2760),
    ] {
        assert_eq!(batch_error(&mut c, sql).await.code(), number, "{sql}");
    }
}
