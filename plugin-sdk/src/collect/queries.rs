//! The catalog queries, valid T-SQL on SQL Server 2008 R2 (10.50) through 2022 (16). Columns a
//! later version added are asked for only from that version on: Microsoft's own assessment tools
//! failed on servers whose DMVs lacked a column they expected.

/// `[name]` with `]` doubled, for names spliced into a three-part name.
pub fn quote(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// Server properties: every version has these, and the login needs no permission for them.
pub const SERVER: &str = "SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS product_version, \
    CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition, \
    CAST(SERVERPROPERTY('EngineEdition') AS int) AS engine_edition, \
    CAST(SERVERPROPERTY('Collation') AS nvarchar(128)) AS collation, \
    CAST(SERVERPROPERTY('IsClustered') AS int) AS is_clustered, \
    CAST(SERVERPROPERTY('IsHadrEnabled') AS int) AS is_hadr_enabled, \
    @@SERVERNAME AS server_name, @@VERSION AS version_text";

/// CPUs and memory (VIEW SERVER STATE). `physical_memory_kb` came with 2012 (11); 2008 R2 has
/// `physical_memory_in_bytes`.
pub fn sys_info(major: u32) -> &'static str {
    if major >= 11 {
        "SELECT cpu_count, physical_memory_kb / 1024 AS memory_mb FROM sys.dm_os_sys_info"
    } else {
        "SELECT cpu_count, physical_memory_in_bytes / 1048576 AS memory_mb FROM sys.dm_os_sys_info"
    }
}

/// sp_configure options (value is sql_variant).
pub const CONFIGURATIONS: &str = "SELECT name, CAST(value AS bigint) AS value, \
    CAST(value_in_use AS bigint) AS value_in_use FROM sys.configurations ORDER BY name";

/// Global trace flags.
pub const TRACE_FLAGS: &str = "DBCC TRACESTATUS(-1) WITH NO_INFOMSGS";

/// Logins, with sysadmin membership read from the role tables (IS_SRVROLEMEMBER answers only
/// for the caller's own memberships without extra permissions).
pub const LOGINS: &str = "SELECT p.name, p.type_desc, p.is_disabled, \
    CASE WHEN EXISTS (SELECT 1 FROM sys.server_role_members AS rm \
        JOIN sys.server_principals AS r ON r.principal_id = rm.role_principal_id \
        WHERE rm.member_principal_id = p.principal_id AND r.name = N'sysadmin') \
    THEN 1 ELSE 0 END AS is_sysadmin \
    FROM sys.server_principals AS p \
    WHERE p.type IN ('S', 'U', 'G') AND p.name NOT LIKE N'##%' ORDER BY p.name";

/// Linked servers.
pub const LINKED_SERVERS: &str = "SELECT name, product, provider, data_source FROM sys.servers \
    WHERE is_linked = 1 ORDER BY name";

/// Agent jobs and their steps (msdb; SQLAgentReaderRole or sysadmin).
pub const JOBS: &str = "SELECT j.name, j.enabled, s.step_id, s.step_name, s.subsystem, s.command, \
    s.database_name FROM msdb.dbo.sysjobs AS j \
    LEFT JOIN msdb.dbo.sysjobsteps AS s ON s.job_id = j.job_id ORDER BY j.name, s.step_id";

/// Agent alerts, operators (with the pager and NET SEND addresses MI cannot use), proxies and
/// Database Mail profiles, in one batch.
pub const AGENT: &str = "SELECT name FROM msdb.dbo.sysalerts ORDER BY name; \
    SELECT name, pager_address, netsend_address FROM msdb.dbo.sysoperators ORDER BY name; \
    SELECT name FROM msdb.dbo.sysproxies ORDER BY name; \
    SELECT name FROM msdb.dbo.sysmail_profile ORDER BY name";

/// Extended Events sessions and their targets.
pub const XEVENT_SESSIONS: &str = "SELECT s.name AS session_name, t.package + N'.' + t.name AS target \
    FROM sys.server_event_sessions AS s \
    LEFT JOIN sys.server_event_session_targets AS t ON t.event_session_id = s.event_session_id \
    ORDER BY s.name, t.target_id";

/// Server-level triggers with their text.
pub const SERVER_TRIGGERS: &str = "SELECT t.name, t.is_disabled, m.definition \
    FROM sys.server_triggers AS t LEFT JOIN sys.server_sql_modules AS m ON m.object_id = t.object_id \
    ORDER BY t.name";

/// Server audits.
pub const AUDITS: &str =
    "SELECT name, type_desc, is_state_enabled FROM sys.server_audits ORDER BY name";

/// Endpoints.
pub const ENDPOINTS: &str =
    "SELECT name, protocol_desc, type_desc, state_desc FROM sys.endpoints ORDER BY name";

/// Credential names (never their secrets).
pub const CREDENTIALS: &str = "SELECT name FROM sys.credentials ORDER BY name";

/// Databases. `is_ledger_on` came with 2022 (16).
pub fn databases(major: u32) -> String {
    let ledger = if major >= 16 {
        "d.is_ledger_on"
    } else {
        "CAST(0 AS bit) AS is_ledger_on"
    };
    format!(
        "SELECT d.database_id, d.name, d.state_desc, d.recovery_model_desc, d.compatibility_level, \
         d.collation_name, SUSER_SNAME(d.owner_sid) AS owner, d.create_date, d.is_read_only, \
         d.is_trustworthy_on, d.is_encrypted, d.is_broker_enabled, d.is_cdc_enabled, \
         d.is_published, d.is_subscribed, d.is_merge_published, d.is_distributor, \
         d.is_db_chaining_on, {ledger} \
         FROM sys.databases AS d ORDER BY d.database_id"
    )
}

/// Databases with change tracking.
pub const CHANGE_TRACKING: &str = "SELECT database_id FROM sys.change_tracking_databases";

/// Every database's files (sizes in 8 KB pages).
pub const FILES: &str = "SELECT database_id, file_id, name, type_desc, physical_name, size, \
    max_size, growth, is_percent_growth, data_space_id FROM sys.master_files \
    ORDER BY database_id, file_id";

/// Filegroups of one database (`FD` FILESTREAM, `FX` memory-optimized).
pub fn filegroups(db: &str) -> String {
    format!(
        "SELECT data_space_id, name, type FROM {}.sys.filegroups",
        quote(db)
    )
}

/// Objects by type in one database.
pub fn object_counts(db: &str) -> String {
    format!(
        "SELECT type_desc, COUNT(*) AS n FROM {}.sys.objects WHERE is_ms_shipped = 0 \
         GROUP BY type_desc ORDER BY type_desc",
        quote(db)
    )
}

/// User tables with row counts (heap or clustered index rows).
pub fn tables(db: &str) -> String {
    let q = quote(db);
    format!(
        "SELECT s.name AS schema_name, t.name, SUM(p.rows) AS row_count \
         FROM {q}.sys.tables AS t JOIN {q}.sys.schemas AS s ON s.schema_id = t.schema_id \
         JOIN {q}.sys.partitions AS p ON p.object_id = t.object_id AND p.index_id IN (0, 1) \
         WHERE t.is_ms_shipped = 0 GROUP BY s.name, t.name ORDER BY s.name, t.name"
    )
}

/// Every user table's columns, in order.
pub fn columns(db: &str) -> String {
    let q = quote(db);
    format!(
        "SELECT s.name AS schema_name, t.name AS table_name, c.name AS column_name \
         FROM {q}.sys.columns AS c JOIN {q}.sys.tables AS t ON t.object_id = c.object_id \
         JOIN {q}.sys.schemas AS s ON s.schema_id = t.schema_id \
         WHERE t.is_ms_shipped = 0 ORDER BY s.name, t.name, c.column_id"
    )
}

/// Service Broker routes other than the local one every database has.
pub fn routes(db: &str) -> String {
    format!(
        "SELECT name, address FROM {}.sys.routes WHERE name <> N'AutoCreatedLocal' ORDER BY name",
        quote(db)
    )
}

/// Counts of tables using features a later version added: memory-optimized tables (2014, 12) and
/// system-versioned temporal tables (2016, 13).
pub fn table_features(db: &str, major: u32) -> String {
    let memory = if major >= 12 {
        "SUM(CASE WHEN is_memory_optimized = 1 THEN 1 ELSE 0 END)"
    } else {
        "0"
    };
    let temporal = if major >= 13 {
        "SUM(CASE WHEN temporal_type = 2 THEN 1 ELSE 0 END)"
    } else {
        "0"
    };
    format!(
        "SELECT COUNT(*) AS tables, {memory} AS memory_optimized, {temporal} AS temporal \
         FROM {}.sys.tables",
        quote(db)
    )
}

/// Full-text catalogs in one database.
pub fn fulltext_catalogs(db: &str) -> String {
    format!(
        "SELECT COUNT(*) AS n FROM {}.sys.fulltext_catalogs",
        quote(db)
    )
}

/// Procedures, functions, views and triggers with their definitions.
pub fn modules(db: &str) -> String {
    let q = quote(db);
    format!(
        "SELECT s.name AS schema_name, o.name, o.type_desc, m.definition \
         FROM {q}.sys.sql_modules AS m JOIN {q}.sys.objects AS o ON o.object_id = m.object_id \
         JOIN {q}.sys.schemas AS s ON s.schema_id = o.schema_id \
         WHERE o.is_ms_shipped = 0 ORDER BY s.name, o.name"
    )
}

/// User-defined CLR assemblies.
pub fn assemblies(db: &str) -> String {
    format!(
        "SELECT name, permission_set_desc, clr_name FROM {}.sys.assemblies \
         WHERE is_user_defined = 1 ORDER BY name",
        quote(db)
    )
}

/// Users whose SID no login has (orphaned, or created without login). `authentication_type`
/// came with 2012 (11): from then on contained users (DATABASE) are not orphans.
pub fn users_without_logins(db: &str, major: u32) -> String {
    let contained = if major >= 11 {
        " AND dp.authentication_type <> 2"
    } else {
        ""
    };
    format!(
        "SELECT dp.name FROM {}.sys.database_principals AS dp \
         LEFT JOIN sys.server_principals AS sp ON sp.sid = dp.sid \
         WHERE dp.type IN ('S', 'U', 'G') AND dp.principal_id > 4 AND sp.sid IS NULL{contained} \
         ORDER BY dp.name",
        quote(db)
    )
}

/// The counters capacity planning reads (per-second ones are cumulative: cntr_type 272696576).
pub const PERF_COUNTERS: &str = "SELECT RTRIM(object_name) AS object_name, \
    RTRIM(counter_name) AS counter_name, RTRIM(instance_name) AS instance_name, cntr_value, \
    cntr_type FROM sys.dm_os_performance_counters \
    WHERE counter_name IN (N'Batch Requests/sec', N'User Connections', N'Page life expectancy', \
        N'Total Server Memory (KB)', N'Log Bytes Flushed/sec', N'Transactions/sec') \
      AND (instance_name = N'' OR instance_name = N'_Total')";

/// CPU time SQL Server has used, ms, and its logical CPUs: the resource pools' cumulative
/// `total_cpu_usage_ms` (bigint; every worker runs in a pool, internal and default included;
/// 2008 and later). Not `@@CPU_BUSY`, an int that "exceeds 49 days (approximately) of
/// cumulative CPU time" on a busy server, after which its value is "not accurate"
/// (cpu-busy-transact-sql.md). Statistics reset by `ALTER RESOURCE GOVERNOR RESET STATISTICS`
/// make the sum fall, which reads as a restart: that interval is left out.
pub const CPU_BUSY: &str = "SELECT (SELECT SUM(total_cpu_usage_ms) \
    FROM sys.dm_resource_governor_resource_pools) AS cpu_busy_ms, cpu_count FROM sys.dm_os_sys_info";

/// The cumulative counters a performance snapshot reads: memory, batches, log bytes per database.
pub const SNAPSHOT_COUNTERS: &str = "SELECT RTRIM(counter_name) AS counter_name, \
    RTRIM(instance_name) AS instance_name, cntr_value FROM sys.dm_os_performance_counters \
    WHERE counter_name IN (N'Total Server Memory (KB)', N'Batch Requests/sec', \
        N'Log Bytes Flushed/sec')";

/// Every database file's size and cumulative IO (2008 R2 onwards). `size` is an int of 8 KB
/// pages: `size * 8` overflows int for a file of 2 TiB, so MB are `size / 128.0`.
pub const FILE_IO: &str = "SELECT DB_NAME(vfs.database_id) AS database_name, mf.name AS file_name, \
    mf.physical_name, mf.type_desc, mf.size / 128.0 AS size_mb, vfs.num_of_reads, \
    vfs.num_of_writes, vfs.num_of_bytes_read, vfs.num_of_bytes_written, vfs.io_stall_read_ms, \
    vfs.io_stall_write_ms \
    FROM sys.dm_io_virtual_file_stats(NULL, NULL) AS vfs \
    JOIN sys.master_files AS mf ON mf.database_id = vfs.database_id AND mf.file_id = vfs.file_id \
    WHERE mf.type_desc IN (N'ROWS', N'LOG')";

/// The top statements by total elapsed time, with the database their plan ran in (for ad hoc
/// SQL dm_exec_sql_text's dbid is NULL; the plan's dbid attribute is not). `{top}` is a number.
pub fn top_queries(top: u32) -> String {
    format!(
        "SELECT TOP ({top}) DB_NAME(CONVERT(int, pa.value)) AS database_name, \
         SUBSTRING(st.text, (qs.statement_start_offset / 2) + 1, \
             ((CASE qs.statement_end_offset WHEN -1 THEN DATALENGTH(st.text) \
               ELSE qs.statement_end_offset END - qs.statement_start_offset) / 2) + 1) AS statement_text, \
         qs.execution_count, qs.total_elapsed_time, qs.total_worker_time, qs.total_logical_reads \
         FROM sys.dm_exec_query_stats AS qs \
         CROSS APPLY sys.dm_exec_sql_text(qs.sql_handle) AS st \
         CROSS APPLY sys.dm_exec_plan_attributes(qs.plan_handle) AS pa \
         WHERE pa.attribute = N'dbid' \
         ORDER BY qs.total_elapsed_time DESC"
    )
}

/// Recent backup history (the newest 5,000 backups), LSNs exact.
pub const BACKUPS: &str = "SELECT TOP 5000 b.database_name, b.type, b.backup_finish_date, \
    b.backup_size, b.compressed_backup_size, b.first_lsn, b.last_lsn, b.is_copy_only, \
    b.has_backup_checksums, \
    f.physical_device_name FROM msdb.dbo.backupset AS b \
    JOIN msdb.dbo.backupmediafamily AS f ON f.media_set_id = b.media_set_id \
    ORDER BY b.backup_finish_date DESC";
