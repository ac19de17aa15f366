//! `sqlmig assess --scripts` on real T-SQL: Microsoft's pubs and Northwind install scripts and
//! feature samples (tests/fixtures/tsql, MIT), a sqlcmd-mode script and an SSDT project. Every
//! finding names its file and line; text in comments, strings and non-MI branches is not one.

use sqlmig_tests::cli::{Sqlmig, stderr};

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

fn fixture(path: &str) -> String {
    format!("{}/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// (rule, file, line) of every finding, the file as the report gives it.
fn findings(report: &serde_json::Value) -> Vec<(String, String, u64)> {
    let mut v: Vec<(String, String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        // The compatibility-level note is about the database, not a line of it.
        .filter(|f| f["rule_id"] != "SQLMIG0401")
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["file"]
                    .as_str()
                    .expect("a script finding names its file")
                    .to_string(),
                f["line"].as_u64().expect("and its line"),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn pubs_sets_a_recovery_model_mi_refuses_and_northwind_nothing() {
    let s = sqlmig();
    let pubs = fixture("tsql/samples/instpubs.sql");
    let nwnd = fixture("tsql/samples/instnwnd.sql");
    // On SQL Server 2014 and later (Managed Instance too) pubs sets RECOVERY SIMPLE, which
    // Managed Instance refuses; sp_dboption is in the branch for older versions.
    let report = s.json_with_code(
        &[
            "assess",
            "--scripts",
            &pubs,
            "--scripts",
            &nwnd,
            "-o",
            "json",
        ],
        1,
    );
    let expected = [
        ("SQLMIG0228", 61),
        ("SystemProcedures110", 58),
        ("SystemProcedures110", 59),
    ]
    .map(|(rule, line)| (rule.to_string(), "instpubs.sql".to_string(), line));
    assert_eq!(findings(&report), expected);
    let scripts = &report["readiness"][0];
    assert_eq!(scripts["name"], "scripts");
    assert_eq!(scripts["databases"][0]["name"], "instpubs");
    assert_eq!(scripts["databases"][0]["readiness"], "blocked");
    assert_eq!(scripts["databases"][1]["name"], "instnwnd");
    assert_eq!(scripts["databases"][1]["readiness"], "ready");
}

#[test]
fn the_feature_samples_report_what_they_use_where_they_use_it() {
    let s = sqlmig();
    let out = s.run(&[
        "assess",
        "--scripts",
        &fixture("tsql/features"),
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "blocked: {}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let short = |file: &str| file.rsplit("__").next().unwrap().to_string();
    let mut got: Vec<(String, String, u64)> = findings(&report)
        .into_iter()
        .filter(|(rule, ..)| rule != "SQLMIG0221" && rule != "SQLMIG0222")
        .map(|(rule, file, line)| (rule, short(&file), line))
        .collect();
    let mut expected: Vec<(String, String, u64)> = [
        ("AssemblyFromFile", "SqlClrCurl.sql", 44),
        ("BulkInsert", "crm_setup.sql", 17),
        (
            "OpenRowsetWithNonBlobDataSourceBulk",
            "A1_fraud-detection.sql",
            23,
        ),
        ("OpenRowsetWithNonBlobDataSourceBulk", "SqlClrCurl.sql", 35),
        (
            "OpenRowsetWithNonBlobDataSourceBulk",
            "openrowset_bulk_insert.sql",
            130,
        ),
        ("SQLMIG0201", "1_-_Create_Database.sql", 8),
        ("SQLMIG0215", "Create_Database_Schema.sql", 176),
        ("SQLMIG0220", "1_-_Create_Database.sql", 9),
        ("SQLMIG0220", "1_-_Create_Database.sql", 266),
        ("SQLMIG0220", "1_-_Create_Database.sql", 659),
        ("SQLMIG0220", "1_-_Create_Database.sql", 676),
        ("SQLMIG0220", "1_-_Create_Database.sql", 695),
        ("SQLMIG0220", "aspstate_sql2016_with_retry.sql", 86),
        ("SQLMIG0220", "aspstate_sql2016_with_retry.sql", 518),
        // ALTER DATABASE … SET AUTO_CLOSE, ENABLE_BROKER, RECOVERY SIMPLE, PAGE_VERIFY: options
        // Managed Instance does not let a database change.
        ("SQLMIG0228", "1_-_Create_Database.sql", 33),
        ("SQLMIG0228", "1_-_Create_Database.sql", 60),
        ("SQLMIG0228", "1_-_Create_Database.sql", 84),
        ("SQLMIG0228", "1_-_Create_Database.sql", 90),
    ]
    .into_iter()
    .chain(
        // 4_PBM_Jobs.sql (sqlcmd mode, :SETVAR) adds ten PowerShell job steps.
        [35, 101, 168, 235, 302, 369, 435, 501, 567, 633]
            .map(|l| ("PowerShellJob", "4_PBM_Jobs.sql", l)),
    )
    .map(|(r, f, l)| (r.to_string(), f.to_string(), l))
    .collect();
    expected.sort();
    got.sort();
    // Nothing from the blob-storage load (DATA_SOURCE given), the BULK INSERT in its comment,
    // or the CREATE DATABASE inside a dynamic-SQL string.
    assert_eq!(got, expected);
    // Information: linked servers to SQL Server in the DTC containers, R scripts.
    let info: Vec<(String, String)> = findings(&report)
        .into_iter()
        .filter(|(rule, ..)| rule == "SQLMIG0221")
        .map(|(rule, file, _)| (rule, short(&file)))
        .collect();
    assert_eq!(
        info,
        [
            ("SQLMIG0221", "db-init.sql"),
            ("SQLMIG0221", "linkedserver.sql")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let linked = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "SQLMIG0221")
        .unwrap();
    assert_eq!(linked["level"], "info");
    assert_eq!(linked["message"], "linked server dtc2 to SQL Server");
}

#[test]
fn sqlcmd_variables_includes_and_ssdt_projects_are_followed() {
    let s = sqlmig();
    let report = s.json_with_code(
        &[
            "assess",
            "--scripts",
            &fixture("scripts/sqlcmd/main.sql"),
            "--scripts",
            &fixture("scripts/ssdt"),
            "--var",
            "JobName=Nightly",
            "-o",
            "json",
        ],
        1,
    );
    let got: Vec<(String, String, u64)> = findings(&report);
    let expected = [
        ("BulkInsert", "main.sql", 4),
        ("MIHomogeneousMSDTCTransactSQL", "Tables/Export.sql", 3),
        ("NextColumn", "Tables/Orders.sql", 4),
        ("SQLMIG0101", "inc/jobs.sql", 2),
        ("SystemProcedures110", "Script.PostDeployment.sql", 5),
        ("XpCmdshell", "main.sql", 8),
    ]
    .map(|(r, f, l)| (r.to_string(), f.to_string(), l));
    // Not Scratch/notes.sql (a None item, not built), not the guarded sp_configure.
    assert_eq!(got, expected);
    let message = |rule: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == rule)
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        message("BulkInsert"),
        "BULK INSERT from C:\\data\\t.csv",
        ":setvar applied"
    );
    // The project's SqlCmdVariable default names the remote.
    assert!(message("MIHomogeneousMSDTCTransactSQL").contains("ARCHIVE01"));
    let dbs = report["readiness"][0]["databases"].as_array().unwrap();
    assert_eq!(dbs[0]["name"], "main");
    assert_eq!(
        dbs[1]["name"], "Sales",
        "an SSDT project is named after its .sqlproj"
    );
}

#[test]
fn scripts_that_cannot_be_read_are_bad_input_naming_the_file() {
    let s = sqlmig();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.sql");
    let out = s.run(&["assess", "--scripts", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.sql"), "{}", stderr(&out));

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = s.run(&["assess", "--scripts", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no .sql files"), "{}", stderr(&out));

    let latin1 = dir.path().join("latin1.sql");
    std::fs::write(&latin1, b"PRINT 'caf\xE9'").unwrap();
    let out = s.run(&["assess", "--scripts", latin1.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("latin1.sql") && stderr(&out).contains("UTF-8"),
        "{}",
        stderr(&out)
    );

    let include = dir.path().join("include.sql");
    std::fs::write(&include, ":r gone.sql\nSELECT 1\n").unwrap();
    let out = s.run(&["assess", "--scripts", include.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("gone.sql"), "{}", stderr(&out));

    let out = s.run(&[
        "assess",
        "--var",
        "NoEquals",
        "--scripts",
        include.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = s.run(&["assess"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "neither --inventory nor --scripts"
    );
}

#[test]
fn an_unterminated_string_is_reported_not_skipped() {
    let s = sqlmig();
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.sql");
    std::fs::write(&broken, "SELECT 1\nEXEC xp_cmdshell 'dir\n").unwrap();
    let report = s.json(&[
        "assess",
        "--scripts",
        broken.to_str().unwrap(),
        "-o",
        "json",
    ]);
    let f = &report["findings"][0];
    assert_eq!(f["rule_id"], "SQLMIG0001");
    assert_eq!(f["file"], "broken.sql");
    assert_eq!(f["line"], 2);
}

/// What a database's DDL declares is assessed as the catalog rules assess a server: two log
/// files, a FILESTREAM filegroup, another log file added later. The script is written as an
/// SSMS template (`<parameter_name, data_type, value>`): it is assessed with the values it gives,
/// as SSMS's "Specify Values for Template Parameters" would fill them in.
#[test]
fn ddl_declares_what_the_catalog_rules_look_for_even_in_a_template() {
    let s = sqlmig();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("create_docs.sql");
    std::fs::write(
        &script,
        "-- Create a database with two log files and a FILESTREAM filegroup\n\
         CREATE DATABASE <Database_Name, sysname, Docs>\n\
         ON PRIMARY (NAME = N'<Database_Name, sysname, Docs>', FILENAME = N'<Data_Path, nvarchar(260), D:\\Data>\\Docs.mdf'),\n\
         FILEGROUP Blobs CONTAINS FILESTREAM (NAME = N'Blobs', FILENAME = N'D:\\Data\\Blobs')\n\
         LOG ON (NAME = N'Docs_log', FILENAME = N'E:\\Log\\Docs_log.ldf'),\n\
         (NAME = N'Docs_log2', FILENAME = N'F:\\Log\\Docs_log2.ldf')\n\
         GO\n\
         ALTER DATABASE <Database_Name, sysname, Docs> ADD LOG FILE (NAME = N'Docs_log3', FILENAME = N'G:\\Log\\Docs_log3.ldf')\n\
         GO\n",
    )
    .unwrap();
    let out = s.run(&[
        "assess",
        "--scripts",
        script.to_str().unwrap(),
        "-o",
        "json",
    ]);
    // Blocked: a database with several log files does not restore on MI.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file = "create_docs.sql".to_string();
    assert_eq!(
        findings(&report),
        [
            ("FileStream".to_string(), file.clone(), 4),
            ("MultipleLogFiles".to_string(), file.clone(), 5),
            ("MultipleLogFiles".to_string(), file.clone(), 8),
            ("SQLMIG0201".to_string(), file.clone(), 3),
        ]
    );
    let messages: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("Docs declares 2 log files")),
        "{messages:?}"
    );
    assert!(
        !messages.iter().any(|m| m.contains("<Database_Name")),
        "{messages:?}"
    );
}
