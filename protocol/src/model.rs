//! The inventory document, `sqlmig.inventory/1`.
//!
//! Field names follow the catalog views they come from (`compatibility_level`, `type_desc`), so a
//! DBA reading the JSON recognises them and a rule author can look them up in Microsoft's
//! documentation. Sizes are in MB unless the name says otherwise. No field ever holds a secret:
//! credentials and linked-server logins appear by name only.
//!
//! Readers ignore fields they do not know, so later `sqlmig.inventory/1` writers may add fields;
//! a change that removes or retypes one is `sqlmig.inventory/2`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The `schema` value of this version of the document.
pub const SCHEMA: &str = "sqlmig.inventory/1";

#[cfg(feature = "schema")]
use schemars::JsonSchema;

/// A snapshot of one or more SQL Server instances.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Inventory {
    /// Always `sqlmig.inventory/1` for this version.
    pub schema: String,
    /// When the snapshot was taken (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub generated_at: String,
    /// The tool and plugin that wrote it, e.g. `sqlmig 0.1.0 / platform-onprem 0.1.0`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub generated_by: String,
    #[serde(default)]
    pub instances: Vec<Instance>,
}

/// How sure discovery is that a SQL Server listens there, strongest first (as dbatools'
/// Find-DbaInstance grades it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Only a TCP port answered.
    #[default]
    PortOpen,
    /// Something answered TDS PRELOGIN with a SQL Server version.
    TdsAnswered,
    /// A cloud's API lists it as a SQL Server instance (RDS, Cloud SQL).
    Listed,
    /// sqlmig logged in and read the catalog.
    LoggedIn,
}

/// How far collection got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CollectionStatus {
    /// Everything was read.
    #[default]
    Complete,
    /// Read, but some parts were not (see `gaps`).
    Partial,
    /// Found but not collected (see `error`).
    Failed,
}

/// Where an instance listens.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Address {
    pub host: String,
    pub port: u16,
    /// The named instance (`HOST\INSTANCE`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

/// A managed instance as its cloud's API describes it (RDS `DescribeDBInstances`, Cloud SQL
/// `instances.list`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct CloudResource {
    /// The platform plugin's name for the cloud service: `aws-rds`, `gcp-cloudsql`.
    pub service: String,
    /// The cloud's identifier (RDS DB instance identifier, Cloud SQL instance name).
    pub id: String,
    /// Region (or project and region) it runs in.
    #[serde(default)]
    pub region: String,
    /// The engine as the cloud names it: `sqlserver-se`, `SQLSERVER_2019_STANDARD`.
    #[serde(default)]
    pub engine: String,
    /// The engine version as the cloud reports it: `15.00.4345.5.v1`.
    #[serde(default)]
    pub engine_version: String,
    /// Its state as the cloud reports it: `available`, `RUNNABLE`.
    #[serde(default)]
    pub status: String,
    /// Further properties by the cloud's own names (instance class, storage type, option and
    /// parameter groups, flags), for rules that check them.
    #[serde(default)]
    pub properties: std::collections::BTreeMap<String, String>,
}

/// One SQL Server instance.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Instance {
    /// `@@SERVERNAME` when logged in, else `HOST[\INSTANCE]`.
    pub name: String,
    #[serde(default)]
    pub address: Address,
    /// `onprem`, `aws-rds`, `gcp-cloudsql` or `mi`: the platform plugin that collected it.
    #[serde(default)]
    pub platform: String,
    #[serde(default)]
    pub confidence: Confidence,
    /// What the cloud's API says of it, for an instance a cloud runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<CloudResource>,
    #[serde(default)]
    pub status: CollectionStatus,
    /// Why collection failed (status `failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What could not be read, and why (status `partial`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<Gap>,
    /// Server properties; absent when login failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<Server>,
    #[serde(default)]
    pub configurations: Vec<Configuration>,
    /// Global trace flags (DBCC TRACESTATUS).
    #[serde(default)]
    pub trace_flags: Vec<i32>,
    #[serde(default)]
    pub logins: Vec<Login>,
    #[serde(default)]
    pub linked_servers: Vec<LinkedServer>,
    /// SQL Server Agent jobs (msdb).
    #[serde(default)]
    pub jobs: Vec<Job>,
    #[serde(default)]
    pub server_triggers: Vec<ServerTrigger>,
    #[serde(default)]
    pub audits: Vec<Audit>,
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// Credential names (sys.credentials); never their secrets.
    #[serde(default)]
    pub credentials: Vec<String>,
    /// SQL Server Agent's alerts, operators, proxies and Database Mail profiles (msdb).
    #[serde(default)]
    pub agent: Agent,
    /// Extended Events sessions with their targets.
    #[serde(default)]
    pub xevent_sessions: Vec<XeSession>,
    #[serde(default)]
    pub databases: Vec<Database>,
    /// Performance counter samples, when collection was asked for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub performance: Vec<PerfSample>,
}

/// A part of the instance that could not be read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Gap {
    /// What is missing, e.g. `server.cpu_count` or `databases[Sales].tables`.
    pub what: String,
    /// Why, as the server said it.
    pub reason: String,
    /// SQL Server's error number (300 for a missing VIEW SERVER STATE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_number: Option<i32>,
}

/// SERVERPROPERTY, @@VERSION and the host.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Server {
    /// `13.0.6300.0`.
    pub product_version: String,
    /// 10 (2008/2008 R2) … 16 (2022).
    pub major_version: u32,
    pub edition: String,
    /// SERVERPROPERTY('EngineEdition'): 2 Standard, 3 Enterprise, 4 Express, 8 MI.
    pub engine_edition: i32,
    /// The server collation.
    pub collation: String,
    /// `Windows` or `Linux`.
    #[serde(default)]
    pub host_platform: String,
    /// The full @@VERSION text.
    #[serde(default)]
    pub version_text: String,
    /// Logical CPUs (sys.dm_os_sys_info); absent without VIEW SERVER STATE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_count: Option<u32>,
    /// Physical memory in MB; absent without VIEW SERVER STATE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_memory_mb: Option<u64>,
    #[serde(default)]
    pub is_clustered: bool,
    #[serde(default)]
    pub is_hadr_enabled: bool,
}

/// An sp_configure option.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Configuration {
    pub name: String,
    pub value: i64,
    pub value_in_use: i64,
}

/// A server login.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Login {
    pub name: String,
    /// SQL_LOGIN, WINDOWS_LOGIN, WINDOWS_GROUP, …
    pub type_desc: String,
    pub is_disabled: bool,
    /// Member of sysadmin.
    pub is_sysadmin: bool,
}

/// A linked server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct LinkedServer {
    pub name: String,
    pub product: String,
    /// The OLE DB provider: SQLNCLI11, MSOLEDBSQL, OraOLEDB.Oracle, …
    pub provider: String,
    pub data_source: String,
}

/// A SQL Server Agent job.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Job {
    pub name: String,
    pub enabled: bool,
    #[serde(default)]
    pub steps: Vec<JobStep>,
}

/// A job step.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct JobStep {
    pub step_id: i32,
    pub step_name: String,
    /// TSQL, CmdExec, PowerShell, SSIS, ANALYSISCOMMAND, …
    pub subsystem: String,
    pub command: String,
    #[serde(default)]
    pub database_name: String,
}

/// A server-level (DDL or logon) trigger.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct ServerTrigger {
    pub name: String,
    pub is_disabled: bool,
    #[serde(default)]
    pub definition: String,
}

/// A server audit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Audit {
    pub name: String,
    /// FILE, APPLICATION LOG, SECURITY LOG, …
    pub type_desc: String,
    pub is_state_enabled: bool,
}

/// An endpoint (TSQL, SERVICE_BROKER, DATABASE_MIRRORING, …).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Endpoint {
    pub name: String,
    pub protocol_desc: String,
    pub type_desc: String,
    pub state_desc: String,
}

/// What SQL Server Agent has besides jobs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(default)]
pub struct Agent {
    /// msdb.dbo.sysalerts.
    pub alerts: Vec<String>,
    pub operators: Vec<Operator>,
    /// msdb.dbo.sysproxies.
    pub proxies: Vec<String>,
    /// msdb.dbo.sysmail_profile.
    pub mail_profiles: Vec<String>,
}

/// An Agent operator and the notification channels MI lacks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Operator {
    pub name: String,
    /// Has a pager address.
    #[serde(default)]
    pub uses_pager: bool,
    /// Has a NET SEND address.
    #[serde(default)]
    pub uses_netsend: bool,
}

/// An Extended Events session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct XeSession {
    pub name: String,
    /// Target names, e.g. `package0.event_file`, `package0.ring_buffer`.
    #[serde(default)]
    pub targets: Vec<String>,
}

/// A Service Broker route.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Route {
    pub name: String,
    /// `LOCAL`, `TRANSPORT` or `TCP://host:port`.
    pub address: String,
}

/// One database.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Database {
    pub name: String,
    /// 1–4 are master, tempdb, model and msdb.
    pub database_id: i64,
    /// ONLINE, RESTORING, OFFLINE, …
    #[serde(default)]
    pub state_desc: String,
    /// FULL, BULK_LOGGED or SIMPLE.
    #[serde(default)]
    pub recovery_model_desc: String,
    /// 0 when not known (a database read from script files).
    pub compatibility_level: u32,
    #[serde(default)]
    pub collation_name: String,
    /// The owner's login name, when it still exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default)]
    pub create_date: String,
    #[serde(default)]
    pub is_read_only: bool,
    #[serde(default)]
    pub is_trustworthy_on: bool,
    /// Cross-database ownership chaining.
    #[serde(default)]
    pub is_db_chaining_on: bool,
    /// Sum of the files' sizes.
    #[serde(default)]
    pub size_mb: f64,
    #[serde(default)]
    pub files: Vec<DatabaseFile>,
    #[serde(default)]
    pub features: Features,
    /// Objects by sys.objects type_desc (USER_TABLE, SQL_STORED_PROCEDURE, …) with counts.
    #[serde(default)]
    pub object_counts: BTreeMap<String, u64>,
    #[serde(default)]
    pub tables: Vec<Table>,
    /// Procedures, functions, views and triggers with their definitions.
    #[serde(default)]
    pub modules: Vec<Module>,
    /// User-defined CLR assemblies.
    #[serde(default)]
    pub assemblies: Vec<Assembly>,
    /// Users mapped to a login the instance does not have (orphaned), and users without login.
    #[serde(default)]
    pub users_without_logins: Vec<String>,
    /// Service Broker routes (sys.routes).
    #[serde(default)]
    pub service_broker_routes: Vec<Route>,
    #[serde(default)]
    pub backups: BackupHistory,
}

/// A database file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct DatabaseFile {
    /// Logical name.
    pub name: String,
    /// ROWS, LOG, FILESTREAM or FULLTEXT.
    pub type_desc: String,
    #[serde(default)]
    pub file_id: i32,
    #[serde(default)]
    pub physical_name: String,
    #[serde(default)]
    pub size_mb: f64,
    /// -1 unlimited.
    #[serde(default)]
    pub max_size_mb: f64,
    /// MB, or percent with `is_percent_growth`.
    #[serde(default)]
    pub growth: f64,
    #[serde(default)]
    pub is_percent_growth: bool,
    /// The filegroup (data files), absent for the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filegroup: Option<String>,
}

/// Features a database uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(default)]
pub struct Features {
    pub in_memory_oltp: bool,
    pub change_data_capture: bool,
    pub change_tracking: bool,
    pub transparent_data_encryption: bool,
    pub service_broker: bool,
    pub replication: bool,
    pub full_text: bool,
    pub ledger: bool,
    pub temporal_tables: bool,
    pub filestream: bool,
}

/// A user table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub rows: u64,
    /// Column names in order.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Reserved space, when the login could read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_kb: Option<u64>,
}

/// A module with its T-SQL definition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Module {
    pub schema: String,
    pub name: String,
    /// SQL_STORED_PROCEDURE, SQL_SCALAR_FUNCTION, VIEW, SQL_TRIGGER, …
    pub type_desc: String,
    /// NULL (absent) for encrypted modules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// The script file the definition was read from (`sqlmig assess --scripts`); a finding's line
    /// then counts in that file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// A user-defined CLR assembly.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Assembly {
    pub name: String,
    /// SAFE_ACCESS, EXTERNAL_ACCESS or UNSAFE_ACCESS.
    pub permission_set_desc: String,
    /// Strong-named (its clr_name carries a public key token).
    pub is_signed: bool,
}

/// Backup history from msdb.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(default)]
pub struct BackupHistory {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_full: Option<Backup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_differential: Option<Backup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_log: Option<Backup>,
    /// Backups per day and type, newest first.
    pub per_day: Vec<BackupDay>,
}

/// One backup.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Backup {
    pub finish_date: String,
    pub size_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compressed_size_bytes: Option<u64>,
    /// LSNs as SQL Server prints them (decimal, exact).
    pub first_lsn: String,
    pub last_lsn: String,
    pub device: String,
    #[serde(default)]
    pub is_copy_only: bool,
    /// Written WITH CHECKSUM.
    #[serde(default)]
    pub has_checksum: bool,
}

/// The backups of one day and type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct BackupDay {
    /// `2024-01-31`.
    pub date: String,
    /// `D` full, `I` differential, `L` log.
    #[serde(rename = "type")]
    pub backup_type: String,
    pub count: u32,
    pub size_bytes: u64,
    /// The smallest first LSN and largest last LSN of the day.
    pub first_lsn: String,
    pub last_lsn: String,
}

/// A performance counter sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct PerfSample {
    pub at: String,
    /// `object\counter[instance]`, as perfmon names it.
    pub counter: String,
    pub value: f64,
}

impl Inventory {
    /// An empty inventory of this version.
    pub fn new() -> Inventory {
        Inventory {
            schema: SCHEMA.into(),
            ..Default::default()
        }
    }
}

impl Database {
    /// Whether it is a user database (not master, tempdb, model or msdb).
    pub fn is_user(&self) -> bool {
        self.database_id > 4
    }
}
