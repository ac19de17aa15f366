//! sqlsim's row throughput over TDS, read by tiberius: the ceiling later benchmarks are measured
//! against, so a figure can tell sqlmig's cost from the simulator's.
//!
//! `cargo bench -p sqlsim --bench throughput`; figures go to docs/benchmarks.md.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sqlsim::instance::Instance;
use sqlsim::server::start;
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

const ROWS: u64 = 100_000;

async fn client(port: u16) -> Client<Compat<TcpStream>> {
    let mut c = Config::new();
    c.host("127.0.0.1");
    c.port(port);
    c.authentication(AuthMethod::sql_server("sa", "pw"));
    c.encryption(EncryptionLevel::NotSupported);
    c.database("Sales");
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    Client::connect(c, tcp.compat_write()).await.unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, mut cl) = rt.block_on(async {
        let s = start(
            "127.0.0.1:0".parse().unwrap(),
            Instance::default_with_sa("pw"),
        )
        .await
        .unwrap();
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
