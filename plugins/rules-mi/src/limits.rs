//! Azure SQL Managed Instance limits the rules compare against, kept as data in one place.
//! Source: Microsoft Learn, "Resource limits for Azure SQL Managed Instance" and "T-SQL
//! differences between SQL Server and Azure SQL Managed Instance", as read for sqlmig 0.1.

/// The lowest compatibility level a restored database keeps; lower levels are raised on restore.
pub const MIN_COMPATIBILITY_LEVEL: u32 = 100;
/// User databases per instance above which Microsoft's assessment warns.
pub const MAX_USER_DATABASES: usize = 100;
/// Log files a database may have for its backup to restore on MI.
pub const MAX_LOG_FILES: usize = 1;
