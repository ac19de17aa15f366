//! Azure SQL Managed Instance limits the rules compare against, kept as data in one place.
//! Source: Microsoft Learn, "Resource limits for Azure SQL Managed Instance" and "T-SQL
//! differences between SQL Server and Azure SQL Managed Instance", as read for sqlmig 0.1.

/// The lowest compatibility level a restored database keeps; lower levels are raised on restore.
pub const MIN_COMPATIBILITY_LEVEL: u32 = 100;
/// User databases per instance above which Microsoft's assessment warns.
pub const MAX_USER_DATABASES: usize = 100;
/// Log files a database may have for its backup to restore on MI.
pub const MAX_LOG_FILES: usize = 1;
/// The largest database (and instance storage) of a General Purpose managed instance, in MB
/// (16 TB).
pub const MAX_STORAGE_MB: f64 = 16.0 * 1024.0 * 1024.0;
/// Global trace flags Managed Instance lets you set; any other is a finding.
pub const SUPPORTED_TRACE_FLAGS: &[i32] = &[
    460, 2301, 2389, 2390, 2453, 2467, 7471, 8207, 9389, 10316, 11024,
];
/// OLE DB providers of SQL Server itself; linked servers over any other fail on MI.
pub const SQL_SERVER_PROVIDERS: &[&str] = &[
    "SQLNCLI",
    "SQLNCLI10",
    "SQLNCLI11",
    "MSOLEDBSQL",
    "MSOLEDBSQL19",
    "SQLOLEDB",
];
/// Database files (data and log) a General Purpose instance allows per database.
pub const MAX_FILES_GENERAL_PURPOSE: usize = 280;
/// The Database Mail profile Managed Instance's SQL Agent sends with.
pub const AGENT_MAIL_PROFILE: &str = "AzureManagedInstance_dbmail_profile";
/// Extended Events sessions SQL Server ships; their targets are not the user's to move.
pub const BUILT_IN_XEVENT_SESSIONS: &[&str] = &[
    "system_health",
    "AlwaysOn_health",
    "telemetry_xevents",
    "sp_server_diagnostics session",
    "hkenginexesession",
];
/// SQL Server's default value of each sp_configure option Managed Instance will not change.
pub const REFUSED_OPTION_DEFAULTS: &[(&str, i64)] = &[
    ("allow updates", 0),
    ("remote access", 1),
    ("remote proc trans", 0),
    ("scan for startup procs", 0),
    ("filestream access level", 0),
];
