//! `sqlmig perf collect` against sqlsim serving the 2016 estate while the test drives a
//! synthetic load (inserts into Sales), then `sqlmig sku recommend --perf` on what it collected;
//! Ctrl-C keeps the samples; bad input is refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlmig_tests::cli::{Sqlmig, stderr};
use sqlmig_tests::estate::{SA_PASSWORD, fixture, serve};
use sqlsim::engine::Session;

fn sqlmig() -> Sqlmig {
    Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
}

/// Inserts rows into Sales until `stop`, in the simulated server's engine.
fn drive_load(
    engine: Arc<sqlsim::engine::Engine>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut session = Session::new("sa", "Sales");
        let created = engine.execute(
            &mut session,
            "CREATE TABLE dbo.LoadTest (Id INT NOT NULL, Note NVARCHAR(100))",
            &[],
        );
        assert!(created.error.is_none(), "{:?}", created.error);
        let mut rows = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let values: Vec<String> = (0..200)
                .map(|i| format!("({}, N'load row {i}')", rows + i))
                .collect();
            let r = engine.execute(
                &mut session,
                &format!("INSERT INTO dbo.LoadTest VALUES {}", values.join(", ")),
                &[],
            );
            assert!(r.error.is_none(), "{:?}", r.error);
            rows += 200;
            std::thread::sleep(Duration::from_millis(5));
        }
        rows
    })
}

fn collect(
    s: &Sqlmig,
    address: &str,
    out: &std::path::Path,
    duration: &str,
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::from(s.command(&[
        "perf",
        "collect",
        "--server",
        address,
        "--user",
        "sa",
        "--trust-server-certificate",
        "--interval",
        "1s",
        "--duration",
        duration,
        "--out",
        out.to_str().unwrap(),
    ]));
    cmd.env("SQLMIG_PASSWORD", SA_PASSWORD);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_under_load_sizes_the_target() {
    // A server up for months: it has used more than 49 days of CPU, past which @@CPU_BUSY is
    // no longer accurate (cpu-busy-transact-sql.md).
    let mut estate = fixture("onprem-2016-estate.json");
    estate.host.cpu_used_before_ms = 60 * 86_400 * 1000;
    // A file of 2 TiB: sys.master_files.size is an int of 8 KB pages, and `size * 8` is past
    // int there (8115, sqlsim's catalog test); the collection reads MB as `size / 128.0`.
    let mut archive = sqlsim::instance::DatabaseSpec::named("Archive");
    archive.files = vec![sqlsim::instance::DatabaseFile {
        name: "Archive".into(),
        type_desc: "ROWS".into(),
        physical_name: "D:\\Data\\Archive.mdf".into(),
        size_mb: 2 * 1024 * 1024,
        growth: 64,
        is_percent_growth: false,
    }];
    estate.databases.push(archive);
    let server = serve(estate, "127.77.9.6", 1433).await;
    let stop = Arc::new(AtomicBool::new(false));
    let load = drive_load(server.engine.clone(), stop.clone());
    let s = sqlmig();
    let out = s.home.path().join("perf.json");
    let run = collect(&s, "127.77.9.6", &out, "4s")
        .output()
        .await
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let rows = load.join().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(rows > 0);

    let perf: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(perf["schema"], "sqlmig.perf/1");
    assert_eq!(perf["server"], "SQLPROD01\\SALES");
    assert_eq!(perf["logical_cpus"], 16);
    let samples = perf["samples"].as_array().unwrap();
    assert!(samples.len() >= 3, "{} samples", samples.len());
    // The load shows: Sales' log is written and its files do IO.
    assert!(
        samples
            .iter()
            .any(|s| s["log_mb_s"]["Sales"].as_f64().unwrap_or(0.0) > 0.0),
        "{samples:#?}"
    );
    let files = perf["files"].as_array().unwrap();
    let archive = files.iter().find(|f| f["database"] == "Archive").unwrap();
    assert_eq!(archive["size_mb"], 2_097_152.0);
    let sales_log = files
        .iter()
        .position(|f| f["database"] == "Sales" && f["type_desc"] == "LOG")
        .unwrap();
    assert!(
        samples
            .iter()
            .any(|s| s["files"][sales_log]["iops"].as_f64().unwrap() > 0.0)
    );
    assert!(samples.iter().all(|s| s["cpu_pct"].is_number()));
    // The load's CPU shows, though the server's CPU time is past what @@CPU_BUSY can count.
    assert!(
        samples.iter().any(|s| s["cpu_pct"].as_f64().unwrap() > 0.0),
        "{samples:#?}"
    );

    // The collection sizes the target, the same way every time.
    let args = [
        "sku",
        "recommend",
        "--perf",
        out.to_str().unwrap(),
        "-o",
        "json",
    ];
    let report = s.json(&args);
    let i = &report["instances"][0];
    assert_eq!(i["outcome"], "fits", "{i:#}");
    assert_eq!(i["source"]["samples"], samples.len());
    assert!(i["need"]["log_mb_s"].as_f64().unwrap() > 0.0);
    assert_eq!(s.run(&args).stdout, s.run(&args).stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_keeps_what_was_collected() {
    let _server = serve(fixture("onprem-2016-estate.json"), "127.77.9.7", 1433).await;
    let s = sqlmig();
    let out = s.home.path().join("perf.json");
    let child = collect(&s, "127.77.9.7", &out, "60s")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    // Wait for two samples, then interrupt as a DBA's Ctrl-C does.
    let mut samples = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        samples = std::fs::read(&out)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .map_or(0, |v| v["samples"].as_array().map_or(0, Vec::len));
        if samples >= 2 {
            break;
        }
    }
    assert!(samples >= 2, "two samples within ten seconds");
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let done = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("it stops at once")
        .unwrap();
    assert_eq!(done.status.code(), Some(0), "{}", stderr(&done));
    assert!(stderr(&done).contains("stopped:"), "{}", stderr(&done));
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert!(kept["samples"].as_array().unwrap().len() >= 2);
}

#[test]
fn bad_collect_options_exit_2() {
    let s = sqlmig();
    let no_out = s.run(&["perf", "collect", "--server", "127.0.0.1", "--user", "sa"]);
    assert_eq!(no_out.status.code(), Some(2));
    assert!(
        stderr(&no_out).contains("--out perf.json"),
        "{}",
        stderr(&no_out)
    );
    let fast = s.run(&[
        "perf",
        "collect",
        "--server",
        "127.0.0.1",
        "--user",
        "sa",
        "--interval",
        "200ms",
        "--out",
        "x.json",
    ]);
    assert_eq!(fast.status.code(), Some(2));
    let unit = s.run(&[
        "perf",
        "collect",
        "--server",
        "127.0.0.1",
        "--user",
        "sa",
        "--duration",
        "3 fortnights",
    ]);
    assert_eq!(unit.status.code(), Some(2));
    // A collection that is not one.
    let bogus = s.home.path().join("bogus.json");
    std::fs::write(&bogus, r#"{"schema": "sqlmig.perf/1", "server": 3}"#).unwrap();
    let out = s.run(&["sku", "recommend", "--perf", bogus.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a sqlmig performance collection"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_baseline_captures_the_statements_that_took_the_time() {
    let server = serve(fixture("onprem-2016-estate.json"), "127.77.9.8", 1433).await;
    // An application's session runs two statements, one far more often.
    let engine = server.engine.clone();
    std::thread::spawn(move || {
        let mut app = engine.open_session(&sqlsim::engine::catalog::activity::Connected {
            login: "sa",
            host_name: "app01",
            program_name: "orders-app",
            database: "Sales",
        });
        let run = |session: &mut Session, sql: &str| {
            let r = engine.execute(session, sql, &[]);
            assert!(r.error.is_none(), "{sql}: {:?}", r.error);
        };
        run(
            &mut app,
            "CREATE TABLE dbo.Baseline (Id INT NOT NULL, Qty INT NOT NULL)",
        );
        run(
            &mut app,
            "INSERT INTO dbo.Baseline VALUES (1, 5), (2, 7), (3, 9)",
        );
        for _ in 0..20 {
            run(&mut app, "SELECT SUM(Qty) FROM dbo.Baseline WHERE Id > 1");
        }
        for _ in 0..3 {
            run(
                &mut app,
                "SELECT Id, Qty FROM dbo.Baseline ORDER BY Qty DESC",
            );
        }
        engine.close_session(app.id);
    })
    .join()
    .unwrap();

    let s = sqlmig();
    let out = s.home.path().join("workload.sql");
    let mut cmd = tokio::process::Command::from(s.command(&[
        "perf",
        "baseline",
        "--server",
        "127.77.9.8",
        "--user",
        "sa",
        "--trust-server-certificate",
        "--top",
        "10",
        "--out",
        out.to_str().unwrap(),
    ]));
    cmd.env("SQLMIG_PASSWORD", SA_PASSWORD);
    let run = cmd.output().await.unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let sql = std::fs::read_to_string(&out).unwrap();
    assert!(
        sql.starts_with("-- sqlmig workload/1\n-- server: 127.77.9.8\n"),
        "{sql}"
    );
    assert!(
        sql.contains("-- CREATE TABLE dbo.Baseline"),
        "DDL is kept as a comment: {sql}"
    );
    assert!(sql.contains("database Sales, 20 executions"), "{sql}");
    assert!(
        sql.contains("USE [Sales];\nSELECT SUM(Qty) FROM dbo.Baseline WHERE Id > 1\nGO\n"),
        "{sql}"
    );
    assert!(sql.contains("database Sales, 3 executions"), "{sql}");
    let queries = sqlmig::sizing::workload::parse(&sql).unwrap();
    assert!(queries.iter().any(|q| q.text.contains("ORDER BY Qty DESC")));
    assert!(stderr(&run).contains("replayable"), "{}", stderr(&run));
}
