//! The documents between the host and a platform plugin: what to look for (`discover`), what was
//! found, and which instance to snapshot (`collect`, answered with an inventory [`Instance`]).
//!
//! [`Instance`]: crate::Instance

use serde::{Deserialize, Serialize};

use crate::{Address, CloudResource, Confidence};

/// The `schema` of a discover request.
pub const DISCOVER_REQUEST: &str = "sqlmig.discover-request/1";
/// The `schema` of a collect request.
pub const COLLECT_REQUEST: &str = "sqlmig.collect-request/1";

/// Where to look.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoverRequest {
    pub schema: String,
    /// Hosts to probe on `ports` (a scanned range, expanded by the host).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// TCP ports to probe on each of `hosts`.
    #[serde(default)]
    pub ports: Vec<u16>,
    /// Ask SQL Server Browser (UDP 1434) on each host for named instances.
    #[serde(default)]
    pub browse: bool,
    /// Servers the operator named (`--server`, `--servers`): looked up even when not in a range.
    #[serde(default)]
    pub servers: Vec<NamedServer>,
    /// How long one probe may wait.
    pub timeout_ms: u32,
}

/// A server as the operator named it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedServer {
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// What discovery found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoverResponse {
    pub instances: Vec<FoundInstance>,
}

/// A place where a SQL Server listens, or may.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoundInstance {
    /// `HOST[\INSTANCE]`.
    pub name: String,
    pub address: Address,
    pub confidence: Confidence,
    /// What the cloud's API says of it, when a cloud's plugin listed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<CloudResource>,
    /// The version PRELOGIN or the Browser reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Why the confidence is not higher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Which instance to snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectRequest {
    pub schema: String,
    /// The SQL endpoint the host granted for this instance.
    pub endpoint: String,
    /// The instance as discovery found it.
    pub instance: FoundInstance,
    /// Also sample performance counters.
    #[serde(default)]
    pub performance: bool,
    /// How far apart the two counter samples are (rates are their difference over it).
    #[serde(default = "default_interval")]
    pub performance_interval_ms: u32,
    /// Answer a [`PerfSnapshot`] (cumulative readings, now) instead of an inventory instance:
    /// the host calls again every interval and turns differences into rates.
    #[serde(default)]
    pub perf_snapshot: bool,
    /// Answer a [`WorkloadCapture`] of this many top queries (by total elapsed time) instead of
    /// an inventory instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_top: Option<u32>,
}

/// The `schema` of a workload capture.
pub const WORKLOAD_CAPTURE: &str = "sqlmig.workload-capture/1";

/// The queries that took the server's time, from its plan cache.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadCapture {
    pub schema: String,
    pub queries: Vec<CapturedQuery>,
}

/// A cached statement and what its executions cost since it was cached.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CapturedQuery {
    /// The database it ran in (the plan's dbid); empty when unknown.
    pub database: String,
    pub text: String,
    pub executions: f64,
    pub total_elapsed_us: f64,
    pub total_cpu_us: f64,
    pub total_logical_reads: f64,
}

/// The `schema` of a performance snapshot.
pub const PERF_SNAPSHOT: &str = "sqlmig.perf-snapshot/1";

/// An instance's cumulative performance readings at one moment, as sizing needs them: CPU busy
/// time, memory in use, batches, log bytes flushed per database, IO per database file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PerfSnapshot {
    pub schema: String,
    /// Milliseconds since the epoch, by the plugin's clock.
    pub at_ms: u64,
    pub logical_cpus: u32,
    /// CPU time SQL Server has used since it started (or since its resource pools' statistics
    /// were reset), ms: the pools' `total_cpu_usage_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_busy_ms: Option<f64>,
    /// Memory in use (Total Server Memory), KB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_kb: Option<f64>,
    /// Batches run since start (Batch Requests/sec's cumulative count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_requests: Option<f64>,
    /// Log bytes flushed since start, per database.
    #[serde(default)]
    pub log_bytes_flushed: Vec<DatabaseCount>,
    /// IO since start, per database file (`sys.dm_io_virtual_file_stats`).
    #[serde(default)]
    pub files: Vec<FileIo>,
    /// What could not be read, and why.
    #[serde(default)]
    pub gaps: Vec<crate::Gap>,
}

/// A cumulative count of one database.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DatabaseCount {
    pub database: String,
    pub value: f64,
}

/// A database file's size and cumulative IO.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileIo {
    pub database: String,
    /// The logical file name.
    pub file: String,
    pub physical_name: String,
    /// ROWS or LOG.
    pub type_desc: String,
    pub size_mb: f64,
    pub reads: f64,
    pub writes: f64,
    pub bytes_read: f64,
    pub bytes_written: f64,
    pub io_stall_read_ms: f64,
    pub io_stall_write_ms: f64,
}

fn default_interval() -> u32 {
    10_000
}
