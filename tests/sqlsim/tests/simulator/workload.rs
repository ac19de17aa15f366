//! The work clients run shows where sizing tools look: @@CPU_BUSY, Log Bytes Flushed/sec per
//! database, and sys.dm_io_virtual_file_stats per file.

use crate::common;

use common::{all_rows, first_row, run, sa, server};

async fn readings(c: &mut common::SimClient) -> (f64, i64, i64, i64) {
    let cpu = first_row(
        c,
        "SELECT @@CPU_BUSY * CAST(@@TIMETICKS AS float) / 1000.0 AS cpu_busy_ms, cpu_count FROM sys.dm_os_sys_info",
    )
    .await
    .get::<f64, _>(0)
    .unwrap();
    let log = first_row(
        c,
        "SELECT cntr_value FROM sys.dm_os_performance_counters \
         WHERE counter_name = N'Log Bytes Flushed/sec' AND RTRIM(instance_name) = N'Sales'",
    )
    .await
    .get::<i64, _>(0)
    .unwrap();
    let files = all_rows(
        c,
        "SELECT DB_NAME(vfs.database_id) AS database_name, mf.name AS file_name, mf.type_desc, \
         mf.size * 8 / 1024.0 AS size_mb, vfs.num_of_reads, vfs.num_of_writes, vfs.num_of_bytes_written \
         FROM sys.dm_io_virtual_file_stats(NULL, NULL) AS vfs \
         JOIN sys.master_files AS mf ON mf.database_id = vfs.database_id AND mf.file_id = vfs.file_id \
         WHERE mf.type_desc IN (N'ROWS', N'LOG')",
    )
    .await;
    let sales = |kind: &str| {
        files
            .iter()
            .find(|r| r.get::<&str, _>(0) == Some("Sales") && r.get::<&str, _>(2) == Some(kind))
            .map(|r| r.get::<i64, _>(5).unwrap())
            .unwrap()
    };
    (cpu, log, sales("LOG"), sales("ROWS"))
}

#[tokio::test]
async fn load_raises_cpu_log_and_file_io() {
    let s = server().await;
    let mut c = sa(s.addr.port()).await;
    run(
        &mut c,
        "CREATE TABLE Sales.dbo.Orders (Id INT NOT NULL, Note NVARCHAR(100))",
    )
    .await;
    let before = readings(&mut c).await;
    for batch in 0..20 {
        let values: Vec<String> = (0..500)
            .map(|i| format!("({}, N'order {i}')", batch * 500 + i))
            .collect();
        run(
            &mut c,
            &format!("INSERT INTO Sales.dbo.Orders VALUES {}", values.join(", ")),
        )
        .await;
    }
    let after = readings(&mut c).await;
    assert!(after.0 >= before.0, "CPU busy time only grows");
    assert!(
        after.1 - before.1 >= 10_000 * 256,
        "10,000 rows write their log: {} → {}",
        before.1,
        after.1
    );
    assert_eq!(after.2 - before.2, 20, "one log write per statement");
    assert!(after.3 > before.3, "data pages written");
    // A specific file: the filtered function.
    let one = all_rows(
        &mut c,
        "SELECT num_of_writes FROM sys.dm_io_virtual_file_stats(DB_ID(N'Sales'), 2)",
    )
    .await;
    assert_eq!(one.len(), 1);
}

#[tokio::test]
async fn the_plan_cache_counts_each_statement() {
    let s = server().await;
    let mut c = sa(s.addr.port()).await;
    for _ in 0..3 {
        run(
            &mut c,
            "SELECT name FROM sys.databases WHERE database_id = 1",
        )
        .await;
    }
    let rows = all_rows(
        &mut c,
        "SELECT DB_NAME(CONVERT(int, pa.value)) AS database_name, \
         SUBSTRING(st.text, (qs.statement_start_offset / 2) + 1, \
             ((CASE qs.statement_end_offset WHEN -1 THEN DATALENGTH(st.text) \
               ELSE qs.statement_end_offset END - qs.statement_start_offset) / 2) + 1) AS statement_text, \
         qs.execution_count \
         FROM sys.dm_exec_query_stats AS qs \
         CROSS APPLY sys.dm_exec_sql_text(qs.sql_handle) AS st \
         CROSS APPLY sys.dm_exec_plan_attributes(qs.plan_handle) AS pa \
         WHERE pa.attribute = N'dbid' ORDER BY qs.execution_count DESC",
    )
    .await;
    let top = &rows[0];
    assert_eq!(top.get::<&str, _>(0), Some("master"));
    assert_eq!(
        top.get::<&str, _>(1),
        Some("SELECT name FROM sys.databases WHERE database_id = 1")
    );
    assert_eq!(top.get::<i64, _>(2), Some(3));
}
