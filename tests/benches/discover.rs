//! Discovery at scale, through the real `sqlmig` binary against sqlsim:
//! - collecting one instance of 120 databases × 500 objects (50 tables, 450 modules each) —
//!   the issue asks for 200, but sqlsim holds at most 121 user databases (SQLite attaches at
//!   most 125), so the per-database figure is what carries over;
//! - scanning a /20 of loopback addresses (4,094 hosts, TCP 1433 and SQL Server Browser) in
//!   which three instances listen.
//!
//! `cargo bench -p sqlmig-tests --bench discover`; prints a table for docs/benchmarks.md.
//! A bench binary rather than criterion: each run takes seconds and sets up an estate first.

use std::time::{Duration, Instant};

use sqlmig_tests::estate::{SA_PASSWORD, fixture, serve};
use sqlsim::instance::{DatabaseSpec, Instance};

const DATABASES: usize = 120;
const TABLES: usize = 50;
const MODULES: usize = 450;
const RUNS: usize = 3;

/// An instance with `DATABASES` databases of `TABLES` tables and `MODULES` procedures each.
fn big_instance() -> Instance {
    let mut inst = Instance::default_with_sa(SA_PASSWORD);
    inst.databases.clear();
    for d in 0..DATABASES {
        let mut setup = Vec::with_capacity(TABLES + MODULES);
        for t in 0..TABLES {
            setup.push(format!(
                "CREATE TABLE dbo.T{t} (Id INT NOT NULL PRIMARY KEY, Name NVARCHAR(100), Amount DECIMAL(12,2))"
            ));
        }
        for m in 0..MODULES {
            setup.push(format!(
                "CREATE PROCEDURE dbo.P{m} @id INT\nAS\nSELECT Id, Name FROM dbo.T{} WHERE Id = @id",
                m % TABLES
            ));
        }
        inst.databases.push(DatabaseSpec {
            setup,
            ..DatabaseSpec::named(&format!("App{d:03}"))
        });
    }
    inst
}

/// Runs `sqlmig discover ARGS` and returns its wall time, the inventory's size and how many
/// instances and databases it holds.
async fn discover(args: &[&str]) -> (Duration, usize, (usize, usize)) {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("inventory.json");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));
    cmd.arg("discover")
        .args(args)
        .args([
            "--user",
            "sa",
            "--trust-server-certificate",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .env("SQLMIG_HOME", home.path())
        .env("SQLMIG_PASSWORD", SA_PASSWORD);
    // Compile the plugin into this home's cache first: the cold compile is its own figure.
    let warm = tokio::process::Command::new(env!("CARGO_BIN_EXE_sqlmig-under-test"))
        .args(["plugin", "info", "platform-onprem", "-o", "json"])
        .env("SQLMIG_HOME", home.path())
        .output()
        .await
        .unwrap();
    assert!(warm.status.success());
    let start = Instant::now();
    let result = cmd.output().await.unwrap();
    let took = start.elapsed();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let inv = sqlmig_protocol::read(&out).unwrap();
    let found = (
        inv.instances.len(),
        inv.instances.iter().map(|i| i.databases.len()).sum(),
    );
    (took, std::fs::metadata(&out).unwrap().len() as usize, found)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo test` runs benches with --bench absent: only run when benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let setup = Instant::now();
    let big = serve(big_instance(), "127.78.100.2", 1433).await;
    let setup = setup.elapsed();
    let mut runs = Vec::new();
    let mut size = 0;
    for _ in 0..RUNS {
        let (t, s, found) = discover(&["--server", "127.78.100.2"]).await;
        assert_eq!(found, (1, DATABASES + 4), "every database collected");
        runs.push(t);
        size = s;
    }
    let collect = median(runs);
    drop(big);

    let _a = serve(fixture("onprem-2008r2.json"), "127.78.1.10", 1433).await;
    let _b = serve(fixture("onprem-2022.json"), "127.78.7.20", 1433).await;
    let _c = serve(fixture("onprem-2016-estate.json"), "127.78.15.30", 1433).await;
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        let (t, _, (instances, _)) =
            discover(&["--scan", "127.78.0.0/20", "--concurrency", "16"]).await;
        assert_eq!(instances, 3, "the scan finds exactly the three instances");
        runs.push(t);
    }
    let scan = median(runs);

    println!("| what | median of {RUNS} | note |");
    println!("|---|---|---|");
    println!(
        "| collect 1 instance: {DATABASES} databases × {} objects | {:.2} s | {:.1} ms per database; inventory {:.1} MiB; sqlsim setup took {:.0} s |",
        TABLES + MODULES,
        collect.as_secs_f64(),
        collect.as_secs_f64() * 1000.0 / DATABASES as f64,
        size as f64 / 1048576.0,
        setup.as_secs_f64()
    );
    println!(
        "| scan a /20 (4,094 hosts × TCP 1433 + Browser), 3 instances found and collected | {:.2} s | --concurrency 16 (128 probes at once) |",
        scan.as_secs_f64()
    );
}
