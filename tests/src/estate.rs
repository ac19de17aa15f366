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
