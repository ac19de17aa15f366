//! What the server is doing: `sys.dm_exec_sessions` and `sys.dm_exec_requests` from the live
//! sessions (a DMV shows the moment it is read, so the tables are rewritten just before a
//! statement reads them), and `sys.dm_server_services` from the description.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

use crate::instance::Service;

/// The first SPID of a user session; lower ones belong to the server's own tasks.
const FIRST_USER_SPID: u16 = 51;

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A connected session.
struct SessionRow {
    login: String,
    host_name: String,
    program_name: String,
    database: String,
    login_time: f64,
    request: Option<RequestRow>,
}

/// The batch a session is running.
struct RequestRow {
    start: f64,
    command: String,
    /// BACKUP and RESTORE say how far they are.
    percent_complete: f64,
    /// The database a BACKUP or RESTORE works on, which the request shows (not the session's).
    database: Option<String>,
}

/// The live sessions and their requests.
pub struct Activity {
    next_spid: AtomicU16,
    sessions: Mutex<BTreeMap<u16, SessionRow>>,
    /// Batches run by clients since the start (`Batch Requests/sec`).
    batches: std::sync::atomic::AtomicI64,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            next_spid: AtomicU16::new(FIRST_USER_SPID),
            sessions: Mutex::new(BTreeMap::new()),
            batches: Default::default(),
        }
    }
}

/// Who connected, from LOGIN7.
pub struct Connected<'a> {
    pub login: &'a str,
    pub host_name: &'a str,
    pub program_name: &'a str,
    pub database: &'a str,
}

impl Activity {
    /// Registers a new session and returns its SPID.
    pub fn open(&self, who: &Connected) -> u16 {
        let spid = self.next_spid.fetch_add(1, Ordering::Relaxed);
        self.sessions.lock().unwrap().insert(
            spid,
            SessionRow {
                login: who.login.into(),
                host_name: who.host_name.into(),
                program_name: who.program_name.into(),
                database: who.database.into(),
                login_time: now(),
                request: None,
            },
        );
        spid
    }

    /// The session ended (the client disconnected).
    pub fn close(&self, spid: u16) {
        self.sessions.lock().unwrap().remove(&spid);
    }

    /// Session `spid` started running a batch whose first statement is `command`.
    pub fn begin(&self, spid: u16, database: &str, command: &str) {
        if spid != 0 {
            self.batches.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(s) = self.sessions.lock().unwrap().get_mut(&spid) {
            s.database = database.into();
            s.request = Some(RequestRow {
                start: now(),
                command: command.into(),
                percent_complete: 0.0,
                database: None,
            });
        }
    }

    /// Session `spid` moved on to a statement that is `command`.
    pub fn now_running(&self, spid: u16, command: &str) {
        if let Some(r) = self
            .sessions
            .lock()
            .unwrap()
            .get_mut(&spid)
            .and_then(|s| s.request.as_mut())
        {
            r.command = command.into();
        }
    }

    /// Session `spid`'s request works on `database` (BACKUP, RESTORE).
    pub fn request_database(&self, spid: u16, database: &str) {
        if let Some(r) = self
            .sessions
            .lock()
            .unwrap()
            .get_mut(&spid)
            .and_then(|s| s.request.as_mut())
        {
            r.database = Some(database.to_string());
        }
    }

    /// Session `spid`'s BACKUP or RESTORE is `pct` percent done.
    pub fn set_percent(&self, spid: u16, pct: f64) {
        if let Some(r) = self
            .sessions
            .lock()
            .unwrap()
            .get_mut(&spid)
            .and_then(|s| s.request.as_mut())
        {
            r.percent_complete = pct.clamp(0.0, 100.0);
        }
    }

    /// Session `spid` finished its batch, in `database`.
    pub fn end(&self, spid: u16, database: &str) {
        if let Some(s) = self.sessions.lock().unwrap().get_mut(&spid) {
            s.database = database.into();
            s.request = None;
        }
    }

    /// Updates the counters that come from what the simulator did.
    pub fn refresh_counters(&self, conn: &Connection) -> rusqlite::Result<()> {
        let connections = self.sessions.lock().unwrap().len() as i64;
        conn.execute(
            "UPDATE master.\"sys.dm_os_performance_counters\" SET cntr_value = ?1 \
             WHERE counter_name = 'Batch Requests/sec'",
            [self.batches.load(Ordering::Relaxed)],
        )?;
        conn.execute(
            "UPDATE master.\"sys.dm_os_performance_counters\" SET cntr_value = ?1 \
             WHERE counter_name = 'User Connections'",
            [connections],
        )?;
        Ok(())
    }

    /// Rewrites master's session and request tables from the live sessions.
    pub fn refresh(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch(
            "DELETE FROM master.\"sys.dm_exec_sessions\"; DELETE FROM master.\"sys.dm_exec_requests\";",
        )?;
        let at = now();
        let db_id =
            "(SELECT database_id FROM master.\"sys.databases\" WHERE name = ?3 COLLATE NOCASE)";
        for (spid, s) in self.sessions.lock().unwrap().iter() {
            let status = if s.request.is_some() {
                "running"
            } else {
                "sleeping"
            };
            conn.execute(
                &format!(
                    "INSERT INTO master.\"sys.dm_exec_sessions\" (session_id, login_time, host_name, \
                     program_name, client_interface_name, login_name, status, database_id, \
                     is_user_process, original_login_name, last_request_start_time, \
                     last_request_end_time) VALUES (?1, \
                     strftime('%Y-%m-%d %H:%M:%f', ?2, 'unixepoch'), ?4, ?5, 'sqlsim', ?6, ?7, \
                     {db_id}, 1, ?6, strftime('%Y-%m-%d %H:%M:%f', ?2, 'unixepoch'), \
                     strftime('%Y-%m-%d %H:%M:%f', ?2, 'unixepoch'))"
                ),
                rusqlite::params![
                    spid,
                    s.login_time,
                    s.database,
                    s.host_name,
                    s.program_name,
                    s.login,
                    status
                ],
            )?;
            let Some(r) = &s.request else { continue };
            // A WAITFOR waits; everything else is on a CPU.
            let waiting = r.command == "WAITFOR";
            let elapsed_ms = ((at - r.start) * 1000.0) as i64;
            conn.execute(
                &format!(
                    "INSERT INTO master.\"sys.dm_exec_requests\" VALUES (?1, 0, \
                     strftime('%Y-%m-%d %H:%M:%f', ?2, 'unixepoch'), ?4, ?5, \
                     COALESCE((SELECT database_id FROM master.\"sys.databases\" WHERE name = ?11 COLLATE NOCASE), {db_id}), \
                     1, 0, ?6, ?8, COALESCE(?6, 'SOS_SCHEDULER_YIELD'), '', 0, ?10, 0, ?9, ?7, 0, 0, 0)"
                ),
                rusqlite::params![
                    spid,
                    r.start,
                    s.database,
                    if waiting { "suspended" } else { "running" },
                    r.command,
                    waiting.then_some("WAITFOR"),
                    elapsed_ms,
                    if waiting { elapsed_ms } else { 0 },
                    if waiting { 0 } else { elapsed_ms },
                    r.percent_complete,
                    r.database
                ],
            )?;
        }
        Ok(())
    }
}

/// The command `sys.dm_exec_requests` shows for a batch: its first statement's verb.
pub fn command_of(sql: &str) -> String {
    let first = sql
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_end_matches(';')
        .to_ascii_uppercase();
    match first.as_str() {
        "BACKUP" | "RESTORE" => {
            let what = sql
                .split_whitespace()
                .nth(1)
                .unwrap_or("DATABASE")
                .to_ascii_uppercase();
            format!("{first} {what}")
        }
        "" => "SELECT".into(),
        "EXEC" => "EXECUTE".into(),
        _ => first,
    }
}

/// Creates `sys.dm_os_performance_counters` with the counters capacity planning reads, plus the
/// description's.
pub fn install_counters(
    conn: &Connection,
    inst: &crate::instance::Instance,
) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE master.\"sys.dm_os_performance_counters\" (
             object_name NCHAR(128) NOT NULL, counter_name NCHAR(128) NOT NULL,
             instance_name NCHAR(128), cntr_value BIGINT NOT NULL, cntr_type INT NOT NULL);",
    )?;
    // A named instance's objects are MSSQL$NAME:…, a default instance's SQLServer:….
    let prefix = match inst.server_name.split_once('\\') {
        Some((_, name)) => format!("MSSQL${name}"),
        None => "SQLServer".into(),
    };
    let memory_kb = inst.host.physical_memory_mb as i64 * 1024 * 3 / 4;
    // (object, counter, instance, value, cntr_type): the counters capacity planning and
    // Microsoft's assessment read, with values of a quiet server. Types: 272696576 cumulative
    // (per-second rates come from two samples), 65792 a current value, 537003264 a fraction of
    // its base (1073939712), 1073874176 an average.
    const BULK: i32 = 272_696_576;
    const RAW: i32 = 65_792;
    const FRACTION: i32 = 537_003_264;
    const BASE: i32 = 1_073_939_712;
    const AVERAGE: i32 = 1_073_874_176;
    let mut defaults: Vec<(&str, &str, &str, i64, i32)> = vec![
        ("SQL Statistics", "Batch Requests/sec", "", 0, BULK),
        ("SQL Statistics", "SQL Compilations/sec", "", 0, BULK),
        ("SQL Statistics", "SQL Re-Compilations/sec", "", 0, BULK),
        ("General Statistics", "User Connections", "", 0, RAW),
        ("Buffer Manager", "Page life expectancy", "", 3600, RAW),
        (
            "Buffer Manager",
            "Buffer cache hit ratio",
            "",
            998,
            FRACTION,
        ),
        (
            "Buffer Manager",
            "Buffer cache hit ratio base",
            "",
            1000,
            BASE,
        ),
        ("Buffer Manager", "Lazy writes/sec", "", 120, BULK),
        ("Buffer Manager", "Page lookups/sec", "", 2_400_000, BULK),
        (
            "Memory Manager",
            "Total Server Memory (KB)",
            "",
            memory_kb,
            RAW,
        ),
        (
            "Memory Manager",
            "Free Memory (KB)",
            "",
            memory_kb / 10,
            RAW,
        ),
        ("Memory Manager", "Memory Grants Pending", "", 0, RAW),
        ("Databases", "Log Bytes Flushed/sec", "_Total", 0, BULK),
        ("Databases", "Transactions/sec", "_Total", 0, BULK),
        ("Access Methods", "Forwarded Records/sec", "", 40, BULK),
        ("Access Methods", "FreeSpace Scans/sec", "", 25, BULK),
        ("Access Methods", "Full Scans/sec", "", 900, BULK),
        ("Access Methods", "Index Searches/sec", "", 1_800_000, BULK),
        ("Access Methods", "Page Splits/sec", "", 3_100, BULK),
        (
            "Access Methods",
            "Scan Point Revalidations/sec",
            "",
            0,
            BULK,
        ),
        ("Access Methods", "Workfiles Created/sec", "", 210, BULK),
        ("Access Methods", "Worktables Created/sec", "", 260, BULK),
        (
            "Access Methods",
            "Worktables From Cache Ratio",
            "",
            97,
            FRACTION,
        ),
        (
            "Access Methods",
            "Worktables From Cache Base",
            "",
            100,
            BASE,
        ),
        ("Latches", "Latch Waits/sec", "", 5_200, BULK),
        ("Latches", "Total Latch Wait Time (ms)", "", 7_800, BULK),
    ];
    for instance in [
        "_Total",
        "TSQL Local Cursor",
        "TSQL Global Cursor",
        "API Cursor",
    ] {
        defaults.push((
            "Cursor Manager by Type",
            "Cursor Requests/sec",
            instance,
            0,
            BULK,
        ));
    }
    for instance in ["_Total", "Database", "Object", "Page", "Key", "RID"] {
        defaults.push(("Locks", "Lock Requests/sec", instance, 50_000, BULK));
        defaults.push(("Locks", "Lock Wait Time (ms)", instance, 0, BULK));
        defaults.push(("Locks", "Number of Deadlocks/sec", instance, 0, BULK));
    }
    for counter in [
        "Log write waits",
        "Network IO waits",
        "Non-Page latch waits",
        "Page IO latch waits",
        "Page latch waits",
        "Wait for the worker",
    ] {
        defaults.push((
            "Wait Statistics",
            counter,
            "Average wait time (ms)",
            2,
            AVERAGE,
        ));
        defaults.push((
            "Wait Statistics",
            counter,
            "Cumulative wait time (ms) per second",
            40,
            BULK,
        ));
        defaults.push(("Wait Statistics", counter, "Waits in progress", 0, RAW));
        defaults.push((
            "Wait Statistics",
            counter,
            "Waits started per second",
            20,
            BULK,
        ));
    }
    let mut insert = conn.prepare(
        "INSERT INTO master.\"sys.dm_os_performance_counters\" VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (object, counter, instance, value, ty) in defaults {
        let described = inst
            .perf_counters
            .iter()
            .any(|c| c.counter == counter && c.instance == instance);
        if !described {
            insert.execute(rusqlite::params![
                format!("{prefix}:{object}"),
                counter,
                instance,
                value,
                ty
            ])?;
        }
    }
    for c in &inst.perf_counters {
        let object = match c.object.split_once(':') {
            Some((_, rest)) => format!("{prefix}:{rest}"),
            None => c.object.clone(),
        };
        insert.execute(rusqlite::params![
            object,
            c.counter,
            c.instance,
            c.value,
            c.cntr_type
        ])?;
    }
    Ok(())
}

/// Creates master's activity DMVs and fills `sys.dm_server_services`.
pub fn install(conn: &Connection, services: &[Service]) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE master.\"sys.dm_exec_sessions\" (
             session_id SMALLINT PRIMARY KEY, login_time DATETIME NOT NULL,
             host_name NVARCHAR(128) COLLATE NOCASE, program_name NVARCHAR(128) COLLATE NOCASE,
             client_interface_name NVARCHAR(32) COLLATE NOCASE, login_name NVARCHAR(128) COLLATE NOCASE NOT NULL,
             status NVARCHAR(30) COLLATE NOCASE NOT NULL, database_id SMALLINT,
             is_user_process BIT NOT NULL, original_login_name NVARCHAR(128) COLLATE NOCASE NOT NULL,
             cpu_time INT NOT NULL DEFAULT 0, memory_usage INT NOT NULL DEFAULT 2,
             last_request_start_time DATETIME, last_request_end_time DATETIME,
             open_transaction_count INT NOT NULL DEFAULT 0);
         CREATE TABLE master.\"sys.dm_exec_requests\" (
             session_id SMALLINT NOT NULL, request_id INT NOT NULL, start_time DATETIME NOT NULL,
             status NVARCHAR(30) COLLATE NOCASE NOT NULL, command NVARCHAR(32) COLLATE NOCASE NOT NULL,
             database_id SMALLINT NOT NULL, user_id INT, blocking_session_id SMALLINT,
             wait_type NVARCHAR(60) COLLATE NOCASE, wait_time INT NOT NULL,
             last_wait_type NVARCHAR(60) COLLATE NOCASE NOT NULL, wait_resource NVARCHAR(256) COLLATE NOCASE NOT NULL,
             open_transaction_count INT NOT NULL, percent_complete REAL NOT NULL,
             estimated_completion_time BIGINT NOT NULL, cpu_time INT NOT NULL,
             total_elapsed_time INT NOT NULL, reads BIGINT NOT NULL, writes BIGINT NOT NULL,
             logical_reads BIGINT NOT NULL);
         CREATE TABLE master.\"sys.dm_server_services\" (
             servicename NVARCHAR(256) COLLATE NOCASE NOT NULL, startup_type INT,
             startup_type_desc NVARCHAR(256) COLLATE NOCASE NOT NULL, status INT,
             status_desc NVARCHAR(256) COLLATE NOCASE NOT NULL, process_id INT,
             last_startup_time DATETIMEOFFSET(7), service_account NVARCHAR(256) COLLATE NOCASE NOT NULL,
             filename NVARCHAR(256) COLLATE NOCASE NOT NULL, is_clustered NVARCHAR(1) COLLATE NOCASE NOT NULL,
             cluster_nodename NVARCHAR(256) COLLATE NOCASE,
             instant_file_initialization_enabled NVARCHAR(1) COLLATE NOCASE NOT NULL);",
    )?;
    for (i, s) in services.iter().enumerate() {
        // The documented codes: startup 2 automatic, 3 manual, 4 disabled; status 1 stopped,
        // 4 running.
        let startup = match s.startup.to_ascii_lowercase().as_str() {
            "automatic" => 2,
            "disabled" => 4,
            _ => 3,
        };
        let running = s.status.eq_ignore_ascii_case("running");
        let exe = if s.name.starts_with("SQL Server Agent") {
            "SQLAGENT.EXE"
        } else {
            "sqlservr.exe"
        };
        conn.execute(
            "INSERT INTO master.\"sys.dm_server_services\" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \
             ?9, 'N', NULL, ?10)",
            rusqlite::params![
                s.name,
                startup,
                s.startup,
                if running { 4 } else { 1 },
                if running { "Running" } else { "Stopped" },
                running.then_some(1000 + i as i64),
                running.then_some("2024-01-01 00:00:00.0000000 +00:00"),
                s.account,
                format!("\"C:\\Program Files\\Microsoft SQL Server\\MSSQL\\Binn\\{exe}\""),
                if s.instant_file_initialization {
                    "Y"
                } else {
                    "N"
                }
            ],
        )?;
    }
    Ok(())
}
