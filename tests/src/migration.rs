//! What the migration tests share: running the binary beside the simulated servers, and a source
//! discovered into an inventory.

use std::path::Path;
use std::process::Output;

use sqlsim::server::ServerHandle;

use crate::cli::{Sqlmig, stderr};
use crate::estate::SA_PASSWORD;

/// Runs `sqlmig ARGS` with `env` without blocking the runtime the simulated servers run on.
pub async fn run(s: &Sqlmig, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::from(s.command(args));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.unwrap()
}

/// Discovers `source` (as sa) into `inventory`.
pub async fn discover(s: &Sqlmig, source: &ServerHandle, inventory: &Path) {
    let server = format!("127.0.0.1,{}", source.addr.port());
    let args = [
        "discover",
        "--server",
        &server,
        "--user",
        "sa",
        "--trust-server-certificate",
        "--out",
        inventory.to_str().unwrap(),
    ];
    let out = run(s, &args, &[("SQLMIG_PASSWORD", SA_PASSWORD)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
