//! Index DDL as T-SQL writes it, seen in sys.indexes and sys.index_columns; UNIQUE enforced;
//! SQL Server's errors for a bad column, a taken name, a second clustered index and a missing
//! index; declared collations in sys.columns; the bytes a server's responses carried.

use crate::common;

use common::{all_rows, batch_error, run, sa, server, texts};

#[tokio::test]
async fn indexes_are_created_listed_enforced_and_dropped() {
    let s = server().await;
    let mut c = sa(s.addr.port()).await;
    run(
        &mut c,
        "CREATE TABLE dbo.Orders (id INT PRIMARY KEY, code VARCHAR(10) COLLATE Latin1_General_CS_AS, note NVARCHAR(40), total DECIMAL(10, 2))",
    )
    .await;
    run(
        &mut c,
        "INSERT INTO dbo.Orders VALUES (1, 'a', N'x', 1.50), (2, 'A', N'y', 2.00)",
    )
    .await;
    run(
        &mut c,
        "CREATE UNIQUE NONCLUSTERED INDEX [IX_Orders_Code] ON dbo.Orders (code DESC) INCLUDE (total)",
    )
    .await;
    run(
        &mut c,
        "CREATE INDEX IX_Orders_Note ON Orders (note) WHERE note IS NOT NULL",
    )
    .await;
    let ix = all_rows(
        &mut c,
        "SELECT i.name, CAST(i.index_id AS NVARCHAR(5)), i.type_desc, CAST(i.is_unique AS NVARCHAR(1)), CAST(i.is_primary_key AS NVARCHAR(1)), CAST(i.has_filter AS NVARCHAR(1)), c.name AS col, CAST(ic.key_ordinal AS NVARCHAR(5)), CAST(ic.is_descending_key AS NVARCHAR(1)), CAST(ic.is_included_column AS NVARCHAR(1)) \
         FROM sys.indexes i JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id \
         JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id \
         WHERE i.object_id = OBJECT_ID('dbo.Orders') ORDER BY i.index_id, ic.index_column_id",
    )
    .await;
    assert_eq!(
        texts(&ix, 10),
        [
            [
                "PK__Orders",
                "1",
                "CLUSTERED",
                "1",
                "1",
                "0",
                "id",
                "1",
                "0",
                "0"
            ],
            [
                "IX_Orders_Code",
                "2",
                "NONCLUSTERED",
                "1",
                "0",
                "0",
                "code",
                "1",
                "1",
                "0"
            ],
            [
                "IX_Orders_Code",
                "2",
                "NONCLUSTERED",
                "1",
                "0",
                "0",
                "total",
                "0",
                "0",
                "1"
            ],
            [
                "IX_Orders_Note",
                "3",
                "NONCLUSTERED",
                "0",
                "0",
                "1",
                "note",
                "1",
                "0",
                "0"
            ],
        ]
    );
    // The unique index holds ('a' and 'A' differ under the column's case-sensitive collation).
    let e = batch_error(&mut c, "INSERT INTO dbo.Orders VALUES (3, 'a', N'z', 0)").await;
    // SQL Server says 2601 for a unique index and 2627 for a constraint; sqlsim tells the
    // duplicate, not which of the two holds it.
    assert!(matches!(e.code(), 2601 | 2627), "{e:?}");
    let collations = all_rows(
        &mut c,
        "SELECT name, collation_name FROM sys.columns WHERE object_id = OBJECT_ID('dbo.Orders') AND collation_name IS NOT NULL ORDER BY column_id",
    )
    .await;
    assert_eq!(
        texts(&collations, 2),
        [
            ["code", "Latin1_General_CS_AS"],
            ["note", "SQL_Latin1_General_CP1_CI_AS"]
        ]
    );

    // SQL Server's errors.
    let e = batch_error(&mut c, "CREATE INDEX IX_bad ON dbo.Orders (nope)").await;
    assert_eq!(e.code(), 1911);
    let e = batch_error(&mut c, "CREATE INDEX IX_Orders_Note ON dbo.Orders (total)").await;
    assert_eq!(e.code(), 1913);
    let e = batch_error(&mut c, "CREATE CLUSTERED INDEX CX ON dbo.Orders (note)").await;
    assert_eq!(e.code(), 1902);
    let e = batch_error(&mut c, "CREATE INDEX IX ON dbo.Missing (a)").await;
    assert_eq!(e.code(), 1088);
    let e = batch_error(&mut c, "DROP INDEX IX_Nope ON dbo.Orders").await;
    assert_eq!(e.code(), 3701);

    run(&mut c, "DROP INDEX IX_Orders_Code ON dbo.Orders").await;
    run(&mut c, "INSERT INTO dbo.Orders VALUES (3, 'a', N'z', 0)").await;
    let left = all_rows(
        &mut c,
        "SELECT name FROM sys.indexes WHERE object_id = OBJECT_ID('dbo.Orders') ORDER BY index_id",
    )
    .await;
    assert_eq!(texts(&left, 1), [["PK__Orders"], ["IX_Orders_Note"]]);
    // A heap gets a clustered index in place of its heap row.
    run(&mut c, "CREATE TABLE dbo.Log (at INT, what NVARCHAR(20))").await;
    run(&mut c, "CREATE CLUSTERED INDEX CX_Log ON dbo.Log (at)").await;
    let log = all_rows(
        &mut c,
        "SELECT CAST(index_id AS NVARCHAR(5)), type_desc FROM sys.indexes WHERE object_id = OBJECT_ID('dbo.Log')",
    )
    .await;
    assert_eq!(texts(&log, 2), [["1", "CLUSTERED"]]);
}

#[tokio::test]
async fn the_bytes_a_result_carries_are_counted() {
    let s = server().await;
    let mut c = sa(s.addr.port()).await;
    run(
        &mut c,
        "CREATE TABLE dbo.Wide (id INT PRIMARY KEY, pad NVARCHAR(MAX))",
    )
    .await;
    run(
        &mut c,
        "INSERT INTO dbo.Wide VALUES (1, REPLICATE(N'x', 20000)), (2, REPLICATE(N'y', 20000))",
    )
    .await;
    let before = s.bytes_sent();
    all_rows(&mut c, "SELECT COUNT(*) FROM dbo.Wide").await;
    let small = s.bytes_sent() - before;
    let before = s.bytes_sent();
    all_rows(&mut c, "SELECT pad FROM dbo.Wide").await;
    let large = s.bytes_sent() - before;
    // Two 40,000-byte values, in UTF-16, across several 4 KiB packets.
    assert!(small < 200, "{small}");
    assert!(large > 80_000 && large < 82_000, "{large}");
}
