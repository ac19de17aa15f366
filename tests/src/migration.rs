//! What the migration tests share: running the binary beside the simulated servers, and a source
//! discovered into an inventory.

use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::OptionalExtension;
use sqlsim::engine::Session;
use sqlsim::server::ServerHandle;

use crate::cli::{Sqlmig, stderr};
use crate::estate::SA_PASSWORD;

/// Runs `sqlmig ARGS` with `env` without blocking the runtime the simulated servers run on.
pub async fn run(s: &Sqlmig, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::from(s.command(args));
    for (k, v) in env {
        cmd.env(k, v);
    }
    crate::cli::output_within_async(cmd).await
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
    read_while_running(journal, |c| {
        c.query_row(
            "SELECT COUNT(*) FROM events WHERE (?1 IS NULL OR step = ?1) AND event = ?2",
            rusqlite::params![step, event],
            |r| r.get(0),
        )
    })
    .unwrap_or(0)
}

/// The state of step `step` in the journal of a `migrate run` (`pending` before it exists).
pub fn journal_state(journal: &Path, step: &str) -> String {
    read_while_running(journal, |c| {
        c.query_row("SELECT state FROM steps WHERE id = ?1", [step], |r| {
            r.get(0)
        })
        .optional()
    })
    .flatten()
    .unwrap_or_else(|| "pending".into())
}

/// Removes plugin `scope`'s durable state under the keys starting `prefix` from a journal, as a
/// run killed before it wrote them left it.
pub fn forget_plugin_state(journal: &Path, scope: &str, prefix: &str) {
    rusqlite::Connection::open(journal)
        .unwrap()
        .execute(
            "DELETE FROM plugin_state WHERE scope = ?1 AND substr(key, 1, length(?2)) = ?2",
            rusqlite::params![scope, prefix],
        )
        .unwrap();
}

/// `read` on the journal a run may be writing; `None` while the run has not made it yet. Any
/// other failure is the test's: a poll that took it for "not yet" would wait out its deadline
/// and then blame the run.
fn read_while_running<T>(
    journal: &Path,
    read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
) -> Option<T> {
    if !journal.exists() {
        return None;
    }
    let c =
        rusqlite::Connection::open_with_flags(journal, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("{}: {e}", journal.display()));
    c.busy_timeout(Duration::from_secs(5)).unwrap();
    match read(&c) {
        Ok(value) => Some(value),
        // Made, its tables not yet; or SQLite's short holds while a run makes or recovers the
        // file, which it answers "busy" without waiting for (sqlite.org/wal.html).
        Err(e) if e.to_string().starts_with("no such table") => None,
        Err(rusqlite::Error::SqliteFailure(f, _))
            if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            None
        }
        Err(e) => panic!("{}: {e}", journal.display()),
    }
}

/// A writer inserting rows one by one into Sales.dbo.Orders, as an application does, until
/// stopped.
pub struct Writer {
    handle: Option<tokio::task::JoinHandle<()>>,
    written: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

/// A test that fails before it stops its writer must not hang: the runtime it ran on waits for
/// its blocking threads when dropped.
impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Writer {
    /// Starts writing into `source`'s Sales.dbo.Orders (ids 1, 2, …).
    pub fn start(source: &ServerHandle) -> Writer {
        let written = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, w, st) = (source.engine.clone(), written.clone(), stop.clone());
        let handle = tokio::task::spawn_blocking(move || {
            let mut s = Session::new("sa", "Sales");
            while !st.load(Ordering::Relaxed) {
                let n = w.load(Ordering::Relaxed) + 1;
                let r = engine.execute(
                    &mut s,
                    &format!("INSERT INTO dbo.Orders VALUES ({n}, N'order {n}')"),
                    &[],
                );
                assert!(r.error.is_none(), "insert {n}: {:?}", r.error);
                w.store(n, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Writer {
            handle: Some(handle),
            written,
            stop,
        }
    }

    /// Stops the writer (the application is stopped for the cutover); the rows it wrote.
    pub async fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let handle = self.handle.take().expect("stopped once");
        tokio::time::timeout(Duration::from_secs(60), handle)
            .await
            .expect("the writer's INSERT returns within a minute")
            .expect("every INSERT succeeded");
        self.written.load(Ordering::Relaxed)
    }
}

/// Files the LRS double at `addr` has restored for Sales on managed instance `mi` (0 before it
/// starts), asked with ARM token `token`.
pub async fn restored_files(addr: std::net::SocketAddr, mi: &str, token: &str) -> u64 {
    use sqlmig::capabilities::http::{HttpBackend, HttpRequest};
    let url = sqlmig_protocol::migration::arm::restore_details(&format!(
        "http://{addr}{mi}/databases/Sales"
    ));
    let client = sqlmig::cloud::CloudHttp::new(std::collections::BTreeMap::from([(
        format!("http://{addr}"),
        sqlmig::secret::Secret::new(token),
    )]))
    .unwrap();
    match client
        .send(HttpRequest {
            method: "GET".into(),
            url,
            headers: Vec::new(),
            body: Vec::new(),
        })
        .await
    {
        Ok(r) if r.status == 200 => serde_json::from_slice::<serde_json::Value>(&r.body)
            .unwrap_or_default()["properties"]["sqlsimFilesRestored"]
            .as_u64()
            .unwrap_or(0),
        _ => 0,
    }
}

/// An MI-mode sqlsim instance with no user database: a migration's target.
pub fn mi_target() -> sqlsim::instance::Instance {
    let mut inst = sqlsim::instance::Instance::default_with_sa(SA_PASSWORD);
    inst.platform = sqlsim::instance::Platform::Mi;
    inst.server_name = "MI01".into();
    inst.databases.clear();
    inst
}

/// `sqlmig ARGS` with owned `env` values (a cloud's variables), beside the simulated servers.
pub async fn run_with(s: &Sqlmig, args: &[&str], env: &[(&str, String)]) -> Output {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    run(s, args, &env).await
}

/// `migrate plan` from `inventory` to the server `target` (HOST,PORT) through `container`, with
/// `extra` flags (a method, options), written to `plan`.
pub async fn plan(
    s: &Sqlmig,
    inventory: &Path,
    target: &str,
    container: &str,
    extra: &[&str],
    plan: &Path,
) -> Output {
    plan_with(s, inventory, target, container, extra, plan, &[]).await
}

/// [`plan`] with `env` (a cloud's variables, for a source platform's backup offer).
pub async fn plan_with(
    s: &Sqlmig,
    inventory: &Path,
    target: &str,
    container: &str,
    extra: &[&str],
    plan: &Path,
    env: &[(&str, String)],
) -> Output {
    let mut args = vec![
        "migrate",
        "plan",
        "--inventory",
        inventory.to_str().unwrap(),
        "--target",
        target,
        "--container-url",
        container,
        "--out",
        plan.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_with(s, &args, env).await
}

/// The arguments of `migrate run PLAN` as sa on both sides.
pub fn migrate_run_args(plan: &Path) -> [&str; 8] {
    [
        "migrate",
        "run",
        plan.to_str().unwrap(),
        "--source-user",
        "sa",
        "--target-user",
        "sa",
        "--trust-server-certificate",
    ]
}

/// `migrate run PLAN` as sa on both sides (passwords and the SAS in `env`).
pub async fn migrate_run(s: &Sqlmig, plan: &Path, env: &[(&str, String)]) -> Output {
    run_with(s, &migrate_run_args(plan), env).await
}

/// The login and container variables a `migrate run` as sa needs, with `sas`.
pub fn run_env(sas: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SQLMIG_SOURCE_PASSWORD", SA_PASSWORD.to_string()),
        ("SQLMIG_TARGET_PASSWORD", SA_PASSWORD.to_string()),
        ("SQLMIG_SAS", sas.to_string()),
    ]
}

/// The first value `sql` answers on `server`'s own engine, as `Debug` prints it.
pub fn first_value(server: &ServerHandle, sql: &str) -> String {
    let mut s = Session::new("sa", "master");
    let r = server.engine.execute(&mut s, sql, &[]);
    assert!(r.error.is_none(), "{sql}: {:?}", r.error);
    r.outcomes
        .into_iter()
        .find_map(|o| match o {
            sqlsim::engine::Outcome::Rows { rows, .. } => {
                rows.into_iter().next().map(|r| format!("{r:?}"))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("{sql}: no row"))
}

/// A file's text (lossy), for looking for what must not be in it.
pub fn file_text(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned()
}

/// A journal's text (lossy) with its write-ahead log's, which holds what a run wrote last until
/// SQLite moves it into the file, for looking for what must not be in it.
pub fn journal_text(journal: &Path) -> String {
    let mut wal = journal.as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::fs::read(&wal).unwrap_or_default();
    file_text(journal) + &String::from_utf8_lossy(&wal)
}
