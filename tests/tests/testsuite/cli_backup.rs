//! `sqlmig backup inspect` through the real binary on a real backup (Microsoft's TutorialDB.bak)
//! and on files that are not backups.

use std::path::PathBuf;

use sqlmig_tests::cli::{Sqlmig, stderr, stdout};

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

#[test]
fn a_real_compressed_backup_gives_its_database_type_and_lsns() {
    let bak = fixtures().join("backups/TutorialDB.bak");
    let report = sqlmig().json(&[
        "backup",
        "inspect",
        bak.to_str().unwrap(),
        "--output",
        "json",
    ]);
    assert_eq!(report["schema"], "sqlmig.backup-inspect/1");
    let b = &report["backups"][0];
    assert_eq!(b["database_name"], "TutorialDB");
    assert_eq!(b["server_name"], "NELLIELAPTOP");
    assert_eq!(b["backup_type"], "full");
    assert_eq!(b["first_lsn"], "34000000054200037");
    assert_eq!(b["last_lsn"], "34000000055900001");
    assert_eq!(b["checkpoint_lsn"], "34000000054200037");
    assert_eq!(b["database_backup_lsn"], "34000000043900205");
    assert_eq!(b["software_version"], "13.0.1708");
    assert_eq!(b["compatibility_level"], 130);
    assert_eq!(b["database_version"], 852);
    assert_eq!(b["backup_start_date"], "2016-11-09T15:27:49");
    assert_eq!(b["compressed"], true);
    assert_eq!(b["has_media_password"], false);
    assert_eq!(b["files"][0]["logical_name"], "TutorialDB");
    assert_eq!(b["files"][1]["logical_name"], "TutorialDB_log");
    assert_eq!(b["mi_blockers"], serde_json::json!([]));
    let chain = &report["chains"][0];
    assert_eq!(chain["database_name"], "TutorialDB");
    assert_eq!(chain["restores_to"], "34000000055900001");
    assert_eq!(chain["problems"], serde_json::json!([]));

    // The table a DBA reads, for the folder holding it (its SOURCES.md skipped, not an error).
    let out = sqlmig().run(&[
        "backup",
        "inspect",
        fixtures().join("backups").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("TutorialDB  full, compressed  34000000054200037  34000000055900001"),
        "{text}"
    );
    assert!(
        text.contains("skipped") && text.contains("SOURCES.md"),
        "{text}"
    );
    assert!(text.contains("1. RESTORE DATABASE from"), "{text}");
}

#[test]
fn files_that_are_not_backups_are_refused_or_reported() {
    let dir = tempfile::tempdir().unwrap();
    // Named on the command line and not a backup: bad input, exit 2, nothing on stdout.
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a backup").unwrap();
    let out = sqlmig().run(&["backup", "inspect", notes.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("notes.txt: not a SQL Server backup"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    // A missing path: bad input naming it.
    let out = sqlmig().run(&["backup", "inspect", "/nonexistent/Sales_full.bak"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/nonexistent/Sales_full.bak"),
        "{}",
        stderr(&out)
    );
    // A backup cut short in a folder: listed as unreadable with why, exit 1.
    let real = std::fs::read(fixtures().join("backups/TutorialDB.bak")).unwrap();
    std::fs::write(dir.path().join("cut.bak"), &real[..700]).unwrap();
    let report = sqlmig().json_with_code(
        &[
            "backup",
            "inspect",
            dir.path().to_str().unwrap(),
            "-o",
            "json",
        ],
        1,
    );
    assert_eq!(
        report["unreadable"][0]["path"].as_str().unwrap(),
        dir.path().join("cut.bak").to_str().unwrap()
    );
    assert!(
        report["unreadable"][0]["error"]
            .as_str()
            .unwrap()
            .contains("damaged"),
        "{report}"
    );
    assert_eq!(
        report["skipped"][0]["path"].as_str().unwrap(),
        notes.to_str().unwrap()
    );
}
