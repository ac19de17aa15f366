//! Performance samples: two readings of sys.dm_os_performance_counters an interval apart; a
//! per-second counter becomes its rate over the interval, a value counter its second reading.
//! And snapshots for `sqlmig perf collect`: cumulative readings the host differences itself.

use crate::protocol::discovery::{
    CapturedQuery, DatabaseCount, FileIo, PERF_SNAPSHOT, PerfSnapshot, WORKLOAD_CAPTURE,
    WorkloadCapture,
};
use crate::protocol::{Gap, PerfSample};
use crate::sql::Connection;
use crate::{Error, Rows, clock, invalid_input};

use super::queries as q;

/// PERF_COUNTER_BULK_COUNT: a cumulative count whose rate is the counter's meaning.
const PER_SECOND: i64 = 272_696_576;

/// (name as perfmon writes it, type, value) of each counter now.
fn read(conn: &Connection) -> Result<Vec<(String, i64, i64)>, Error> {
    let mut sets = conn.query(q::PERF_COUNTERS, &[])?;
    if sets.is_empty() {
        return Err(invalid_input(
            "sys.dm_os_performance_counters gave no result",
        ));
    }
    Rows::new(sets.swap_remove(0))
        .iter()
        .map(|r| {
            let object: String = r.get("object_name")?;
            let counter: String = r.get("counter_name")?;
            let instance: String = r
                .get::<Option<String>>("instance_name")?
                .unwrap_or_default();
            let name = if instance.is_empty() {
                format!("{object}\\{counter}")
            } else {
                format!("{object}\\{counter}[{instance}]")
            };
            Ok((name, r.get("cntr_type")?, r.get("cntr_value")?))
        })
        .collect()
}

/// Samples the counters over `interval_ms`.
pub fn sample(conn: &Connection, interval_ms: u32) -> Result<Vec<PerfSample>, Error> {
    let before = read(conn)?;
    let t0 = clock::now();
    clock::sleep(interval_ms.into());
    let after = read(conn)?;
    let t1 = clock::now();
    let secs = ((t1.saturating_sub(t0)) as f64 / 1000.0).max(0.001);
    let at = crate::time::rfc3339(t1);
    Ok(after
        .into_iter()
        .map(|(name, ty, value)| {
            let value = if ty == PER_SECOND {
                let earlier = before
                    .iter()
                    .find(|(n, _, _)| *n == name)
                    .map_or(value, |(_, _, v)| *v);
                (value - earlier).max(0) as f64 / secs
            } else {
                value as f64
            };
            PerfSample {
                at: at.clone(),
                counter: name,
                value,
            }
        })
        .collect())
}

/// The instance's cumulative readings now. A part the login may not read (VIEW SERVER STATE)
/// or this version lacks becomes a gap; a lost connection is an error.
pub fn snapshot(conn: &Connection) -> Result<PerfSnapshot, Error> {
    let mut snap = PerfSnapshot {
        schema: PERF_SNAPSHOT.into(),
        at_ms: clock::now(),
        ..Default::default()
    };
    let mut gaps = Vec::new();
    let mut part = |what: &str, r: Result<(), Error>| -> Result<(), Error> {
        match r {
            Err(Error::SqlError(e)) => {
                gaps.push(Gap {
                    what: what.into(),
                    reason: e.message,
                    error_number: Some(e.number),
                });
                Ok(())
            }
            Err(Error::InvalidInput(m)) => {
                gaps.push(Gap {
                    what: what.into(),
                    reason: m,
                    error_number: None,
                });
                Ok(())
            }
            other => other,
        }
    };
    part(
        "cpu",
        (|| {
            let rows = first(conn, q::CPU_BUSY)?;
            if let Some(r) = rows.iter().next() {
                snap.cpu_busy_ms = r.get::<Option<f64>>("cpu_busy_ms")?;
                snap.logical_cpus = r.get::<i64>("cpu_count")?.max(0) as u32;
            }
            Ok(())
        })(),
    )?;
    part(
        "counters",
        (|| {
            for r in first(conn, q::SNAPSHOT_COUNTERS)?.iter() {
                let counter: String = r.get("counter_name")?;
                let instance: String = r
                    .get::<Option<String>>("instance_name")?
                    .unwrap_or_default();
                let value: f64 = r.get("cntr_value")?;
                match counter.as_str() {
                    "Total Server Memory (KB)" => snap.memory_kb = Some(value),
                    "Batch Requests/sec" => snap.batch_requests = Some(value),
                    "Log Bytes Flushed/sec" if instance != "_Total" && !instance.is_empty() => {
                        snap.log_bytes_flushed.push(DatabaseCount {
                            database: instance,
                            value,
                        })
                    }
                    _ => {}
                }
            }
            Ok(())
        })(),
    )?;
    part(
        "files",
        (|| {
            for r in first(conn, q::FILE_IO)?.iter() {
                snap.files.push(FileIo {
                    database: r
                        .get::<Option<String>>("database_name")?
                        .unwrap_or_default(),
                    file: r.get("file_name")?,
                    physical_name: r.get("physical_name")?,
                    type_desc: r.get("type_desc")?,
                    size_mb: r.get("size_mb")?,
                    reads: r.get("num_of_reads")?,
                    writes: r.get("num_of_writes")?,
                    bytes_read: r.get("num_of_bytes_read")?,
                    bytes_written: r.get("num_of_bytes_written")?,
                    io_stall_read_ms: r.get("io_stall_read_ms")?,
                    io_stall_write_ms: r.get("io_stall_write_ms")?,
                });
            }
            Ok(())
        })(),
    )?;
    snap.gaps = gaps;
    Ok(snap)
}

/// The `top` statements of the plan cache by total elapsed time.
pub fn workload(conn: &Connection, top: u32) -> Result<WorkloadCapture, Error> {
    let queries = first(conn, &q::top_queries(top.clamp(1, 1000)))?
        .iter()
        .map(|r| {
            Ok(CapturedQuery {
                database: r
                    .get::<Option<String>>("database_name")?
                    .unwrap_or_default(),
                text: r
                    .get::<Option<String>>("statement_text")?
                    .unwrap_or_default(),
                executions: r.get("execution_count")?,
                total_elapsed_us: r.get("total_elapsed_time")?,
                total_cpu_us: r.get("total_worker_time")?,
                total_logical_reads: r.get("total_logical_reads")?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(WorkloadCapture {
        schema: WORKLOAD_CAPTURE.into(),
        queries,
    })
}

fn first(conn: &Connection, sql: &str) -> Result<Rows, Error> {
    let mut sets = conn.query(sql, &[])?;
    if sets.is_empty() {
        return Err(invalid_input(format!("no result from: {sql}")));
    }
    Ok(Rows::new(sets.swap_remove(0)))
}
