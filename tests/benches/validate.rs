//! Validation speed on a 1,000,000-row table: `sqlmig validate` in checksum mode with no
//! difference and with one changed row, next to full mode (every row read from both sides and
//! compared), with the bytes each moved — counted by the two sqlsim servers, which send every
//! byte a comparison reads — and the time one server takes to checksum the whole table, the
//! bound checksum mode is meant to meet. Figures go to docs/benchmarks.md.
//!
//! Run: `cargo bench -p sqlmig-tests --bench validate`

use std::time::Instant;

use sqlmig_tests::cli::{Sqlmig, assert_code};
use sqlmig_tests::estate::{SA_PASSWORD, million_rows, serve};
use sqlmig_tests::migration::run;
use sqlsim::engine::Session;
use sqlsim::instance::{DatabaseSpec, Instance, Platform};
use sqlsim::server::ServerHandle;

const ROWS: u64 = 1_000_000;
const RUNS: usize = 3;

fn big() -> Vec<String> {
    let mut setup = vec!["CREATE TABLE dbo.Empty (id INT PRIMARY KEY)".to_string()];
    setup.extend(million_rows("Big"));
    setup
}

fn instance(platform: Platform) -> Instance {
    let mut i = Instance::default_with_sa(SA_PASSWORD);
    i.platform = platform;
    i.databases = vec![DatabaseSpec {
        setup: big(),
        ..DatabaseSpec::named("Shop")
    }];
    i
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// (seconds, bytes the servers sent, queries) of one `sqlmig validate` run, median of RUNS.
async fn measure(
    s: &Sqlmig,
    source: &ServerHandle,
    target: &ServerHandle,
    (table, mode): (&str, &str),
    expect_code: i32,
) -> (f64, u64, u64) {
    let (src, tgt) = (
        format!("127.0.0.1,{}", source.addr.port()),
        format!("127.0.0.1,{}", target.addr.port()),
    );
    let mut times = Vec::new();
    let mut sent = 0;
    let mut queries = 0;
    for _ in 0..RUNS {
        let before = source.bytes_sent() + target.bytes_sent();
        let started = Instant::now();
        let out = run(
            s,
            &[
                "validate",
                "--source",
                &src,
                "--target",
                &tgt,
                "--source-user",
                "sa",
                "--target-user",
                "sa",
                "--trust-server-certificate",
                "--tables",
                table,
                "--mode",
                mode,
                "-o",
                "json",
                "-q",
            ],
            &[
                ("SQLMIG_SOURCE_PASSWORD", SA_PASSWORD),
                ("SQLMIG_TARGET_PASSWORD", SA_PASSWORD),
            ],
        )
        .await;
        times.push(started.elapsed().as_secs_f64());
        assert_code(&out, expect_code);
        sent = source.bytes_sent() + target.bytes_sent() - before;
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        queries = report["databases"][0]["tables"][0]["queries"]
            .as_u64()
            .unwrap_or(0);
        eprintln!(
            "    {table} {mode}: {:.2} s in all, {:.2} s comparing (report)",
            times.last().unwrap(),
            report["summary"]["seconds"].as_f64().unwrap_or(0.0)
        );
    }
    (median(times), sent, queries)
}

fn main() {
    // As the tests run sqlsim: its engine works on the runtime's threads.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let setup = Instant::now();
        let source = serve(instance(Platform::Onprem), "127.0.0.1", 0).await;
        let target = serve(instance(Platform::Mi), "127.0.0.1", 0).await;
        eprintln!(
            "two servers with {ROWS} rows each in {:.1} s",
            setup.elapsed().as_secs_f64()
        );
        let s = Sqlmig::new(env!("CARGO_BIN_EXE_sqlmig-under-test"));

        // The bound: one server checksumming the whole table, as the first step of each side.
        let mut session = Session::new("sa", "Shop");
        let mut bound = Vec::new();
        for _ in 0..RUNS {
            let started = Instant::now();
            let r = source.engine.execute(
                &mut session,
                "SELECT COUNT_BIG(*), CHECKSUM_AGG(BINARY_CHECKSUM([id], [name], [amount])) FROM dbo.Big",
                &[],
            );
            assert!(r.error.is_none(), "{:?}", r.error);
            bound.push(started.elapsed().as_secs_f64());
        }
        let bound = median(bound);

        let fixed = measure(&s, &source, &target, ("dbo.Empty", "checksum"), 0).await;
        let equal_checksum = measure(&s, &source, &target, ("dbo.Big", "checksum"), 0).await;
        let equal_full = measure(&s, &source, &target, ("dbo.Big", "full"), 0).await;
        let r = target.engine.execute(
            &mut Session::new("sa", "Shop"),
            "UPDATE dbo.Big SET amount = 0.01 WHERE id = 654321",
            &[],
        );
        assert!(r.error.is_none(), "{:?}", r.error);
        let one_checksum = measure(&s, &source, &target, ("dbo.Big", "checksum"), 1).await;
        let one_full = measure(&s, &source, &target, ("dbo.Big", "full"), 1).await;

        let line = |what: &str, (secs, sent, queries): (f64, u64, u64)| {
            println!(
                "  {what:<42} {secs:>7.2} s {:>11.0} rows/s {:>10.1} KB moved {queries:>6} queries",
                ROWS as f64 / secs,
                sent as f64 / 1024.0
            );
        };
        println!("validate, {ROWS} rows × 3 columns, median of {RUNS} runs (whole command, start to exit):");
        println!(
            "  {:<42} {bound:>7.2} s {:>11.0} rows/s   (one side, in-process)",
            "server: COUNT + CHECKSUM_AGG of the table",
            ROWS as f64 / bound
        );
        println!(
            "  {:<42} {:>7.2} s   (start, plugin, schema of both databases; an empty table)",
            "fixed cost of a run", fixed.0
        );
        line("checksum mode, no difference", equal_checksum);
        line("checksum mode, one changed row", one_checksum);
        line("full mode (row by row), no difference", equal_full);
        line("full mode (row by row), one changed row", one_full);
    });
}
