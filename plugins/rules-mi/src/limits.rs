//! What the rules compare against besides the resource limits (those, and the targets, are
//! `sqlmig_mi_limits`, the table sizing reads too): facts of "T-SQL differences between SQL Server
//! and Azure SQL Managed Instance" (`transact-sql-tsql-differences-sql-server.md`, ms.date
//! 2025-04-23) and the pages each constant names.

pub use sqlmig_mi_limits::{Tier, UpdatePolicy};

/// Log files a database may have for its backup to restore on MI.
pub const MAX_LOG_FILES: usize = 1;
/// The lowest level at which COMPUTE is gone (it works at 100).
pub const COMPUTE_REMOVED_AT: u32 = 110;

/// What the databases move to (`sqlmig assess --target --update-policy`).
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub tier: Tier,
    pub policy: UpdatePolicy,
}

impl Target {
    /// Whether the tier has memory-optimized tables.
    pub fn in_memory_oltp(&self) -> bool {
        sqlmig_mi_limits::in_memory_oltp(self.tier)
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
    ("allow polybase export", 0),
    ("remote data archive", 0),
];
