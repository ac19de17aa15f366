//! Batches as health checks write them: statements without `;`, table variables, WHILE loops,
//! INSERT … EXEC of dynamic SQL and of the error-log procedures, DBCC, and the legacy table hint
//! after an alias.

use crate::common;

use common::{all_rows, batch_error, config, connect, first_row, texts};
use sqlsim::instance::Instance;
use sqlsim::server::start;

fn instance() -> Instance {
    let mut i = Instance::default_with_sa("pw");
    i.trace_flags = vec![1117, 3226];
    i.error_log = vec![
        "Error: 825, Severity: 10, State: 2.".into(),
        "A read of the file 'D:\\Data\\Sales.mdf' at offset 0x0000001a2b0000 succeeded after failing 1 time(s).".into(),
    ];
    i
}

#[tokio::test]
async fn table_variables_loops_and_insert_exec_run_as_on_a_server() {
    let s = start("127.0.0.1:0".parse().unwrap(), instance())
        .await
        .unwrap();
    let mut c = connect(config(s.addr.port(), "sa", "pw")).await.unwrap();

    // Microsoft's trace-flag probe: a table variable filled from dynamic DBCC.
    let flags = all_rows(
        &mut c,
        "DECLARE @tracestatus TABLE (TraceFlag NVARCHAR(40), [Status] tinyint, [Global] tinyint, [Session] tinyint); \
         INSERT INTO @tracestatus EXEC ('DBCC TRACESTATUS WITH NO_INFOMSGS'); \
         IF NOT EXISTS(SELECT * FROM @tracestatus WHERE Global=1) SELECT 0 AS [TraceFlag], 0 AS [Status] \
         ELSE SELECT [TraceFlag], [Status] FROM @tracestatus WHERE Global=1 ORDER BY TraceFlag",
    )
    .await;
    assert_eq!(texts(&flags, 1), [["1117"], ["3226"]]);

    // No `;` anywhere; a WHILE loop reading the error logs one by one.
    let batch = "DECLARE @logs TABLE (num INT, [date] DATETIME, [size] INT)
        DECLARE @lines TABLE ([date] DATETIME, spid VARCHAR(50), [message] NVARCHAR(4000))
        DECLARE @i INT = -1, @rounds INT = 0
        INSERT INTO @logs EXEC xp_enumerrorlogs
        WHILE EXISTS (SELECT 1 FROM @logs WHERE num > @i)
        BEGIN
            SET @i = (SELECT TOP 1 num FROM @logs WHERE num > @i ORDER BY num)
            INSERT INTO @lines EXEC sys.xp_readerrorlog @i, 1, N'Error: '
            SET @rounds = @rounds + 1
        END
        SELECT @rounds AS rounds, (SELECT COUNT(*) FROM @lines) AS found,
               (SELECT MAX([message]) FROM @lines) AS line";
    let row = first_row(&mut c, batch).await;
    assert_eq!(row.get::<i32, _>(0), Some(7), "seven error logs");
    assert_eq!(
        row.get::<i32, _>(1),
        Some(1),
        "one matching line, in the current log"
    );
    assert_eq!(
        row.get::<&str, _>(2),
        Some("Error: 825, Severity: 10, State: 2.")
    );

    // RETURN ends the batch, without an error.
    let after_return = all_rows(
        &mut c,
        "IF NOT EXISTS (SELECT 1 WHERE 1 = 0) RETURN; SELECT 1",
    )
    .await;
    assert!(after_return.is_empty());

    // A table variable ends with its batch.
    let err = batch_error(&mut c, "SELECT * FROM @logs").await;
    assert_eq!(err.code(), 1087);
    assert_eq!(err.message(), "Must declare the table variable \"@logs\".");
}

#[tokio::test]
async fn dbcc_and_legacy_hints() {
    let s = start("127.0.0.1:0".parse().unwrap(), instance())
        .await
        .unwrap();
    let mut c = connect(config(s.addr.port(), "sa", "pw")).await.unwrap();
    let vlfs = all_rows(&mut c, "DBCC LOGINFO ('Sales') WITH NO_INFOMSGS").await;
    assert_eq!(vlfs.len(), 4, "four virtual log files in a new log");
    let info = all_rows(
        &mut c,
        "DBCC DBINFO (N'Sales') WITH TABLERESULTS, NO_INFOMSGS",
    )
    .await;
    let fields: Vec<String> = texts(&info, 3).into_iter().map(|r| r[2].clone()).collect();
    assert!(
        fields.contains(&"dbi_dbccLastKnownGood".to_string()),
        "{fields:?}"
    );
    let err = batch_error(&mut c, "DBCC NOSUCHTHING").await;
    assert_eq!(err.code(), 2526, "{}", err.message());

    let name = first_row(
        &mut c,
        "SELECT d.name FROM sys.databases d (NOLOCK) WHERE d.database_id = 1",
    )
    .await;
    assert_eq!(name.get::<&str, _>(0), Some("master"));
}

#[tokio::test]
async fn identity_columns_apply_and_index_catalog() {
    let s = start("127.0.0.1:0".parse().unwrap(), instance())
        .await
        .unwrap();
    let mut c = connect(config(s.addr.port(), "sa", "pw")).await.unwrap();
    // INSERT without a column list leaves the IDENTITY column out, in a table variable too.
    let row = first_row(
        &mut c,
        "DECLARE @k TABLE (id INT IDENTITY(1,1) PRIMARY KEY, word VARCHAR(20))
         INSERT INTO @k VALUES ('a'), ('b')
         SELECT MAX(id), COUNT(*) FROM @k",
    )
    .await;
    assert_eq!(
        (row.get::<i32, _>(0), row.get::<i32, _>(1)),
        (Some(2), Some(2))
    );

    // A primary key's columns are in sys.index_columns, in key order.
    common::run(
        &mut c,
        "USE Sales; CREATE TABLE dbo.Lines (OrderId INT NOT NULL, LineNo INT NOT NULL, Qty INT, \
         CONSTRAINT PK_Lines PRIMARY KEY (OrderId, LineNo))",
    )
    .await;
    let keys = all_rows(
        &mut c,
        "SELECT c.name, ic.key_ordinal, OBJECTPROPERTY(i.object_id, 'IsMSShipped') \
         FROM sys.indexes i JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id \
         JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id \
         WHERE i.object_id = OBJECT_ID('dbo.Lines') ORDER BY ic.key_ordinal",
    )
    .await;
    assert_eq!(texts(&keys, 1), [["OrderId"], ["LineNo"]]);
    assert_eq!(keys[0].get::<bool, _>(2), Some(false));

    // CROSS APPLY of a keyed DMF: each file with its volume.
    let volumes = all_rows(
        &mut c,
        "SELECT mf.name, vs.volume_mount_point FROM sys.master_files AS mf \
         CROSS APPLY sys.dm_os_volume_stats(mf.database_id, mf.file_id) AS vs \
         WHERE mf.database_id = DB_ID('Sales')",
    )
    .await;
    assert_eq!(volumes.len(), 2, "data and log file");
}
