//! `sqlmig sku recommend` over Microsoft's SKU recommender collections: the real one in
//! tests/fixtures/sku-perf (an idle 2008 R2, MIT) and collections written here in the same format
//! for busy sources; deterministic output, and bad input named.

use std::path::Path;

use sqlmig_tests::cli::{Sqlmig, stderr, stdout};

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

/// `sku recommend --perf PERF [extra…] -o json`, which must exit with `code`.
fn recommend(s: &Sqlmig, perf: &Path, extra: &[&str], code: i32) -> serde_json::Value {
    let mut args = vec!["sku", "recommend", "--perf", perf.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(["-o", "json"]);
    s.json_with_code(&args, code)
}

fn fixture() -> String {
    format!("{}/fixtures/sku-perf", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn microsofts_collection_gives_a_recommendation_with_its_reason() {
    let s = sqlmig();
    let args = ["sku", "recommend", "--perf", &fixture(), "-o", "json"];
    let report = s.json(&args);
    assert_eq!(report["schema"], "sqlmig.sku/1");
    assert!(
        report["limits_taken"]
            .as_str()
            .unwrap()
            .contains("resource-limits (ms.date 2026-08-10)")
    );
    let test = &report["instances"][0];
    assert_eq!(test["server"], "TEST");
    assert_eq!(test["outcome"], "fits");
    assert_eq!(
        (
            test["tier"].as_str(),
            test["hardware"].as_str(),
            test["vcores"].as_u64()
        ),
        (Some("general_purpose"), Some("standard-series"), Some(4))
    );
    assert_eq!(test["driver"], "minimum");
    assert_eq!(
        test["explanation"][0],
        "4 vCores, the smallest size, cover every dimension"
    );
    // Memory in use: the 95th percentile of the windows' busiest values (366–371 MB).
    let memory_gb = test["need"]["memory_gb"].as_f64().unwrap();
    assert!((memory_gb - 371.0 / 1024.0).abs() < 1e-9, "{memory_gb}");
    assert_eq!(test["need"]["files"].as_array().unwrap().len(), 4);
    assert_eq!(test["need"]["user_databases"], 2);
    // The same input gives the same output, to the byte.
    let again = s.run(&args);
    let first = s.run(&args);
    assert_eq!(again.stdout, first.stdout);
    // The console table names the instance, the size and the reason.
    let table =
        String::from_utf8(s.run(&["sku", "recommend", "--perf", &fixture()]).stdout).unwrap();
    assert!(
        table.contains("TEST      General Purpose  standard-series (Gen5)  4"),
        "{table}"
    );
    assert!(table.contains("TEST: 4 vCores, the smallest size, cover every dimension"));
    // One self-contained page.
    let page = s.home.path().join("sizing.html");
    let out = s.run(&[
        "sku",
        "recommend",
        "--perf",
        &fixture(),
        "-o",
        "html",
        "--out",
        page.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("<td>General Purpose</td><td>standard-series (Gen5)</td><td>4</td>"),
        "{html}"
    );
    assert!(html.contains("<h3>Move</h3>"));
    assert!(
        !html.contains("http://") && !html.contains("<script"),
        "nothing to fetch"
    );
}

/// A file of a collection: database, physical name, ROWS/LOG, size MB, memory-optimized data,
/// and per window the busiest reads/s, writes/s, MB read/s and MB written/s (their means are
/// half that).
struct File {
    db: &'static str,
    path: &'static str,
    kind: &'static str,
    size_mb: f64,
    xtp: bool,
    io: (f64, f64, f64, f64),
}

/// Writes a collection for `server` with `cpus` logical CPUs: per window the busiest CPU % and
/// memory MB.
fn write_collection(dir: &Path, server: &str, cpus: u32, windows: &[(f64, f64)], files: &[File]) {
    let databases: std::collections::BTreeSet<&str> = files.iter().map(|f| f.db).collect();
    std::fs::write(
        dir.join(format!("{server}_CommonInstanceLevel_Counters.csv")),
        format!(
            "ServerName,Edition,HyperthreadRatio,IsClustered,IsHadrEnabled,LogicalCpuCount,MaxServerMemoryInUse,NumberCoresUsed,NumberOfUserDatabases,PhysicalCpuCount,ProductVersion,SqlStartTime,SumOfUserDatabasesSize,TempDbSize,NumOfLogins,TimeDataCollected\n\
             {server},Enterprise Edition (64-bit),2,False,False,{cpus},2147483647,{cpus},{},1,15.0.4360.2,2026-11-01 00:00:00,0,8,10,2026-11-02 00:00:00\n",
            databases.len()
        ),
    )
    .unwrap();
    let mut db_level = String::from(
        "ServerName,DatabaseName,LogicalName,PhysicalFullName,FileType,SizeMB,IsMemoryOptimizedDataOptionEnabled,TimeDataCollected\n",
    );
    for f in files {
        let kind = if f.kind == "LOG" { "Log" } else { "Rows" };
        db_level.push_str(&format!(
            "{server},{},{},{},{kind},{},{},2026-11-02 00:00:00\n",
            f.db,
            f.db,
            f.path,
            f.size_mb,
            if f.xtp { "True" } else { "False" }
        ));
    }
    std::fs::write(
        dir.join(format!("{server}_CommonDbLevel_Counters.csv")),
        db_level,
    )
    .unwrap();
    let mut perf = String::from(
        "ServerName,DatabaseName,DatabaseFileName,FileType,TimeDataCollected,CounterName,AggregatorType,Value\n",
    );
    for (w, (cpu, memory)) in windows.iter().enumerate() {
        let at = format!("2026-11-02 {:02}:{:02}:00", w / 6, (w % 6) * 10);
        for (counter, value) in [("ICP", *cpu), ("IM", *memory), ("IMP", 100.0)] {
            for (agg, v) in [("Mean", value / 2.0), ("Max", value), ("Occurence", 20.0)] {
                perf.push_str(&format!("{server},,,,{at},{counter},{agg},{v}\n"));
            }
        }
        for f in files {
            let (r, wr, rm, wm) = f.io;
            for (counter, value) in [("FNR", r), ("FNW", wr), ("FRM", rm), ("FWM", wm)] {
                for (agg, v) in [("Max", value), ("Mean", value / 2.0)] {
                    perf.push_str(&format!(
                        "{server},{},{},{},{at},{counter},{agg},{v}\n",
                        f.db, f.path, f.kind
                    ));
                }
            }
        }
    }
    std::fs::write(
        dir.join(format!("{server}_PerformanceAggregated_Counters.csv")),
        perf,
    )
    .unwrap();
}

fn data_and_log(db: &'static str, io: (f64, f64, f64, f64), log_write_mb: f64) -> Vec<File> {
    vec![
        File {
            db,
            path: "D:\\Data\\db.mdf",
            kind: "ROWS",
            size_mb: 200_000.0,
            xtp: false,
            io,
        },
        File {
            db,
            path: "L:\\Log\\db.ldf",
            kind: "LOG",
            size_mb: 50_000.0,
            xtp: false,
            io: (0.0, 100.0, 0.0, log_write_mb),
        },
    ]
}

#[test]
fn busy_collections_are_sized_by_what_drives_them() {
    let dir = tempfile::tempdir().unwrap();
    // CPU: 16 logical CPUs at 75% at their busiest = 12 cores → 16 vCores.
    let cpu_windows: Vec<(f64, f64)> = (0..20).map(|_| (75.0, 20_000.0)).collect();
    write_collection(
        dir.path(),
        "CPUBOUND",
        16,
        &cpu_windows,
        &data_and_log("Sales", (100.0, 50.0, 5.0, 2.0), 1.0),
    );
    // Log: 40 MB/s of log writes → General Purpose's 3 MB/s per vCore asks for 16.
    let quiet: Vec<(f64, f64)> = (0..20).map(|_| (5.0, 8_000.0)).collect();
    write_collection(
        dir.path(),
        "LOGBOUND",
        8,
        &quiet,
        &data_and_log("Orders", (100.0, 50.0, 5.0, 2.0), 40.0),
    );
    // In-Memory OLTP: Business Critical.
    let mut xtp = data_and_log("Trading", (100.0, 50.0, 5.0, 2.0), 1.0);
    xtp[0].xtp = true;
    write_collection(dir.path(), "XTP", 8, &quiet, &xtp);
    let s = sqlmig();
    let report = recommend(&s, dir.path(), &[], 0);
    let pick = |server: &str| {
        let i = report["instances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["server"] == server)
            .unwrap();
        (
            i["tier"].as_str().unwrap().to_string(),
            i["vcores"].as_u64().unwrap(),
            i["driver"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        pick("CPUBOUND"),
        ("general_purpose".into(), 16, "cpu".into())
    );
    assert_eq!(
        pick("LOGBOUND"),
        ("general_purpose".into(), 16, "log_rate".into())
    );
    assert_eq!(pick("XTP").0, "business_critical");

    // --scaling-factor: 12 busy cores × 140% = 16.8 → 24 vCores.
    let scaled = recommend(&s, dir.path(), &["--scaling-factor", "140"], 0);
    let cpu = scaled["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["server"] == "CPUBOUND")
        .unwrap();
    assert_eq!(cpu["vcores"], 24);
}

#[test]
fn a_source_no_instance_holds_exits_1_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let quiet: Vec<(f64, f64)> = (0..10).map(|_| (5.0, 8_000.0)).collect();
    write_collection(
        dir.path(),
        "FIREHOSE",
        8,
        &quiet,
        &data_and_log("Ingest", (100.0, 50.0, 5.0, 2.0), 200.0),
    );
    let s = sqlmig();
    let report = recommend(&s, dir.path(), &[], 1);
    let i = &report["instances"][0];
    assert_eq!(i["outcome"], "does_not_fit");
    let reasons = i["reasons"].to_string();
    // Over every tier's log write limit: 120 (General Purpose), 192 (Next-gen, and Business
    // Critical on premium-series).
    assert!(reasons.contains("200.0 MB/s of log writes"), "{reasons}");
    assert!(reasons.contains("limit of 192 MB/s"), "{reasons}");
}

/// A log rate past General Purpose's 120 MiB/s is Next-gen General Purpose's to hold (192), and
/// the DBA reads why in the table.
#[test]
fn a_log_rate_past_general_purpose_is_sized_on_next_gen() {
    let dir = tempfile::tempdir().unwrap();
    let quiet: Vec<(f64, f64)> = (0..10).map(|_| (5.0, 8_000.0)).collect();
    write_collection(
        dir.path(),
        "INGEST",
        8,
        &quiet,
        &data_and_log("Ingest", (100.0, 50.0, 5.0, 2.0), 150.0),
    );
    let s = sqlmig();
    let report = recommend(&s, dir.path(), &[], 0);
    let i = &report["instances"][0];
    assert_eq!(
        (
            i["tier"].as_str(),
            i["vcores"].as_u64(),
            i["driver"].as_str()
        ),
        (Some("next_gen_general_purpose"), Some(40), Some("log_rate")),
        "{i}"
    );
    let table = String::from_utf8(
        s.run(&["sku", "recommend", "--perf", dir.path().to_str().unwrap()])
            .stdout,
    )
    .unwrap();
    assert!(table.contains("Next-gen General Purpose"), "{table}");
    assert!(
        table.contains("INGEST: Next-gen General Purpose because on General Purpose"),
        "{table}"
    );
}

#[test]
fn bad_collections_are_named_with_exit_2() {
    let s = sqlmig();
    let empty = tempfile::tempdir().unwrap();
    let out = s.run(&["sku", "recommend", "--perf", empty.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("holds no *_PerformanceAggregated_Counters.csv"),
        "{}",
        stderr(&out)
    );

    // A file of the collection missing: named.
    let partial = tempfile::tempdir().unwrap();
    std::fs::copy(
        format!(
            "{}/TEST,MSSQLSERVER_PerformanceAggregated_Counters.csv",
            fixture()
        ),
        partial
            .path()
            .join("TEST,MSSQLSERVER_PerformanceAggregated_Counters.csv"),
    )
    .unwrap();
    let out = s.run(&[
        "sku",
        "recommend",
        "--perf",
        partial.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("TEST,MSSQLSERVER_CommonInstanceLevel_Counters.csv"),
        "{}",
        stderr(&out)
    );

    // A value that is not a number: the file and the column.
    let bad = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(fixture()).unwrap().flatten() {
        std::fs::copy(f.path(), bad.path().join(f.file_name())).unwrap();
    }
    let instance = bad
        .path()
        .join("TEST,MSSQLSERVER_CommonInstanceLevel_Counters.csv");
    let text = std::fs::read_to_string(&instance)
        .unwrap()
        .replace(",2,False,False,2,", ",2,False,False,two,");
    std::fs::write(&instance, text).unwrap();
    let out = s.run(&["sku", "recommend", "--perf", bad.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("LogicalCpuCount is \"two\", not a number"),
        "{}",
        stderr(&out)
    );

    // Out-of-range options.
    let out = s.run(&[
        "sku",
        "recommend",
        "--perf",
        &fixture(),
        "--percentile",
        "101",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_move_forecast_matches_the_hand_calculation() {
    // Sales: 100 GB of data, its log written at 4 MB/s at the busiest and 2 MB/s on average.
    let dir = tempfile::tempdir().unwrap();
    let quiet: Vec<(f64, f64)> = (0..12).map(|_| (5.0, 8_000.0)).collect();
    let mut files = data_and_log("Sales", (100.0, 50.0, 5.0, 2.0), 4.0);
    files[0].size_mb = 102_400.0;
    write_collection(dir.path(), "SQL01", 4, &quiet, &files);
    let s = sqlmig();
    let report = recommend(&s, dir.path(), &[], 0);
    let i = &report["instances"][0];
    assert_eq!(
        (i["tier"].as_str(), i["vcores"].as_u64()),
        (Some("general_purpose"), Some(4))
    );
    let f = &i["forecast"];
    let d = &f["databases"][0];
    // Backup 102,400 MB at 200 MB/s = 512 s, upload at 100 MB/s = 1,024 s, restore at
    // 100 MB/s = 1,024 s: 2,560 s.
    assert_eq!(d["full_backup_s"], 512.0);
    assert_eq!(d["upload_s"], 1024.0);
    assert_eq!(d["restore_s"], 1024.0);
    assert_eq!(d["initial_sync_s"], 2560.0);
    // Offline the application also waits for the recovery (60 s).
    assert_eq!(f["offline_downtime_s"], 2620.0);
    // 4 vCores of General Purpose write log at 4.5 MiB/s each, 18, so replay runs at
    // min(100, 18) = 18; the 2 MB/s × 2,560 s = 5,120 MB written meanwhile catch up at
    // 18 − 2 = 16 MB/s: 320 s.
    assert_eq!(f["target_log_mb_s"], 18.0);
    assert_eq!(d["catch_up_s"], 320.0);
    assert_eq!(f["online_sync_s"], 2880.0);
    // Cutover: 4 MB/s × 300 s = 1,200 MB of tail log: backup 6 s + upload 12 s + replay
    // 66.7 s + recovery 60 s = 144.7 s.
    let cutover = d["cutover_downtime_s"].as_f64().unwrap();
    assert!(
        (cutover - (6.0 + 12.0 + 1200.0 / 18.0 + 60.0)).abs() < 1e-6,
        "{cutover}"
    );
    let table = String::from_utf8(
        s.run(&["sku", "recommend", "--perf", dir.path().to_str().unwrap()])
            .stdout,
    )
    .unwrap();
    assert!(
        table.contains("SQL01: move: ≈ 48 min to sync, ≈ 2 min downtime at cutover (offline: ≈ 44 min downtime)"),
        "{table}"
    );
    // Faster links and a compressed backup change the forecast as the DBA says.
    let faster = recommend(
        &s,
        dir.path(),
        &["--upload-mb-s", "400", "--compression-ratio", "0.5"],
        0,
    );
    assert_eq!(
        faster["instances"][0]["forecast"]["databases"][0]["upload_s"],
        128.0
    );
}

#[test]
fn each_database_gets_its_share_and_the_instance_it_would_need_alone() {
    let dir = tempfile::tempdir().unwrap();
    let quiet: Vec<(f64, f64)> = (0..20).map(|_| (5.0, 8_000.0)).collect();
    // One instance, two databases: in-memory Trading with 1 MB/s of log, Orders with 40 MB/s.
    let mut files = data_and_log("Trading", (100.0, 50.0, 5.0, 2.0), 1.0);
    files[0].xtp = true;
    files.extend(data_and_log("Orders", (300.0, 100.0, 5.0, 2.0), 40.0));
    write_collection(dir.path(), "SPLIT", 8, &quiet, &files);
    let s = sqlmig();
    let report = recommend(&s, dir.path(), &[], 0);
    let dbs = report["instances"][0]["databases"].as_array().unwrap();
    let db = |name: &str| dbs.iter().find(|d| d["database"] == name).unwrap().clone();
    let (trading, orders) = (db("Trading"), db("Orders"));
    // Storage 250,000 MB each: half the instance's.
    assert!((trading["storage_share_pct"].as_f64().unwrap() - 50.0).abs() < 1e-9);
    assert!((orders["log_mb_s"].as_f64().unwrap() - 40.0).abs() < 1e-9);
    assert!((orders["log_share_pct"].as_f64().unwrap() - 40.0 * 100.0 / 41.0).abs() < 1e-9);
    // Alone, In-Memory OLTP needs Business Critical; 40 MB/s of log needs 16 General Purpose
    // vCores (3 MB/s each).
    assert_eq!(trading["in_memory_oltp"], true);
    assert_eq!(trading["alone"]["tier"], "business_critical");
    assert_eq!(
        (
            orders["alone"]["tier"].as_str(),
            orders["alone"]["vcores"].as_u64()
        ),
        (Some("general_purpose"), Some(16))
    );
    assert_eq!(orders["alone"]["driver"], "log_rate");
    // The console says it per database.
    let text = stdout(&s.run(&["sku", "recommend", "--perf", dir.path().to_str().unwrap()]));
    assert!(text.contains("SPLIT: database Orders: 244.1 GB (50% of storage), 500 IOPS, 40.00 MB/s log (98% of the log); alone it fits General Purpose 16 vCores (driven by log_rate)"), "{text}");
}
