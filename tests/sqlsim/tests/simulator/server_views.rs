//! Server-level views come from the instance description; DMVs need VIEW SERVER STATE.

use crate::common;

use common::{all_rows, config, connect, first_row};
use sqlsim::instance::{Configuration, Instance, LinkedServer, Login};
use sqlsim::server::start;

fn estate() -> Instance {
    let mut i = Instance::default_with_sa("pw");
    i.logins.push(Login {
        name: "auditor".into(),
        password: "pw2".into(),
        sysadmin: false,
        view_server_state: false,
        disabled: false,
    });
    i.logins.push(Login {
        name: "CONTOSO\\dba".into(),
        password: String::new(),
        sysadmin: true,
        view_server_state: true,
        disabled: true,
    });
    i.configurations.push(Configuration {
        name: "xp_cmdshell".into(),
        value: 1,
    });
    i.trace_flags = vec![1117, 3226];
    i.linked_servers.push(LinkedServer {
        name: "ORA".into(),
        product: "Oracle".into(),
        provider: "OraOLEDB.Oracle".into(),
        data_source: "orahost:1521/ORCL".into(),
    });
    i.host.cpu_count = 16;
    i
}

#[tokio::test]
async fn server_views_describe_the_instance() {
    let s = start("127.0.0.1:0".parse().unwrap(), estate())
        .await
        .unwrap();
    let mut c = connect(config(s.addr.port(), "sa", "pw")).await.unwrap();

    let xp = first_row(
        &mut c,
        "SELECT value_in_use, is_advanced FROM sys.configurations WHERE name = 'xp_cmdshell'",
    )
    .await;
    assert_eq!(xp.get::<i32, _>(0), Some(1));
    assert_eq!(xp.get::<bool, _>(1), Some(true));
    let clr = first_row(
        &mut c,
        "SELECT value_in_use FROM sys.configurations WHERE name = 'clr enabled'",
    )
    .await;
    assert_eq!(
        clr.get::<i32, _>(0),
        Some(0),
        "defaults where the fixture says nothing"
    );

    let logins = all_rows(
        &mut c,
        "SELECT p.name, p.type_desc, p.is_disabled,
                CASE WHEN EXISTS (SELECT 1 FROM sys.server_role_members m
                                  WHERE m.member_principal_id = p.principal_id AND m.role_principal_id = 3)
                     THEN 1 ELSE 0 END AS is_sysadmin
         FROM sys.server_principals p WHERE p.type IN ('S', 'U') ORDER BY p.name",
    )
    .await;
    let got: Vec<(String, String, bool, i32)> = logins
        .iter()
        .map(|r| {
            (
                r.get::<&str, _>(0).unwrap().into(),
                r.get::<&str, _>(1).unwrap().into(),
                r.get::<bool, _>(2).unwrap(),
                r.get::<i32, _>(3).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("auditor".into(), "SQL_LOGIN".into(), false, 0),
            ("CONTOSO\\dba".into(), "WINDOWS_LOGIN".into(), true, 1),
            ("sa".into(), "SQL_LOGIN".into(), false, 1),
        ]
    );

    let servers = all_rows(
        &mut c,
        "SELECT name, provider, is_linked FROM sys.servers ORDER BY server_id",
    )
    .await;
    assert_eq!(servers.len(), 2);
    assert_eq!(
        servers[1].get::<&str, _>("provider"),
        Some("OraOLEDB.Oracle")
    );
    assert_eq!(servers[1].get::<bool, _>("is_linked"), Some(true));

    let flags = all_rows(&mut c, "DBCC TRACESTATUS(-1)").await;
    let flags: Vec<i16> = flags
        .iter()
        .map(|r| r.get::<i16, _>("TraceFlag").unwrap())
        .collect();
    assert_eq!(flags, [1117, 3226]);

    let cpu = first_row(
        &mut c,
        "SELECT cpu_count, physical_memory_kb FROM sys.dm_os_sys_info",
    )
    .await;
    assert_eq!(cpu.get::<i32, _>(0), Some(16));
    let memory_kb = cpu.get::<i64, _>(1).unwrap();

    // As Microsoft's assessment probes count them: online schedulers and NUMA nodes.
    let sched = first_row(
        &mut c,
        "SELECT (SELECT COUNT(cpu_id) FROM sys.dm_os_schedulers WHERE is_online = 1 AND scheduler_id < 255 AND parent_node_id < 64) AS online_logical_processors, \
         (SELECT COUNT(DISTINCT parent_node_id) FROM sys.dm_os_schedulers WHERE scheduler_id < 255 AND parent_node_id < 64) AS numa_nodes",
    )
    .await;
    assert_eq!(sched.get::<i32, _>("online_logical_processors"), Some(16));
    assert_eq!(sched.get::<i32, _>("numa_nodes"), Some(1));
    let mem = first_row(
        &mut c,
        "SELECT total_physical_memory_kb, available_physical_memory_kb, system_memory_state_desc FROM sys.dm_os_sys_memory",
    )
    .await;
    assert_eq!(
        mem.get::<i64, _>("total_physical_memory_kb"),
        Some(memory_kb)
    );
    assert!(mem.get::<i64, _>("available_physical_memory_kb").unwrap() < memory_kb);
}

#[tokio::test]
async fn a_login_without_view_server_state_gets_error_300_on_dmvs_only() {
    let s = start("127.0.0.1:0".parse().unwrap(), estate())
        .await
        .unwrap();
    let mut c = connect(config(s.addr.port(), "auditor", "pw2"))
        .await
        .unwrap();
    let err = match c
        .simple_query("SELECT cpu_count FROM sys.dm_os_sys_info")
        .await
    {
        Ok(_) => panic!("DMVs need VIEW SERVER STATE"),
        Err(e) => e,
    };
    match err {
        tiberius::error::Error::Server(e) => {
            assert_eq!((e.code(), e.class()), (300, 14));
            assert!(
                e.message()
                    .contains("VIEW SERVER STATE permission was denied")
            );
        }
        other => panic!("{other:?}"),
    }
    // Catalog views stay readable.
    let n = first_row(&mut c, "SELECT COUNT(*) FROM sys.databases").await;
    assert_eq!(n.get::<i32, _>(0), Some(5));
}

#[tokio::test]
async fn files_and_agent_jobs_come_from_the_description() {
    use sqlsim::instance::{DatabaseFile, DatabaseSpec, Job, JobStep};
    let mut inst = Instance::default_with_sa("pw");
    let file = |name: &str, kind: &str, path: &str, mb: u64| DatabaseFile {
        name: name.into(),
        type_desc: kind.into(),
        physical_name: path.into(),
        size_mb: mb,
        growth: 10,
        is_percent_growth: true,
    };
    inst.databases.push(DatabaseSpec {
        compatibility_level: 130,
        files: vec![
            file("Docs", "ROWS", "D:\\Data\\Docs.mdf", 1024),
            file("Docs_log", "LOG", "L:\\Logs\\Docs_log.ldf", 256),
            file("Docs_log2", "LOG", "L:\\Logs\\Docs_log2.ldf", 64),
            file("DocsBlobs", "FILESTREAM", "D:\\Data\\DocsBlobs", 0),
        ],
        ..DatabaseSpec::named("Docs")
    });
    inst.jobs.push(Job {
        name: "Nightly export".into(),
        enabled: true,
        description: String::new(),
        steps: vec![
            JobStep {
                step_name: "export".into(),
                subsystem: "CmdExec".into(),
                command: "bcp Docs.dbo.T out D:\\x.dat".into(),
                database_name: "master".into(),
            },
            JobStep {
                step_name: "cleanup".into(),
                subsystem: "TSQL".into(),
                command: "DELETE FROM dbo.T".into(),
                database_name: "Docs".into(),
            },
        ],
    });
    let s = start("127.0.0.1:0".parse().unwrap(), inst).await.unwrap();
    let mut c = connect(config(s.addr.port(), "sa", "pw")).await.unwrap();

    let files = all_rows(
        &mut c,
        "SELECT d.name AS db, f.name, f.type_desc, f.size, f.growth, f.is_percent_growth
         FROM sys.master_files f JOIN sys.databases d ON d.database_id = f.database_id
         WHERE d.name = 'Docs' ORDER BY f.file_id",
    )
    .await;
    let kinds: Vec<&str> = files
        .iter()
        .map(|r| r.get::<&str, _>("type_desc").unwrap())
        .collect();
    assert_eq!(kinds, ["ROWS", "LOG", "LOG", "FILESTREAM"]);
    assert_eq!(
        files[0].get::<i32, _>("size"),
        Some(1024 * 128),
        "8 KB pages"
    );
    assert_eq!(files[0].get::<i32, _>("growth"), Some(10));

    let logs = first_row(
        &mut c,
        "USE Docs; SELECT COUNT(*) FROM sys.database_files WHERE type_desc = 'LOG'",
    )
    .await;
    assert_eq!(logs.get::<i32, _>(0), Some(2));
    // Databases without files in the description get a data and a log file.
    let sales = first_row(
        &mut c,
        "SELECT COUNT(*) FROM sys.master_files f JOIN sys.databases d ON d.database_id = f.database_id WHERE d.name = 'Sales'",
    )
    .await;
    assert_eq!(sales.get::<i32, _>(0), Some(2));

    let steps = all_rows(
        &mut c,
        "SELECT j.name, s.step_id, s.subsystem, s.command FROM msdb.dbo.sysjobs j
         JOIN msdb.dbo.sysjobsteps s ON s.job_id = j.job_id ORDER BY s.step_id",
    )
    .await;
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].get::<&str, _>("subsystem"), Some("CmdExec"));
    assert_eq!(
        steps[1].get::<&str, _>("command"),
        Some("DELETE FROM dbo.T")
    );
}

#[tokio::test]
async fn backup_history_keeps_exact_lsns() {
    use sqlsim::instance::BackupRecord;
    let mut inst = Instance::default_with_sa("pw");
    let rec = |t: &str, first: &str, last: &str, ckpt: &str, base: &str, dev: &str| BackupRecord {
        backup_type: t.into(),
        start: "2024-01-01 22:00:00".into(),
        finish: "2024-01-01 22:05:00".into(),
        size_bytes: 1_073_741_824,
        compressed_size_bytes: Some(268_435_456),
        first_lsn: first.into(),
        last_lsn: last.into(),
        checkpoint_lsn: ckpt.into(),
        database_backup_lsn: base.into(),
        is_copy_only: false,
        has_checksum: true,
        device: dev.into(),
    };
    // A 25-digit LSN: beyond i64, so it must stay exact text-backed numeric.
    let big = "4294967295000000000100001";
    inst.databases[0].backups = vec![
        rec(
            "D",
            "25000000005700064",
            "25000000007600001",
            "25000000005700064",
            "0",
            "D:\\bak\\Sales_full.bak",
        ),
        rec(
            "L",
            "25000000007600001",
            big,
            "25000000005700064",
            "25000000005700064",
            "https://acct.blob.core.windows.net/bak/Sales_1.trn",
        ),
    ];
    let s = start("127.0.0.1:0".parse().unwrap(), inst).await.unwrap();
    let mut c = connect(config(s.addr.port(), "sa", "pw")).await.unwrap();
    let rows = all_rows(
        &mut c,
        "SELECT b.type, b.first_lsn, b.last_lsn, b.database_backup_lsn, m.physical_device_name, m.device_type
         FROM msdb.dbo.backupset b JOIN msdb.dbo.backupmediafamily m ON m.media_set_id = b.media_set_id
         WHERE b.database_name = 'Sales' ORDER BY b.backup_start_date, b.backup_set_id",
    )
    .await;
    assert_eq!(rows.len(), 2);
    // numeric(25,0): compare the exact integer (tiberius prints scale 0 with a ".0").
    let lsn = |r: &tiberius::Row, col: &str| {
        let n = r.get::<tiberius::numeric::Numeric, _>(col).unwrap();
        assert_eq!(n.scale(), 0);
        i128::from(n).to_string()
    };
    assert_eq!(lsn(&rows[0], "first_lsn"), "25000000005700064");
    assert_eq!(lsn(&rows[1], "last_lsn"), big);
    assert_eq!(lsn(&rows[1], "database_backup_lsn"), "25000000005700064");
    assert_eq!(
        rows[1].get::<u8, _>("device_type"),
        Some(9),
        "URL backups are device type 9"
    );
}
