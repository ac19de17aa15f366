//! Server-level views come from the instance description; DMVs need VIEW SERVER STATE.

mod common;

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
        name: "Docs".into(),
        compatibility_level: 130,
        setup: vec![],
        files: vec![
            file("Docs", "ROWS", "D:\\Data\\Docs.mdf", 1024),
            file("Docs_log", "LOG", "L:\\Logs\\Docs_log.ldf", 256),
            file("Docs_log2", "LOG", "L:\\Logs\\Docs_log2.ldf", 64),
            file("DocsBlobs", "FILESTREAM", "D:\\Data\\DocsBlobs", 0),
        ],
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
