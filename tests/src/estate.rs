//! Simulated SQL Server estates for discovery tests: sqlsim instances from the fixtures in
//! `tests/fixtures/instances`, on loopback addresses of the test's choosing, optionally found by
//! name through SQL Server Browser.

use std::net::{IpAddr, SocketAddr};

use sqlsim::browser::Browser;
use sqlsim::instance::Instance;
use sqlsim::server::ServerHandle;

/// The sa password every instance fixture uses.
pub const SA_PASSWORD: &str = "Estate-Passw0rd";

/// The instance described by `tests/fixtures/instances/{name}`.
pub fn fixture(name: &str) -> Instance {
    let path = format!("{}/fixtures/instances/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Serves `instance` on `ip:port` (port 0: any free one).
pub async fn serve(instance: Instance, ip: &str, port: u16) -> ServerHandle {
    let ip: IpAddr = ip.parse().expect("an IP address");
    sqlsim::server::start(SocketAddr::new(ip, port), instance)
        .await
        .unwrap_or_else(|e| panic!("sqlsim on {ip}:{port}: {e}"))
}

/// Serves a named instance on a free port of `ip`, listed by SQL Server Browser on `ip:1434`.
pub async fn serve_named(instance: Instance, ip: &str) -> (ServerHandle, Browser) {
    let server = serve(instance, ip, 0).await;
    let record = sqlsim::browser::record(&server.engine.instance, server.addr.port());
    let browser = sqlsim::browser::serve(server.addr.ip(), record)
        .await
        .unwrap_or_else(|e| panic!("SQL Server Browser on {ip}:1434: {e}"));
    (server, browser)
}

/// T-SQL that creates `dbo.{table}` holding 1,000,000 rows, written in one statement (digits
/// cross-joined): `id INT PRIMARY KEY` from 1, `name NVARCHAR(40)` (`row N`) and
/// `amount DECIMAL(12,2)` (N × 1.25).
pub fn million_rows(table: &str) -> Vec<String> {
    let digits = (0..10)
        .map(|d| format!("SELECT {d} AS v"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    vec![
        format!(
            "CREATE TABLE dbo.{table} (id INT PRIMARY KEY, name NVARCHAR(40) NOT NULL, amount DECIMAL(12,2) NOT NULL)"
        ),
        format!(
            "WITH d AS ({digits}) INSERT INTO dbo.{table} (id, name, amount) \
             SELECT n, N'row ' + CONVERT(NVARCHAR(10), n), n * 1.25 FROM ( \
             SELECT a.v + 10 * b.v + 100 * c.v + 1000 * e.v + 10000 * f.v + 100000 * g.v + 1 AS n \
             FROM d AS a CROSS JOIN d AS b CROSS JOIN d AS c CROSS JOIN d AS e CROSS JOIN d AS f CROSS JOIN d AS g) AS x"
        ),
    ]
}
