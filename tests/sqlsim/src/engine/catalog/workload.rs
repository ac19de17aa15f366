//! What the work clients run costs the simulated server, so sizing tools see a load they drive:
//! CPU busy time (`@@CPU_BUSY`), log bytes flushed per database (`Log Bytes Flushed/sec`), IO
//! per database file (`sys.dm_io_virtual_file_stats`), and the plan cache's statistics per
//! statement (`sys.dm_exec_query_stats` with `sys.dm_exec_sql_text` and
//! `sys.dm_exec_plan_attributes`: every statement is cached as ad hoc SQL, its own text, in the
//! database it ran in).
//!
//! The model is sqlsim's own and simple: CPU is the time statements take here; a statement that
//! changes n rows writes n × 256 log bytes plus a 512-byte commit record in one log write, and
//! ⌈n/32⌉ data pages; a query returning n rows reads ⌈n/256⌉ data pages. Each IO stalls 1 ms.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use rusqlite::{Connection, params};

/// Microseconds per `@@CPU_BUSY` tick (`@@TIMETICKS`, as SQL Server answers on Windows).
pub const TIMETICKS_US: i64 = 31_250;
/// The CPU time past which `@@CPU_BUSY` is no longer accurate: "If the time returned in
/// @@CPU_BUSY or @@IO_BUSY exceeds 49 days (approximately) of cumulative CPU time, you may
/// receive an arithmetic overflow warning. In that case, the value … [is] not accurate"
/// (cpu-busy-transact-sql.md). Stricter than the page: from there on it stays where it was.
const CPU_BUSY_LIMIT_US: i64 = 49 * 86_400 * 1_000_000;

const LOG_BYTES_PER_ROW: i64 = 256;
const COMMIT_BYTES: i64 = 512;
const ROWS_PER_WRITTEN_PAGE: i64 = 32;
const ROWS_PER_READ_PAGE: i64 = 256;
const PAGE: i64 = 8192;
/// Statements the plan cache holds at most.
const MAX_CACHED: usize = 10_000;

/// Cumulative IO of one database's data or log files.
#[derive(Clone, Copy, Debug, Default)]
struct Io {
    reads: i64,
    writes: i64,
    bytes_read: i64,
    bytes_written: i64,
}

/// A cached statement's statistics.
#[derive(Clone, Debug, Default)]
struct QueryStat {
    id: i64,
    database: String,
    executions: i64,
    elapsed_us: i64,
    reads: i64,
}

/// The work done since the instance started.
#[derive(Default)]
pub struct Workload {
    cpu_us: AtomicI64,
    /// database (lower case) → (data, log).
    io: Mutex<BTreeMap<String, (Io, Io)>>,
    /// statement text → its statistics.
    queries: Mutex<BTreeMap<String, QueryStat>>,
}

impl Workload {
    /// A statement in `database` took `elapsed_us`, changed `written` rows and returned `read`.
    pub fn account(&self, database: &str, elapsed_us: i64, written: u64, read: u64) {
        self.cpu_us.fetch_add(elapsed_us.max(0), Ordering::Relaxed);
        if written == 0 && read == 0 {
            return;
        }
        let mut io = self.io.lock().unwrap();
        let (data, log) = io.entry(database.to_ascii_lowercase()).or_default();
        let written = written as i64;
        let read = read as i64;
        if written > 0 {
            log.writes += 1;
            log.bytes_written += written * LOG_BYTES_PER_ROW + COMMIT_BYTES;
            let pages = (written + ROWS_PER_WRITTEN_PAGE - 1) / ROWS_PER_WRITTEN_PAGE;
            data.writes += pages;
            data.bytes_written += pages * PAGE;
        }
        if read > 0 {
            let pages = (read + ROWS_PER_READ_PAGE - 1) / ROWS_PER_READ_PAGE;
            data.reads += pages;
            data.bytes_read += pages * PAGE;
        }
    }

    /// Statement `text` ran once in `database`, taking `elapsed_us` and reading `pages` pages.
    pub fn cache(&self, text: &str, database: &str, elapsed_us: i64, pages: i64) {
        let mut queries = self.queries.lock().unwrap();
        // A full cache keeps what it has, as a plan cache under memory pressure would not
        // grow: the statements a test drives are few, a bulk load's distinct batches many.
        if queries.len() >= MAX_CACHED && !queries.contains_key(text) {
            return;
        }
        let next = queries.len() as i64 + 1;
        let q = queries
            .entry(text.to_string())
            .or_insert_with(|| QueryStat {
                id: next,
                database: database.to_string(),
                ..Default::default()
            });
        q.executions += 1;
        q.elapsed_us += elapsed_us.max(0);
        q.reads += pages;
    }

    /// Rewrites the plan-cache views from the statements run.
    pub fn refresh_query_stats(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch(
            "DELETE FROM master.\"sys.dm_exec_query_stats\"; \
             DELETE FROM master.\"sys.dm_exec_sql_text\"; \
             DELETE FROM master.\"sys.dm_exec_plan_attributes\";",
        )?;
        for (text, q) in self.queries.lock().unwrap().iter() {
            let sql_handle = [&[0x02u8][..], &q.id.to_be_bytes()].concat();
            let plan_handle = [&[0x06u8][..], &q.id.to_be_bytes()].concat();
            conn.execute(
                "INSERT INTO master.\"sys.dm_exec_query_stats\" VALUES \
                 (?1, 0, -1, ?2, ?3, ?4, ?4, ?5, strftime('%Y-%m-%d %H:%M:%f', 'now'), \
                  strftime('%Y-%m-%d %H:%M:%f', 'now'))",
                params![sql_handle, plan_handle, q.executions, q.elapsed_us, q.reads],
            )?;
            conn.execute(
                "INSERT INTO master.\"sys.dm_exec_sql_text\" VALUES (?1, NULL, NULL, NULL, 0, ?2)",
                params![sql_handle, text],
            )?;
            // The database is looked up here, when the cache is read, not per statement.
            conn.execute(
                "INSERT INTO master.\"sys.dm_exec_plan_attributes\" VALUES \
                 (?1, 'dbid', (SELECT database_id FROM master.__sqlsim_databases \
                               WHERE name = ?2 COLLATE NOCASE), 1), \
                 (?1, 'objectid', 0, 1), (?1, 'set_options', 4347, 1)",
                params![plan_handle, q.database],
            )?;
        }
        Ok(())
    }

    /// A server that had used `ms` of CPU before the simulation began.
    pub fn with_cpu_used(ms: u64) -> Workload {
        let w = Workload::default();
        w.cpu_us
            .store((ms as i64).saturating_mul(1000), Ordering::Relaxed);
        w
    }

    /// `@@CPU_BUSY`: busy time in ticks of [`TIMETICKS_US`], frozen once past about 49 days.
    pub fn cpu_busy_ticks(&self) -> i64 {
        self.cpu_us.load(Ordering::Relaxed).min(CPU_BUSY_LIMIT_US) / TIMETICKS_US
    }

    /// Brings the resource pools' `total_cpu_usage_ms` (bigint, "the cumulative CPU usage in
    /// milliseconds", sys-dm-resource-governor-resource-pools-transact-sql.md) up to date: the
    /// internal pool a twentieth of the instance's CPU, the default pool the rest.
    pub fn refresh_pools(&self, conn: &Connection) -> rusqlite::Result<()> {
        let ms = self.cpu_us.load(Ordering::Relaxed) / 1000;
        conn.execute(
            "UPDATE master.\"sys.dm_resource_governor_resource_pools\" SET total_cpu_usage_ms = \
             CASE name WHEN 'internal' THEN ?1 / 20 ELSE ?1 - ?1 / 20 END",
            params![ms],
        )?;
        Ok(())
    }

    /// Brings `Log Bytes Flushed/sec` (per database and `_Total`) up to date.
    pub fn refresh_counters(&self, conn: &Connection) -> rusqlite::Result<()> {
        // Every database has its instance of the Databases counters, as on a server.
        conn.execute_batch(
            "INSERT INTO master.\"sys.dm_os_performance_counters\" \
             SELECT c.object_name, c.counter_name, d.name, 0, c.cntr_type \
             FROM master.\"sys.dm_os_performance_counters\" c, master.__sqlsim_databases d \
             WHERE c.counter_name = 'Log Bytes Flushed/sec' AND c.instance_name = '_Total' \
               AND NOT EXISTS (SELECT 1 FROM master.\"sys.dm_os_performance_counters\" e \
                               WHERE e.counter_name = c.counter_name AND e.instance_name = d.name)",
        )?;
        let io = self.io.lock().unwrap();
        let mut total = 0;
        for (db, (_, log)) in io.iter() {
            total += log.bytes_written;
            conn.execute(
                "UPDATE master.\"sys.dm_os_performance_counters\" SET cntr_value = ?2 \
                 WHERE counter_name = 'Log Bytes Flushed/sec' AND instance_name = ?1 COLLATE NOCASE",
                params![db, log.bytes_written],
            )?;
        }
        conn.execute(
            "UPDATE master.\"sys.dm_os_performance_counters\" SET cntr_value = ?1 \
             WHERE counter_name = 'Log Bytes Flushed/sec' AND instance_name = '_Total'",
            [total],
        )?;
        Ok(())
    }

    /// Rewrites `sys.dm_io_virtual_file_stats` from the files and the work done: a database's
    /// data IO is spread over its data files, its log IO goes to its log file.
    pub fn refresh_file_stats(&self, conn: &Connection) -> rusqlite::Result<()> {
        conn.execute_batch("DELETE FROM master.\"sys.dm_io_virtual_file_stats\"")?;
        let files: Vec<(i64, i64, String, i64, String)> = conn
            .prepare(
                "SELECT f.database_id, f.file_id, f.type_desc, f.size, d.name \
                 FROM master.\"sys.master_files\" f JOIN master.__sqlsim_databases d \
                 ON d.database_id = f.database_id",
            )?
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<_, _>>()?;
        let io = self.io.lock().unwrap();
        let data_files = |db_id: i64| {
            files
                .iter()
                .filter(|f| f.0 == db_id && f.2.eq_ignore_ascii_case("ROWS"))
                .count()
                .max(1) as i64
        };
        let ms = self.cpu_us.load(Ordering::Relaxed) / 1000;
        for (db_id, file_id, kind, pages, name) in &files {
            let (data, log) = io
                .get(&name.to_ascii_lowercase())
                .copied()
                .unwrap_or_default();
            let (share, n) = if kind.eq_ignore_ascii_case("LOG") {
                (log, 1)
            } else {
                (data, data_files(*db_id))
            };
            conn.execute(
                "INSERT INTO master.\"sys.dm_io_virtual_file_stats\" VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?4, ?6, ?7, ?6, ?8, ?9)",
                params![
                    db_id,
                    file_id,
                    ms,
                    share.reads / n,
                    share.bytes_read / n,
                    share.writes / n,
                    share.bytes_written / n,
                    (share.reads + share.writes) / n,
                    pages * PAGE
                ],
            )?;
        }
        Ok(())
    }
}

/// Creates `sys.dm_io_virtual_file_stats`, `sys.dm_db_log_stats`,
/// `sys.database_recovery_status` and the plan-cache statistics (refreshed when read).
pub fn install(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE master.\"sys.dm_exec_query_stats\" (
             sql_handle VARBINARY(64) NOT NULL, statement_start_offset INT NOT NULL,
             statement_end_offset INT NOT NULL, plan_handle VARBINARY(64) NOT NULL,
             execution_count BIGINT NOT NULL, total_worker_time BIGINT NOT NULL,
             total_elapsed_time BIGINT NOT NULL, total_logical_reads BIGINT NOT NULL,
             last_execution_time DATETIME NOT NULL, creation_time DATETIME NOT NULL);
         CREATE TABLE master.\"sys.dm_exec_sql_text\" (
             sql_handle VARBINARY(64), dbid SMALLINT, objectid INT, number SMALLINT,
             encrypted BIT NOT NULL, text NVARCHAR(-1));
         CREATE TABLE master.\"sys.dm_exec_plan_attributes\" (
             plan_handle VARBINARY(64) NOT NULL, attribute NVARCHAR(128) NOT NULL,
             value SQL_VARIANT, is_cache_key BIT NOT NULL);
         CREATE TABLE master.\"sys.dm_db_log_stats\" (
             database_id INT NOT NULL, recovery_model NVARCHAR(60) NOT NULL,
             log_min_lsn NVARCHAR(24), log_end_lsn NVARCHAR(24), log_backup_lsn NVARCHAR(24),
             total_log_size_mb FLOAT NOT NULL, active_log_size_mb FLOAT NOT NULL);
         CREATE TABLE master.\"sys.database_recovery_status\" (
             database_id INT NOT NULL, database_guid UNIQUEIDENTIFIER,
             family_guid UNIQUEIDENTIFIER, last_log_backup_lsn NUMERIC_TEXT(25,0),
             recovery_fork_guid UNIQUEIDENTIFIER, first_recovery_fork_guid UNIQUEIDENTIFIER,
             fork_point_lsn NUMERIC_TEXT(25,0));
         CREATE TABLE master.\"sys.dm_io_virtual_file_stats\" (
             database_id SMALLINT NOT NULL, file_id SMALLINT NOT NULL, sample_ms BIGINT NOT NULL,
             num_of_reads BIGINT NOT NULL, num_of_bytes_read BIGINT NOT NULL,
             io_stall_read_ms BIGINT NOT NULL, num_of_writes BIGINT NOT NULL,
             num_of_bytes_written BIGINT NOT NULL, io_stall_write_ms BIGINT NOT NULL,
             io_stall BIGINT NOT NULL, size_on_disk_bytes BIGINT NOT NULL);",
    )
}
