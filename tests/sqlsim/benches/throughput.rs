//! sqlsim's row throughput over TDS, read by tiberius: the ceiling later benchmarks are measured
//! against, so a figure can tell sqlmig's cost from the simulator's.
//!
//! `cargo bench -p sqlsim --bench throughput`; figures go to docs/benchmarks.md.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "../tests/simulator/common/mod.rs"]
mod common;

use common::{PW, SimClient, config, connect, server};

const ROWS: u64 = 100_000;

async fn client(port: u16) -> SimClient {
    let mut c = config(port, "sa", PW);
    c.database("Sales");
    connect(c).await.unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, mut cl) = rt.block_on(async {
        let s = server().await;
        let mut cl = client(s.addr.port()).await;
        cl.simple_query(
            "CREATE TABLE dbo.Orders (id BIGINT NOT NULL PRIMARY KEY, customer NVARCHAR(40), \
             amount DECIMAL(12,2), placed DATETIME2(3), flag BIT)",
        )
        .await
        .unwrap()
        .into_results()
        .await
        .unwrap();
        for start in (0..ROWS).step_by(1000) {
            let values: Vec<String> = (start..start + 1000)
                .map(|i| {
                    format!(
                        "({i}, N'customer {}', {}.{:02}, '2024-01-{:02} 10:00:00.000', {})",
                        i % 977,
                        i % 10_000,
                        i % 100,
                        1 + i % 28,
                        i % 2
                    )
                })
                .collect();
            cl.execute(
                format!("INSERT INTO dbo.Orders VALUES {}", values.join(",")),
                &[],
            )
            .await
            .unwrap();
        }
        (s, cl)
    });

    let mut g = c.benchmark_group("sqlsim");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(ROWS));
    g.bench_function("SELECT 100,000 rows x 5 columns over TDS", |b| {
        b.iter(|| {
            rt.block_on(async {
                let rows = cl
                    .simple_query("SELECT id, customer, amount, placed, flag FROM dbo.Orders")
                    .await
                    .unwrap()
                    .into_first_result()
                    .await
                    .unwrap();
                assert_eq!(rows.len() as u64, ROWS);
            })
        })
    });
    g.throughput(Throughput::Elements(1));
    g.bench_function("round trip of SELECT 1", |b| {
        b.iter(|| {
            rt.block_on(async {
                cl.simple_query("SELECT 1")
                    .await
                    .unwrap()
                    .into_row()
                    .await
                    .unwrap()
            })
        })
    });
    g.finish();
    rt.block_on(server.stop());
}

criterion_group!(benches, bench);
criterion_main!(benches);
