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

/// Events of kind `event` (`begin`, `round`, …) for step `step` (every step when `None`) in the
/// journal of a `migrate run`, read while it may still be running (0 before the journal exists).
pub fn journal_events(journal: &Path, step: Option<&str>, event: &str) -> u32 {
    let Some(c) = read_only(journal) else {
        return 0;
    };
    c.query_row(
        "SELECT COUNT(*) FROM events WHERE (?1 IS NULL OR step = ?1) AND event = ?2",
        rusqlite::params![step, event],
        |r| r.get(0),
    )
    .unwrap_or(0)
}

/// The state of step `step` in the journal of a `migrate run` (`pending` before it exists).
pub fn journal_state(journal: &Path, step: &str) -> String {
    read_only(journal)
        .and_then(|c| {
            c.query_row("SELECT state FROM steps WHERE id = ?1", [step], |r| {
                r.get(0)
            })
            .ok()
        })
        .unwrap_or_else(|| "pending".into())
}

fn read_only(journal: &Path) -> Option<rusqlite::Connection> {
    rusqlite::Connection::open_with_flags(journal, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()
}
