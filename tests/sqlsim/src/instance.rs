//! The description of the simulated instance: version, platform, logins, databases. Fixtures
//! (JSON) describe estates; `Instance::default_with_sa` is the instance `sqlsim` serves without
//! one.

use serde::{Deserialize, Serialize};

/// Where the instance claims to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// SQL Server on a machine of the customer's.
    #[default]
    Onprem,
    /// Azure SQL Managed Instance (EngineEdition 8).
    Mi,
    /// Amazon RDS for SQL Server.
    Rds,
    /// Google Cloud SQL for SQL Server.
    Cloudsql,
}

/// A SQL login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    pub name: String,
    /// The test fixture's password; a simulator compares it in plain text.
    pub password: String,
    #[serde(default)]
    pub sysadmin: bool,
    #[serde(default)]
    pub view_server_state: bool,
    #[serde(default)]
    pub disabled: bool,
}

/// A database the instance starts with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseSpec {
    pub name: String,
    #[serde(default = "default_compat")]
    pub compatibility_level: u32,
    /// T-SQL batches run in the database when the instance starts, as `sa` (tables, rows,
    /// procedures, views): fixtures describe content the way a DBA would create it.
    #[serde(default)]
    pub setup: Vec<String>,
    /// Its files; none means one data file and one log file of 8 MB.
    #[serde(default)]
    pub files: Vec<DatabaseFile>,
    /// Backup history (msdb.dbo.backupset and backupmediafamily).
    #[serde(default)]
    pub backups: Vec<BackupRecord>,
    /// Database users besides the built-in ones (sys.database_principals).
    #[serde(default)]
    pub users: Vec<DatabaseUser>,
    /// CLR assemblies (sys.assemblies).
    #[serde(default)]
    pub assemblies: Vec<Assembly>,
    /// The owner's login; `sa` when absent.
    #[serde(default)]
    pub owner: Option<String>,
    /// Options and features sys.databases reports.
    #[serde(default)]
    pub options: DatabaseOptions,
    /// Full-text catalogs (sys.fulltext_catalogs).
    #[serde(default)]
    pub fulltext_catalogs: Vec<String>,
    /// Service Broker routes besides AutoCreatedLocal (sys.routes).
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Row counts of tables (`schema.table`) larger than a test can store: COUNT over the whole
    /// table counts this many (8115 past int's range), COUNT_BIG and sys.partitions report it.
    #[serde(default)]
    pub declared_rows: std::collections::BTreeMap<String, i64>,
}

/// A Service Broker route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub name: String,
    /// `LOCAL`, `TRANSPORT` or `TCP://host:port`.
    pub address: String,
}

/// Database options and features in use, as sys.databases and friends report them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseOptions {
    /// FULL, BULK_LOGGED or SIMPLE; FULL for user databases when absent.
    pub recovery_model: Option<String>,
    pub read_only: bool,
    pub trustworthy: bool,
    /// Transparent data encryption (is_encrypted).
    pub encrypted: bool,
    pub broker: bool,
    pub cdc: bool,
    pub published: bool,
    pub subscribed: bool,
    pub merge_published: bool,
    pub distributor: bool,
    /// Listed in sys.change_tracking_databases.
    pub change_tracking: bool,
    /// is_ledger_on (SQL Server 2022).
    pub ledger: bool,
    /// Cross-database ownership chaining (is_db_chaining_on).
    pub db_chaining: bool,
}

impl DatabaseSpec {
    /// An empty database named `name` at compatibility level 160.
    pub fn named(name: &str) -> DatabaseSpec {
        DatabaseSpec {
            name: name.into(),
            compatibility_level: default_compat(),
            setup: Vec::new(),
            files: Vec::new(),
            backups: Vec::new(),
            users: Vec::new(),
            assemblies: Vec::new(),
            owner: None,
            options: DatabaseOptions::default(),
            fulltext_catalogs: Vec::new(),
            routes: Vec::new(),
            declared_rows: Default::default(),
        }
    }
}

/// A database user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseUser {
    /// `app_user`, or `DOMAIN\name` for a Windows user.
    pub name: String,
    /// The login it maps to (its SID). A login the instance does not have leaves the user
    /// orphaned, as after restoring a database on another server.
    #[serde(default)]
    pub login: Option<String>,
    /// `INSTANCE`, `DATABASE` (contained user with a password), `WINDOWS` or `NONE`
    /// (WITHOUT LOGIN). Default: WINDOWS for `DOMAIN\name`, INSTANCE with a login, else NONE.
    #[serde(default)]
    pub authentication: Option<String>,
    /// Database roles it is a member of (`db_datareader`, …): sys.database_role_members.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Permissions granted to it, as GRANT writes them: `SELECT ON dbo.Orders`, `EXECUTE ON
    /// SCHEMA::dbo`, `VIEW DEFINITION` (database-wide); sys.database_permissions, beside the
    /// CONNECT every user has.
    #[serde(default)]
    pub grants: Vec<String>,
}

/// A CLR assembly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assembly {
    pub name: String,
    /// `SAFE`, `EXTERNAL_ACCESS` or `UNSAFE`.
    #[serde(default = "safe")]
    pub permission_set: String,
}

fn safe() -> String {
    "SAFE".into()
}

/// A Windows service of the instance (sys.dm_server_services).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// `SQL Server (MSSQLSERVER)`.
    pub name: String,
    /// `Automatic`, `Manual` or `Disabled`.
    pub startup: String,
    /// `Running` or `Stopped`.
    pub status: String,
    pub account: String,
    #[serde(default)]
    pub instant_file_initialization: bool,
}

/// One backup of a database as msdb records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRecord {
    /// `D` full, `I` differential, `L` log.
    #[serde(rename = "type")]
    pub backup_type: String,
    /// `2024-01-01 22:00:00`.
    pub start: String,
    pub finish: String,
    pub size_bytes: u64,
    #[serde(default)]
    pub compressed_size_bytes: Option<u64>,
    /// LSNs as SQL Server prints them (decimal).
    pub first_lsn: String,
    pub last_lsn: String,
    pub checkpoint_lsn: String,
    #[serde(default)]
    pub database_backup_lsn: String,
    #[serde(default)]
    pub is_copy_only: bool,
    /// Written WITH CHECKSUM.
    #[serde(default)]
    pub has_checksum: bool,
    /// Where it was written: a path, a share or a URL.
    pub device: String,
}

/// A database file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseFile {
    /// Logical name.
    pub name: String,
    /// `ROWS`, `LOG`, `FILESTREAM` or `FULLTEXT`.
    pub type_desc: String,
    pub physical_name: String,
    pub size_mb: u64,
    /// Growth in MB, or in percent with `is_percent_growth`.
    #[serde(default = "default_growth")]
    pub growth: u64,
    #[serde(default)]
    pub is_percent_growth: bool,
}

fn default_growth() -> u64 {
    64
}

impl DatabaseFile {
    /// The default files of a database: `NAME.mdf` and `NAME_log.ldf`.
    pub fn defaults(db: &str) -> Vec<DatabaseFile> {
        let dir = "/var/opt/mssql/data";
        vec![
            DatabaseFile {
                name: db.to_string(),
                type_desc: "ROWS".into(),
                physical_name: format!("{dir}/{db}.mdf"),
                size_mb: 8,
                growth: 64,
                is_percent_growth: false,
            },
            DatabaseFile {
                name: format!("{db}_log"),
                type_desc: "LOG".into(),
                physical_name: format!("{dir}/{db}_log.ldf"),
                size_mb: 8,
                growth: 64,
                is_percent_growth: false,
            },
        ]
    }
}

/// A SQL Server Agent job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub description: String,
    pub steps: Vec<JobStep>,
}

fn yes() -> bool {
    true
}

/// A job step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStep {
    pub step_name: String,
    /// `TSQL`, `CmdExec`, `PowerShell`, `SSIS`, `ANALYSISCOMMAND`, `ANALYSISQUERY`, `Merge`,
    /// `QueueReader`, `Distribution`, `Snapshot`, `LogReader`.
    pub subsystem: String,
    pub command: String,
    #[serde(default = "master")]
    pub database_name: String,
}

fn master() -> String {
    "master".into()
}

fn default_compat() -> u32 {
    160
}

/// The simulated instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// `@@SERVERNAME`, `MACHINE\INSTANCE`.
    pub server_name: String,
    pub platform: Platform,
    /// Product version: major, minor, build (16.0.4135 is SQL Server 2022 CU); the default is
    /// that, which a managed instance under the default (SQL Server 2022) update policy reports.
    #[serde(default = "default_version")]
    pub version: (u8, u8, u16),
    #[serde(default = "default_edition")]
    pub edition: String,
    pub logins: Vec<Login>,
    /// User databases (master, tempdb, model and msdb always exist).
    pub databases: Vec<DatabaseSpec>,
    /// `sp_configure` settings that differ from SQL Server's defaults.
    #[serde(default)]
    pub configurations: Vec<Configuration>,
    /// Global trace flags (DBCC TRACESTATUS).
    #[serde(default)]
    pub trace_flags: Vec<u16>,
    /// Linked servers (sys.servers, server_id > 0).
    #[serde(default)]
    pub linked_servers: Vec<LinkedServer>,
    /// The machine (sys.dm_os_sys_info).
    #[serde(default)]
    pub host: Host,
    /// SQL Server Agent jobs (msdb.dbo.sysjobs, sysjobsteps).
    #[serde(default)]
    pub jobs: Vec<Job>,
    /// The instance's services; none means the engine and Agent of the instance, running.
    #[serde(default)]
    pub services: Vec<Service>,
    /// Server-level triggers (sys.server_triggers, sys.server_sql_modules).
    #[serde(default)]
    pub server_triggers: Vec<ServerTrigger>,
    /// Server audits (sys.server_audits).
    #[serde(default)]
    pub audits: Vec<Audit>,
    /// Endpoints besides the TSQL ones every instance has (sys.endpoints).
    #[serde(default)]
    pub endpoints: Vec<EndpointSpec>,
    /// Credentials (sys.credentials); the secret itself is never described.
    #[serde(default)]
    pub credentials: Vec<Credential>,
    /// Performance counters besides the defaults (sys.dm_os_performance_counters).
    #[serde(default)]
    pub perf_counters: Vec<PerfCounter>,
    /// SQL Server Agent's alerts, operators, proxies and Database Mail profiles (msdb).
    #[serde(default)]
    pub agent: AgentSpec,
    /// Extended Events sessions besides system_health (sys.server_event_sessions).
    #[serde(default)]
    pub xevent_sessions: Vec<XeSessionSpec>,
    /// Lines of the current SQL Server error log after the startup messages
    /// (`xp_readerrorlog`), e.g. `Error: 825, Severity: 10, State: 2.`.
    #[serde(default)]
    pub error_log: Vec<String>,
    /// How fast BACKUP and RESTORE move bytes through their devices, KB/s (unlimited when absent):
    /// a slow device makes `percent_complete` observable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_device_kb_per_s: Option<u32>,
    /// Amazon RDS's side of an `rds` instance: where its native backups go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rds: Option<RdsSpec>,
}

/// What RDS adds to a SQL Server instance for native backup and restore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RdsSpec {
    /// The S3 endpoint RDS writes backups to with its IAM role (moto in tests):
    /// `http://127.0.0.1:PORT`.
    pub s3_endpoint: String,
    /// The instance's option group has `SQLSERVER_BACKUP_RESTORE`.
    #[serde(default = "yes")]
    pub backup_restore_option: bool,
    /// How often RDS takes its automated log backups, in milliseconds (five minutes on RDS;
    /// tests shorten it).
    #[serde(default = "five_minutes")]
    pub log_backup_interval_ms: u64,
}

fn five_minutes() -> u64 {
    300_000
}

/// What SQL Server Agent has besides jobs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentSpec {
    pub alerts: Vec<String>,
    pub operators: Vec<OperatorSpec>,
    pub proxies: Vec<String>,
    pub mail_profiles: Vec<String>,
}

/// An Agent operator.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OperatorSpec {
    pub name: String,
    pub email_address: String,
    pub pager_address: String,
    pub netsend_address: String,
}

/// An Extended Events session: its name and target names (`event_file`, `ring_buffer`, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct XeSessionSpec {
    pub name: String,
    pub targets: Vec<String>,
}

/// A performance counter's value. `Batch Requests/sec` is not described: it counts the batches
/// the simulator actually ran.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerfCounter {
    /// `SQLServer:Buffer Manager` (the instance prefix is added for named instances).
    pub object: String,
    pub counter: String,
    #[serde(default)]
    pub instance: String,
    pub value: i64,
    /// 65792 for a value, 272696576 for a per-second counter (cumulative).
    #[serde(default = "point_in_time")]
    pub cntr_type: i32,
}

fn point_in_time() -> i32 {
    65792
}

/// A server-level DDL or logon trigger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerTrigger {
    pub name: String,
    pub definition: String,
    #[serde(default)]
    pub disabled: bool,
}

/// A server audit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    pub name: String,
    /// FILE, APPLICATION LOG or SECURITY LOG.
    pub type_desc: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// An endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointSpec {
    pub name: String,
    /// TCP, HTTP, …
    #[serde(default = "tcp")]
    pub protocol_desc: String,
    /// SERVICE_BROKER, DATABASE_MIRRORING, TSQL, …
    pub type_desc: String,
    #[serde(default = "started")]
    pub state_desc: String,
}

fn tcp() -> String {
    "TCP".into()
}

fn started() -> String {
    "STARTED".into()
}

/// A credential: a name and the identity it stands for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub name: String,
    pub identity: String,
}

/// An `sp_configure` option and its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Configuration {
    pub name: String,
    pub value: i64,
}

/// A linked server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedServer {
    pub name: String,
    /// `SQL Server`, `Oracle`, …
    pub product: String,
    /// `SQLNCLI11`, `MSOLEDBSQL`, `OraOLEDB.Oracle`, …
    pub provider: String,
    pub data_source: String,
}

/// The machine the instance runs on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Host {
    pub cpu_count: u32,
    pub physical_memory_mb: u64,
    /// CPU time SQL Server had used before the simulation began, ms: a server up for months
    /// (past about 49 days of it, `@@CPU_BUSY` can no longer be trusted).
    #[serde(default)]
    pub cpu_used_before_ms: u64,
}

impl Default for Host {
    fn default() -> Self {
        Host {
            cpu_count: 8,
            physical_memory_mb: 32_768,
            cpu_used_before_ms: 0,
        }
    }
}

/// SQL Server's `sp_configure` options: id, name, minimum, maximum, default, whether advanced, and
/// the major version that introduced it (0: every supported one). The ids, ranges and defaults
/// are the ones sys.configurations shows on SQL Server 2016-2022.
pub const CONFIGURATION_DEFAULTS: &[(i32, &str, i64, i64, i64, bool, u8)] = &[
    (101, "recovery interval (min)", 0, 32767, 0, true, 0),
    (102, "allow updates", 0, 1, 0, false, 0),
    (103, "user connections", 0, 32767, 0, true, 0),
    (106, "locks", 5000, 2147483647, 0, true, 0),
    (107, "open objects", 0, 2147483647, 0, true, 0),
    (109, "fill factor (%)", 0, 100, 0, true, 0),
    (114, "disallow results from triggers", 0, 1, 0, true, 0),
    (115, "nested triggers", 0, 1, 1, false, 0),
    (116, "server trigger recursion", 0, 1, 1, false, 0),
    (117, "remote access", 0, 1, 1, false, 0),
    (124, "default language", 0, 9999, 0, false, 0),
    (400, "cross db ownership chaining", 0, 1, 0, false, 0),
    (503, "max worker threads", 128, 65535, 0, true, 0),
    (505, "network packet size (B)", 512, 32767, 4096, true, 0),
    (518, "show advanced options", 0, 1, 0, false, 0),
    (542, "remote proc trans", 0, 1, 0, false, 0),
    (544, "c2 audit mode", 0, 1, 0, true, 0),
    (
        1126,
        "default full-text language",
        0,
        2147483647,
        1033,
        true,
        0,
    ),
    (1127, "two digit year cutoff", 1753, 9999, 2049, true, 0),
    (
        1505,
        "index create memory (KB)",
        704,
        2147483647,
        0,
        true,
        0,
    ),
    (1517, "priority boost", 0, 1, 0, true, 0),
    (
        1519,
        "remote login timeout (s)",
        0,
        2147483647,
        10,
        false,
        0,
    ),
    (
        1520,
        "remote query timeout (s)",
        0,
        2147483647,
        600,
        false,
        0,
    ),
    (1531, "cursor threshold", -1, 2147483647, -1, true, 0),
    (1532, "set working set size", 0, 1, 0, true, 0),
    (1534, "user options", 0, 32767, 0, false, 0),
    (1535, "affinity mask", -2147483648, 2147483647, 0, true, 0),
    (
        1536,
        "max text repl size (B)",
        -1,
        2147483647,
        65536,
        false,
        0,
    ),
    (1537, "media retention", 0, 365, 0, true, 0),
    (1538, "cost threshold for parallelism", 0, 32767, 5, true, 0),
    (1539, "max degree of parallelism", 0, 32767, 0, true, 0),
    (
        1540,
        "min memory per query (KB)",
        512,
        2147483647,
        1024,
        true,
        0,
    ),
    (1541, "query wait (s)", -1, 2147483647, -1, true, 0),
    (1543, "min server memory (MB)", 0, 2147483647, 0, true, 0),
    (
        1544,
        "max server memory (MB)",
        128,
        2147483647,
        2147483647,
        true,
        0,
    ),
    (1545, "query governor cost limit", 0, 2147483647, 0, true, 0),
    (1546, "lightweight pooling", 0, 1, 0, true, 0),
    (1547, "scan for startup procs", 0, 1, 0, true, 0),
    (1549, "affinity64 mask", -2147483648, 2147483647, 0, true, 0),
    (
        1550,
        "affinity I/O mask",
        -2147483648,
        2147483647,
        0,
        true,
        0,
    ),
    (
        1551,
        "affinity64 I/O mask",
        -2147483648,
        2147483647,
        0,
        true,
        0,
    ),
    (1555, "transform noise words", 0, 1, 0, true, 0),
    (1556, "precompute rank", 0, 1, 0, true, 0),
    (1557, "PH timeout (s)", 1, 3600, 60, true, 0),
    (1562, "clr enabled", 0, 1, 0, false, 0),
    (1563, "max full-text crawl range", 0, 256, 4, true, 0),
    (1564, "ft notify bandwidth (min)", 0, 32767, 0, true, 0),
    (1565, "ft notify bandwidth (max)", 0, 32767, 100, true, 0),
    (1566, "ft crawl bandwidth (min)", 0, 32767, 0, true, 0),
    (1567, "ft crawl bandwidth (max)", 0, 32767, 100, true, 0),
    (1568, "default trace enabled", 0, 1, 1, true, 0),
    (1569, "blocked process threshold (s)", 0, 86400, 0, true, 0),
    (1570, "in-doubt xact resolution", 0, 2, 0, true, 0),
    (1576, "remote admin connections", 0, 1, 0, false, 0),
    (1577, "common criteria compliance enabled", 0, 1, 0, true, 0),
    (1578, "EKM provider enabled", 0, 1, 0, true, 0),
    (1579, "backup compression default", 0, 1, 0, false, 0),
    (1580, "filestream access level", 0, 2, 0, false, 0),
    (1581, "optimize for ad hoc workloads", 0, 1, 0, true, 0),
    (
        1582,
        "access check cache bucket count",
        0,
        65536,
        0,
        true,
        0,
    ),
    (1583, "access check cache quota", 0, 2147483647, 0, true, 0),
    (1584, "backup checksum default", 0, 1, 0, false, 12),
    (1585, "automatic soft-NUMA disabled", 0, 1, 0, true, 13),
    (1586, "external scripts enabled", 0, 1, 0, false, 13),
    (1587, "clr strict security", 0, 1, 1, true, 14),
    (16384, "Agent XPs", 0, 1, 1, true, 0),
    (16386, "Database Mail XPs", 0, 1, 0, true, 0),
    (16387, "SMO and DMO XPs", 0, 1, 1, true, 0),
    (16388, "Ole Automation Procedures", 0, 1, 0, true, 0),
    (16390, "xp_cmdshell", 0, 1, 0, true, 0),
    (16391, "Ad Hoc Distributed Queries", 0, 1, 0, true, 0),
    (16392, "Replication XPs", 0, 1, 0, true, 0),
    (
        16393,
        "contained database authentication",
        0,
        1,
        0,
        false,
        11,
    ),
    (16394, "hadoop connectivity", 0, 7, 0, false, 13),
    (16395, "polybase network encryption", 0, 1, 1, false, 13),
    (16396, "remote data archive", 0, 1, 0, false, 13),
    (16397, "allow polybase export", 0, 1, 0, false, 13),
];

/// The system databases, in database_id order.
pub const SYSTEM_DATABASES: [&str; 4] = ["master", "tempdb", "model", "msdb"];

impl Instance {
    /// A SQL Server 2022 on-prem instance with login `sa` and one sample database.
    pub fn default_with_sa(password: &str) -> Instance {
        Instance {
            server_name: "SQLSIM".into(),
            platform: Platform::Onprem,
            version: (16, 0, 4135),
            edition: "Developer Edition (64-bit)".into(),
            logins: vec![Login {
                name: "sa".into(),
                password: password.into(),
                sysadmin: true,
                view_server_state: true,
                disabled: false,
            }],
            databases: vec![DatabaseSpec::named("Sales")],
            configurations: Vec::new(),
            trace_flags: Vec::new(),
            linked_servers: Vec::new(),
            host: Host::default(),
            jobs: Vec::new(),
            services: Vec::new(),
            server_triggers: Vec::new(),
            audits: Vec::new(),
            endpoints: Vec::new(),
            credentials: Vec::new(),
            perf_counters: Vec::new(),
            agent: AgentSpec::default(),
            xevent_sessions: Vec::new(),
            error_log: Vec::new(),
            backup_device_kb_per_s: None,
            rds: None,
        }
    }

    /// The services sys.dm_server_services lists: the description's, or the database engine
    /// and SQL Server Agent of this instance, both running.
    pub fn services(&self) -> Vec<Service> {
        if !self.services.is_empty() {
            return self.services.clone();
        }
        let instance = self
            .server_name
            .split_once('\\')
            .map_or("MSSQLSERVER", |(_, i)| i);
        let account = |svc: &str| format!("NT Service\\{svc}");
        let agent = if instance == "MSSQLSERVER" {
            "SQLSERVERAGENT".to_string()
        } else {
            format!("SQLAgent${instance}")
        };
        let engine = if instance == "MSSQLSERVER" {
            "MSSQLSERVER".to_string()
        } else {
            format!("MSSQL${instance}")
        };
        vec![
            Service {
                name: format!("SQL Server ({instance})"),
                startup: "Automatic".into(),
                status: "Running".into(),
                account: account(&engine),
                instant_file_initialization: true,
            },
            Service {
                name: format!("SQL Server Agent ({instance})"),
                startup: "Automatic".into(),
                status: "Running".into(),
                account: account(&agent),
                instant_file_initialization: false,
            },
        ]
    }

    /// The compatibility level a new database gets: the version's own (100 for 2008 R2).
    pub fn default_compatibility(&self) -> u32 {
        self.version.0 as u32 * 10
    }

    /// SERVERPROPERTY('EngineEdition'): 8 on MI, 3 (Enterprise/Developer) elsewhere.
    pub fn engine_edition(&self) -> i64 {
        match self.platform {
            Platform::Mi => 8,
            _ => 3,
        }
    }

    /// `@@VERSION` text, in SQL Server's shape, for Windows.
    pub fn version_text(&self) -> String {
        let (ma, mi, b) = self.version;
        let product = match ma {
            10 => "Microsoft SQL Server 2008 R2",
            11 => "Microsoft SQL Server 2012",
            12 => "Microsoft SQL Server 2014",
            13 => "Microsoft SQL Server 2016",
            14 => "Microsoft SQL Server 2017",
            15 => "Microsoft SQL Server 2019",
            _ => "Microsoft SQL Server 2022",
        };
        // The instance runs on Windows (2016 and older only can); the date line names sqlsim.
        format!(
            "{product} (RTM) - {ma}.{mi}.{b}.0 (X64) \n\t(sqlsim test double)\n\tCopyright (C) Microsoft Corporation\n\t{} on Windows Server 2019 Datacenter 10.0 <X64> (Build 17763: ) (Hypervisor)\n",
            self.edition
        )
    }
}

fn default_version() -> (u8, u8, u16) {
    (16, 0, 4135)
}

fn default_edition() -> String {
    "Developer Edition (64-bit)".into()
}
