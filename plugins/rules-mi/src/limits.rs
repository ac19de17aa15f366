//! Azure SQL Managed Instance limits the rules compare against, kept as data in one place.
//! Source: Microsoft Learn, "Resource limits for Azure SQL Managed Instance" and "T-SQL
//! differences between SQL Server and Azure SQL Managed Instance", as read for sqlmig 0.1.

/// The lowest compatibility level a restored database keeps; lower levels are raised on restore.
pub const MIN_COMPATIBILITY_LEVEL: u32 = 100;
/// User databases per instance above which Microsoft's assessment warns.
pub const MAX_USER_DATABASES: usize = 100;
/// Log files a database may have for its backup to restore on MI.
pub const MAX_LOG_FILES: usize = 1;
/// The highest compatibility level Managed Instance runs databases at.
pub const MAX_COMPATIBILITY_LEVEL: u32 = 160;
/// The lowest level at which COMPUTE is gone (it works at 100).
pub const COMPUTE_REMOVED_AT: u32 = 110;

/// A Managed Instance service tier and the limits that differ between tiers.
#[derive(Clone, Copy, Debug)]
pub struct Tier {
    /// `mi-gp` or `mi-bc`, as `sqlmig assess --target` names it.
    pub id: &'static str,
    pub name: &'static str,
    /// The largest instance storage, which one database may fill, in MB.
    pub max_storage_mb: f64,
    /// Files per database, where the tier limits them.
    pub max_files: Option<usize>,
    /// Whether memory-optimized tables are supported.
    pub in_memory_oltp: bool,
}

/// General Purpose: remote storage, 16 TB, at most 280 files per database, no in-memory OLTP.
pub const GENERAL_PURPOSE: Tier = Tier {
    id: "mi-gp",
    name: "General Purpose",
    max_storage_mb: 16.0 * 1024.0 * 1024.0,
    max_files: Some(280),
    in_memory_oltp: false,
};

/// Business Critical: local SSD, 16 TB (premium-series memory optimized), in-memory OLTP.
pub const BUSINESS_CRITICAL: Tier = Tier {
    id: "mi-bc",
    name: "Business Critical",
    max_storage_mb: 16.0 * 1024.0 * 1024.0,
    max_files: None,
    in_memory_oltp: true,
};

/// The tier named `id`, General Purpose when none is named.
pub fn tier(id: Option<&str>) -> Option<Tier> {
    match id {
        None => Some(GENERAL_PURPOSE),
        Some(id) => [GENERAL_PURPOSE, BUSINESS_CRITICAL]
            .into_iter()
            .find(|t| t.id == id),
    }
}
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
