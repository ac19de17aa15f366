//! `sqlmig migrate plan` from an inventory without any server: the move forecast matches a hand
//! calculation, and bad input is refused naming what is wrong (exit 2, nothing written).

use sqlmig_inventory::{
    Address, BackupDay, BackupHistory, CollectionStatus, Database, DatabaseFile, Instance,
    Inventory, Server,
};
use sqlmig_tests::cli::{Sqlmig, stderr, stdout};

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

fn file(name: &str, kind: &str, mb: f64) -> DatabaseFile {
    DatabaseFile {
        name: name.into(),
        type_desc: kind.into(),
        size_mb: mb,
        ..Default::default()
    }
}

/// SQL01 (2019) with Sales: 10,240 MB of data, 1,024 MB of log, and two days of log backups
/// of 8,437.5 MB and 16,875 MB — 0.1 and 0.2 MB/s over a day.
fn inventory() -> Inventory {
    let day = |date: &str, mb: f64| BackupDay {
        date: date.into(),
        backup_type: "L".into(),
        count: 96,
        size_bytes: (mb * 1048576.0) as u64,
        first_lsn: "1".into(),
        last_lsn: "2".into(),
    };
    let sales = Database {
        name: "Sales".into(),
        database_id: 5,
        state_desc: "ONLINE".into(),
        recovery_model_desc: "FULL".into(),
        compatibility_level: 150,
        size_mb: 11_264.0,
        files: vec![
            file("Sales", "ROWS", 10_240.0),
            file("Sales_log", "LOG", 1_024.0),
        ],
        backups: BackupHistory {
            per_day: vec![
                day("2026-11-26", 0.1 * 86400.0),
                day("2026-11-27", 0.2 * 86400.0),
            ],
            ..Default::default()
        },
        ..Default::default()
    };
    let mut inv = Inventory::new();
    inv.instances.push(Instance {
        name: "SQL01".into(),
        address: Address {
            host: "sql01".into(),
            port: 1433,
            instance: None,
        },
        platform: "onprem".into(),
        status: CollectionStatus::Complete,
        server: Some(Server {
            product_version: "15.0.4360.2".into(),
            major_version: 15,
            ..Default::default()
        }),
        databases: vec![sales],
        ..Default::default()
    });
    inv
}

#[test]
fn the_plan_shows_the_forecast_a_hand_calculation_gives() {
    let s = sqlmig();
    let inv = s.home.path().join("inventory.json");
    std::fs::write(&inv, serde_json::to_string(&inventory()).unwrap()).unwrap();
    let args = [
        "migrate",
        "plan",
        "--inventory",
        inv.to_str().unwrap(),
        "--target",
        "mi01,1433",
        "--container-url",
        "https://acct.blob.core.windows.net/backups",
    ];
    let plan = s.json(&[&args[..], &["-o", "json"]].concat());
    // Hand calculation, with the defaults (backup 200 MB/s, upload and restore 100 MB/s, backup
    // as large as the data, log backups every 300 s, 60 s of recovery) and General Purpose
    // 8 vCores (log limit 3 × 8 = 24 MB/s, so replay runs at 24 MB/s):
    //   full backup 10,240 / 200 = 51.2 s; upload and restore 10,240 / 100 = 102.4 s each;
    //   initial sync 256 s; log average (0.1 + 0.2) / 2 = 0.15 MB/s, peak 0.2 MB/s;
    //   backlog 0.15 × 256 = 38.4 MB, caught up at 24 − 0.15 MB/s: 38.4 / 23.85 = 1.61 s;
    //   tail 0.2 × 300 = 60 MB: 60/200 + 60/100 + 60/24 + 60 = 63.4 s of downtime.
    let f = &plan["forecast"];
    let d = &f["databases"][0];
    let close = |v: &serde_json::Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-6;
    assert!(close(&d["full_backup_s"], 51.2), "{d}");
    assert!(
        close(&d["upload_s"], 102.4) && close(&d["restore_s"], 102.4),
        "{d}"
    );
    assert!(close(&d["initial_sync_s"], 256.0), "{d}");
    assert!(close(&d["catch_up_s"], 38.4 / 23.85), "{d}");
    assert!(close(&d["cutover_downtime_s"], 63.4), "{d}");
    assert!(close(&f["target_log_mb_s"], 24.0));
    // Steps carry their expected durations.
    let backup = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "Sales/backup")
        .unwrap();
    assert!(close(&backup["expected_s"], 51.2));
    // And the console shows the forecast.
    let out = s.run(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(
            "Forecast: ≈ 4 min to sync, ≈ 1 min downtime at cutover (offline: ≈ 4 min downtime)"
        ),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("Sales/backup: back up Sales to 1 blob(s) (≈ 51 s)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn bad_plans_and_inputs_are_refused_by_name() {
    let s = sqlmig();
    let inv = s.home.path().join("inventory.json");
    std::fs::write(&inv, serde_json::to_string(&inventory()).unwrap()).unwrap();
    let out_file = s.home.path().join("plan.json");
    let base = [
        "migrate",
        "plan",
        "--inventory",
        inv.to_str().unwrap(),
        "--target",
        "mi01",
        "--out",
        out_file.to_str().unwrap(),
    ];
    let refused = |extra: &[&str], says: &str| {
        let out = s.run(&[&base[..], extra].concat());
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{extra:?}: {}", stderr(&out));
        assert!(!out_file.exists(), "nothing written on bad input");
    };
    let url = [
        "--container-url",
        "https://acct.blob.core.windows.net/backups",
    ];
    refused(
        &[&url[..], &["--databases", "Nope"]].concat(),
        "no user database \"Nope\"; it has: Sales",
    );
    refused(
        &[&url[..], &["--option", "stripes=4"]].concat(),
        "unknown option stripes",
    );
    refused(
        &[&url[..], &["--rename", "HR=People"]].concat(),
        "--rename HR: not among the databases moved",
    );
    refused(
        &[
            "--container-url",
            "https://acct.blob.core.windows.net/backups?sv=1&sig=x",
        ],
        "carries a query",
    );
    refused(
        &[&url[..], &["--instance", "SQL99"]].concat(),
        "no instance SQL99; it has: SQL01",
    );

    // A file that is not a plan, for run and status.
    let junk = s.home.path().join("junk.json");
    std::fs::write(&junk, r#"{"schema": "sqlmig.plan/1", "steps": 3}"#).unwrap();
    for cmd in [
        vec!["migrate", "run", junk.to_str().unwrap(), "--dry-run"],
        vec!["migrate", "status", junk.to_str().unwrap()],
    ] {
        let out = s.run(&cmd);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        assert!(
            stderr(&out).contains("junk.json: not a plan"),
            "{}",
            stderr(&out)
        );
    }
    // Run without logins.
    let good = s.home.path().join("good.json");
    let out = s.run(&[&base[..6], &url[..], &["--out", good.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = s.run(&["migrate", "run", good.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--source-user and --target-user"),
        "{}",
        stderr(&out)
    );
    // A plan never run: every step pending, and said so.
    let status = s.run(&["migrate", "status", good.to_str().unwrap()]);
    assert!(
        stdout(&status).contains("Sales/backup       pending  0"),
        "{}",
        stdout(&status)
    );
}
