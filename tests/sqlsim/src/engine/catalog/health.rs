//! Views that health and best-practice checks read (Microsoft's SQL Assessment API probes among
//! them), as a stand-alone instance shows them: no availability groups, no mirroring, no audit
//! specifications or missing-index suggestions yet, the default trace and the always-on
//! Extended Events sessions running, a plan cache with a few plans, the OS and the loaded modules.
//! Columns follow Microsoft's documentation of each view (docs/sqlsim.md lists them).

use rusqlite::{Connection, params};

use super::q;
use crate::instance::Instance;

/// Server-wide views (master) for instance `inst`.
pub fn install_server(conn: &Connection, inst: &Instance) -> rusqlite::Result<()> {
    let major = inst.version.0;
    // Columns later versions added: is_distributed (2016), cluster_type (2017).
    let ag_since_2016 = if major >= 13 {
        ", is_distributed BIT NOT NULL"
    } else {
        ""
    };
    let ag_since_2017 = if major >= 14 {
        ", cluster_type TINYINT NOT NULL, cluster_type_desc NVARCHAR(60) NOT NULL, \
         required_synchronized_secondaries_to_commit INT NOT NULL"
    } else {
        ""
    };
    conn.execute_batch(&format!(
        "CREATE TABLE master.\"sys.availability_groups\" (
             group_id UNIQUEIDENTIFIER NOT NULL, name NVARCHAR(128) COLLATE NOCASE, resource_id NVARCHAR(40),
             resource_group_id NVARCHAR(40), failure_condition_level INT, health_check_timeout INT,
             automated_backup_preference TINYINT, automated_backup_preference_desc NVARCHAR(60),
             version SMALLINT, basic_features BIT, dtc_support BIT, db_failover BIT{ag_since_2016}{ag_since_2017});
         CREATE TABLE master.\"sys.availability_replicas\" (
             replica_id UNIQUEIDENTIFIER, group_id UNIQUEIDENTIFIER, replica_metadata_id INT,
             replica_server_name NVARCHAR(256), owner_sid VARBINARY(85), endpoint_url NVARCHAR(128),
             availability_mode TINYINT, availability_mode_desc NVARCHAR(60), failover_mode TINYINT,
             failover_mode_desc NVARCHAR(60), session_timeout INT, primary_role_allow_connections TINYINT,
             primary_role_allow_connections_desc NVARCHAR(60), secondary_role_allow_connections TINYINT,
             secondary_role_allow_connections_desc NVARCHAR(60), create_date DATETIME, modify_date DATETIME,
             backup_priority INT, read_only_routing_url NVARCHAR(256));
         CREATE TABLE master.\"sys.dm_hadr_availability_replica_states\" (
             replica_id UNIQUEIDENTIFIER, group_id UNIQUEIDENTIFIER, is_local BIT, role TINYINT,
             role_desc NVARCHAR(60), operational_state TINYINT, operational_state_desc NVARCHAR(60),
             connected_state TINYINT, connected_state_desc NVARCHAR(60), recovery_health TINYINT,
             recovery_health_desc NVARCHAR(60), synchronization_health TINYINT,
             synchronization_health_desc NVARCHAR(60), last_connect_error_number INT,
             last_connect_error_description NVARCHAR(1024), last_connect_error_timestamp DATETIME);
         CREATE TABLE master.\"sys.dm_hadr_availability_group_states\" (
             group_id UNIQUEIDENTIFIER, primary_replica NVARCHAR(128), primary_recovery_health TINYINT,
             primary_recovery_health_desc NVARCHAR(60), synchronization_health TINYINT,
             synchronization_health_desc NVARCHAR(60));
         CREATE TABLE master.\"sys.availability_group_listeners\" (
             group_id UNIQUEIDENTIFIER, listener_id NVARCHAR(36), dns_name NVARCHAR(63), port INT,
             is_conformant BIT, ip_configuration_string_from_cluster NVARCHAR(4000));
         CREATE TABLE master.\"sys.availability_group_listener_ip_addresses\" (
             listener_id NVARCHAR(36), ip_address NVARCHAR(48), ip_subnet_mask NVARCHAR(15), is_dhcp BIT,
             network_subnet_ip NVARCHAR(48), network_subnet_prefix_length INT,
             network_subnet_ipv4_mask NVARCHAR(45), state TINYINT, state_desc NVARCHAR(60));
         CREATE TABLE master.\"sys.dm_hadr_database_replica_states\" (
             database_id INT, group_id UNIQUEIDENTIFIER, replica_id UNIQUEIDENTIFIER,
             group_database_id UNIQUEIDENTIFIER, is_local BIT, is_primary_replica BIT,
             synchronization_state TINYINT, synchronization_state_desc NVARCHAR(60),
             is_commit_participant BIT, synchronization_health TINYINT,
             synchronization_health_desc NVARCHAR(60), database_state TINYINT,
             database_state_desc NVARCHAR(60), is_suspended BIT, suspend_reason TINYINT,
             suspend_reason_desc NVARCHAR(60), log_send_queue_size BIGINT, log_send_rate BIGINT,
             redo_queue_size BIGINT, redo_rate BIGINT, last_commit_time DATETIME);
         CREATE TABLE master.\"sys.dm_hadr_database_replica_cluster_states\" (
             replica_id UNIQUEIDENTIFIER, group_database_id UNIQUEIDENTIFIER, database_name NVARCHAR(128),
             is_failover_ready BIT, is_pending_secondary_suspend BIT, is_database_joined BIT,
             recovery_lsn NUMERIC(25,0), truncation_lsn NUMERIC(25,0));
         CREATE TABLE master.\"sys.database_mirroring_endpoints\" (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, endpoint_id INT NOT NULL, principal_id INT,
             protocol TINYINT NOT NULL, protocol_desc NVARCHAR(60) NOT NULL, type TINYINT NOT NULL,
             type_desc NVARCHAR(60) NOT NULL, state TINYINT NOT NULL, state_desc NVARCHAR(60) NOT NULL,
             is_admin_endpoint BIT NOT NULL, role TINYINT NOT NULL, role_desc NVARCHAR(60) NOT NULL,
             is_encryption_enabled BIT NOT NULL, connection_auth TINYINT NOT NULL,
             connection_auth_desc NVARCHAR(60) NOT NULL, certificate_id INT NOT NULL,
             encryption_algorithm TINYINT NOT NULL, encryption_algorithm_desc NVARCHAR(60) NOT NULL);
         CREATE TABLE master.\"sys.server_audit_specifications\" (
             server_specification_id INT NOT NULL, name NVARCHAR(128) COLLATE NOCASE NOT NULL,
             create_date DATETIME NOT NULL, modify_date DATETIME NOT NULL, audit_guid UNIQUEIDENTIFIER,
             is_state_enabled BIT);
         CREATE VIEW master.\"sys.dm_os_volume_stats\" AS
             SELECT database_id, file_id,
                    CASE WHEN substr(physical_name, 2, 1) = ':' THEN substr(physical_name, 1, 3)
                         ELSE '/' END AS volume_mount_point,
                    CASE WHEN substr(physical_name, 2, 1) = ':'
                         THEN '\\\\?\\Volume{{' || upper(substr(physical_name, 1, 1)) || '0000000-sqlsim}}\\'
                         ELSE '/dev/sqlsim0' END AS volume_id,
                    'Data' AS logical_volume_name,
                    CASE WHEN substr(physical_name, 2, 1) = ':' THEN 'NTFS' ELSE 'EXT4' END AS file_system_type,
                    1099511627776 AS total_bytes, 549755813888 AS available_bytes,
                    1 AS supports_compression, 1 AS supports_alternate_streams,
                    1 AS supports_sparse_files, 0 AS is_read_only, 0 AS is_compressed
             FROM master.\"sys.master_files\";
         CREATE TABLE master.\"sys.dm_exec_cached_plans\" (
             bucketid INT NOT NULL, refcounts INT NOT NULL, usecounts INT NOT NULL,
             size_in_bytes INT NOT NULL, memory_object_address VARBINARY(8) NOT NULL,
             cacheobjtype NVARCHAR(50) NOT NULL, objtype NVARCHAR(20) NOT NULL,
             plan_handle VARBINARY(64) NOT NULL, pool_id INT NOT NULL, parent_plan_handle VARBINARY(64));
         INSERT INTO master.\"sys.dm_exec_cached_plans\" VALUES
             (1021, 2, 1, 16384, X'0000000000000001', 'Compiled Plan', 'Adhoc', X'06000100', 2, NULL),
             (2307, 2, 48, 65536, X'0000000000000002', 'Compiled Plan', 'Proc', X'05000500', 2, NULL),
             (4711, 1, 12, 40960, X'0000000000000003', 'Compiled Plan', 'Prepared', X'06000500', 2, NULL);
         CREATE TABLE master.\"sys.traces\" (
             id INT NOT NULL, status INT NOT NULL, path NVARCHAR(260), max_size BIGINT, stop_time DATETIME,
             max_files INT, is_rowset BIT, is_rollover BIT, is_shutdown BIT, is_default BIT,
             buffer_count INT, buffer_size INT, file_position BIGINT, reader_spid INT,
             start_time DATETIME, last_event_time DATETIME, event_count BIGINT, dropped_event_count INT);
         CREATE TABLE master.\"sys.dm_exec_query_optimizer_info\" (
             counter NVARCHAR(4000) COLLATE NOCASE NOT NULL, occurrence BIGINT NOT NULL, value FLOAT);
         INSERT INTO master.\"sys.dm_exec_query_optimizer_info\" VALUES
             ('optimizations', 5120, 1), ('elapsed time', 5120, 0.004), ('final cost', 5120, 0.37),
             ('trivial plan', 2210, 1), ('tasks', 2910, 510), ('no plan', 0, NULL),
             ('search 0', 310, 1), ('search 1', 2580, 1), ('search 2', 20, 1),
             ('timeout', 4, 1), ('memory limit exceeded', 0, NULL), ('insert stmt', 420, 1),
             ('delete stmt', 35, 1), ('update stmt', 160, 1), ('contains subquery', 390, 1),
             ('tables', 5120, 1.9), ('hints', 0, NULL), ('order hint', 0, NULL),
             ('join hint', 0, NULL), ('view reference', 610, 1), ('remote query', 0, NULL),
             ('maximum DOP', 5120, 0), ('maximum recursion level', 0, NULL),
             ('indexed views loaded', 0, NULL), ('indexed views matched', 0, NULL),
             ('indexed views used', 0, NULL), ('indexed views updated', 0, NULL),
             ('dynamic cursor request', 0, NULL), ('fast forward cursor request', 3, 1),
             ('merge stmt', 0, NULL);
         CREATE TABLE master.\"sys.messages\" (
             message_id INT NOT NULL, language_id SMALLINT NOT NULL, severity TINYINT NOT NULL,
             is_event_logged BIT NOT NULL, text NVARCHAR(2048) NOT NULL);
         INSERT INTO master.\"sys.messages\" VALUES
             (102, 1033, 15, 0, 'Incorrect syntax near ''%.*ls''.'),
             (208, 1033, 16, 0, 'Invalid object name ''%.*ls''.'),
             (823, 1033, 24, 1, 'The operating system returned error %ls to SQL Server during a %S_MSG at offset %#016I64x in file ''%ls''.'),
             (824, 1033, 24, 1, 'SQL Server detected a logical consistency-based I/O error: %ls.'),
             (825, 1033, 10, 1, 'A read of the file ''%ls'' at offset %#016I64x succeeded after failing %d time(s) with error: %ls.'),
             (18052, 1033, 0, 0, 'Error: %d, Severity: %d, State: %d.');
         CREATE TABLE master.\"sys.syslanguages\" (
             langid SMALLINT NOT NULL, dateformat NCHAR(3) NOT NULL, datefirst TINYINT NOT NULL,
             upgrade INT, name NVARCHAR(128) COLLATE NOCASE NOT NULL, alias NVARCHAR(128) NOT NULL,
             months NVARCHAR(372), shortmonths NVARCHAR(132), days NVARCHAR(217), lcid INT NOT NULL,
             msglangid SMALLINT NOT NULL);
         INSERT INTO master.\"sys.syslanguages\" VALUES
             (0, 'mdy', 7, 0, 'us_english', 'English',
              'January,February,March,April,May,June,July,August,September,October,November,December',
              'Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec',
              'Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday', 1033, 1033),
             (23, 'dmy', 1, 0, 'British', 'British English',
              'January,February,March,April,May,June,July,August,September,October,November,December',
              'Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec',
              'Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday', 2057, 1033);
         CREATE TABLE master.\"sys.fulltext_languages\" (lcid INT NOT NULL, name NVARCHAR(128) NOT NULL);
         INSERT INTO master.\"sys.fulltext_languages\" VALUES
             (0, 'Neutral'), (1031, 'German'), (1033, 'English'), (1036, 'French'), (1040, 'Italian'),
             (1041, 'Japanese'), (1043, 'Dutch'), (1049, 'Russian'), (2052, 'Simplified Chinese'),
             (2057, 'British English'), (3082, 'Spanish');
         CREATE TABLE master.\"sys.dm_os_loaded_modules\" (
             base_address VARBINARY(8) NOT NULL, file_version VARCHAR(23), product_version VARCHAR(23),
             debug BIT, patched BIT, prerelease BIT, private_build BIT, special_build BIT, language INT,
             company NVARCHAR(256), description NVARCHAR(256), name NVARCHAR(255));
         CREATE TABLE master.\"sys.dm_os_windows_info\" (
             windows_release NVARCHAR(256) NOT NULL, windows_service_pack_level NVARCHAR(256) NOT NULL,
             windows_sku INT, os_language_version INT NOT NULL);
         INSERT INTO master.\"sys.dm_os_windows_info\" VALUES ('10.0', '', 8, 1033);
         CREATE TABLE master.\"sys.dm_xe_sessions\" (
             address VARBINARY(8) NOT NULL, name NVARCHAR(256) COLLATE NOCASE NOT NULL,
             pending_buffers INT NOT NULL, total_regular_buffers INT NOT NULL,
             regular_buffer_size BIGINT NOT NULL, total_large_buffers INT NOT NULL,
             large_buffer_size BIGINT NOT NULL, total_buffer_size BIGINT NOT NULL,
             buffer_policy_flags INT NOT NULL, buffer_policy_desc NVARCHAR(256) NOT NULL,
             flags INT NOT NULL, flag_desc NVARCHAR(256) NOT NULL, dropped_event_count INT NOT NULL,
             dropped_buffer_count INT NOT NULL, blocked_event_fire_time INT NOT NULL,
             create_time DATETIME NOT NULL, largest_event_dropped_size INT NOT NULL);
         CREATE TABLE master.\"sys.dm_resource_governor_resource_pools\" (
             pool_id INT NOT NULL, name NVARCHAR(128) NOT NULL, statistics_start_time DATETIME NOT NULL,
             total_cpu_usage_ms BIGINT NOT NULL, cache_memory_kb BIGINT NOT NULL,
             compile_memory_kb BIGINT NOT NULL, used_memory_kb BIGINT NOT NULL,
             max_memory_kb BIGINT NOT NULL, target_memory_kb BIGINT NOT NULL,
             min_cpu_percent INT NOT NULL, max_cpu_percent INT NOT NULL,
             min_memory_percent INT NOT NULL, max_memory_percent INT NOT NULL, cap_cpu_percent INT NOT NULL);
         INSERT INTO master.\"sys.dm_resource_governor_resource_pools\" VALUES
             (1, 'internal', '2024-01-01 00:00:00.000', 52000, 20480, 4096, 262144, 0, 0, 0, 100, 0, 100, 100),
             (2, 'default', '2024-01-01 00:00:00.000', 910000, 40960, 8192, 1048576, 0, 0, 0, 100, 0, 100, 100);
         CREATE TABLE master.\"sys.dm_db_missing_index_details\" (
             index_handle INT NOT NULL, database_id SMALLINT NOT NULL, object_id INT NOT NULL,
             equality_columns NVARCHAR(4000), inequality_columns NVARCHAR(4000),
             included_columns NVARCHAR(4000), statement NVARCHAR(4000));
         CREATE TABLE master.\"sys.dm_db_missing_index_groups\" (
             index_group_handle INT NOT NULL, index_handle INT NOT NULL);
         CREATE TABLE master.\"sys.dm_db_missing_index_group_stats\" (
             group_handle INT NOT NULL, unique_compiles BIGINT, user_seeks BIGINT, user_scans BIGINT,
             last_user_seek DATETIME, last_user_scan DATETIME, avg_total_user_cost FLOAT,
             avg_user_impact FLOAT, system_seeks BIGINT, system_scans BIGINT);
         CREATE TABLE master.\"sys.dm_db_index_usage_stats\" (
             database_id SMALLINT NOT NULL, object_id INT NOT NULL, index_id INT NOT NULL,
             user_seeks BIGINT NOT NULL, user_scans BIGINT NOT NULL, user_lookups BIGINT NOT NULL,
             user_updates BIGINT NOT NULL, last_user_seek DATETIME, last_user_scan DATETIME,
             last_user_lookup DATETIME, last_user_update DATETIME);
"
    ))?;
    if major >= 14 {
        conn.execute_batch(
            "CREATE TABLE master.\"sys.dm_os_host_info\" (
                 host_platform NVARCHAR(256) NOT NULL, host_distribution NVARCHAR(256) NOT NULL,
                 host_release NVARCHAR(256) NOT NULL, host_service_pack_level NVARCHAR(256) NOT NULL,
                 host_sku INT, os_language_version INT NOT NULL);
             INSERT INTO master.\"sys.dm_os_host_info\" VALUES
                 ('Windows', 'Windows Server 2019 Datacenter', '10.0', '', 8, 1033);",
        )?;
    }
    fill(conn, inst)
}

/// msdb's restore history, backup files and media sets (one per backup in msdb.dbo.backupset)
/// and suspect pages (none); created after the backup history.
pub fn install_msdb(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE msdb.\"dbo.suspect_pages\" (
             database_id INT NOT NULL, file_id INT NOT NULL, page_id BIGINT NOT NULL,
             event_type INT NOT NULL, error_count INT NOT NULL, last_update_date DATETIME NOT NULL);
         CREATE TABLE msdb.\"dbo.restorehistory\" (
             restore_history_id INT PRIMARY KEY, restore_date DATETIME, destination_database_name NVARCHAR(128),
             user_name NVARCHAR(128), backup_set_id INT NOT NULL, restore_type CHAR(1), replace BIT,
             recovery BIT, restart BIT, stop_at DATETIME, device_count TINYINT, stop_at_mark_name NVARCHAR(128),
             stop_before BIT);
         CREATE TABLE msdb.\"dbo.restorefile\" (
             restore_history_id INT NOT NULL, file_number NUMERIC(20,0), destination_phys_drive NVARCHAR(260),
             destination_phys_name NVARCHAR(260));
         CREATE TABLE msdb.\"dbo.restorefilegroup\" (
             restore_history_id INT NOT NULL, filegroup_name NVARCHAR(128));
         CREATE TABLE msdb.\"dbo.backupfile\" (
             backup_set_id INT NOT NULL, first_family_number TINYINT, first_media_number SMALLINT,
             filegroup_name NVARCHAR(128), page_size INT, file_number NUMERIC(20,0), backed_up_page_count NUMERIC(20,0),
             file_type CHAR(1), source_file_block_size NUMERIC(20,0), file_size NUMERIC(20,0),
             logical_name NVARCHAR(128), physical_drive NVARCHAR(260), physical_name NVARCHAR(260),
             state TINYINT, state_desc NVARCHAR(64), is_readonly BIT, is_present BIT);
         CREATE TABLE msdb.\"dbo.backupmediaset\" (
             media_set_id INT PRIMARY KEY, media_uuid UNIQUEIDENTIFIER, media_family_count TINYINT,
             name NVARCHAR(128), description NVARCHAR(255), software_name NVARCHAR(128),
             software_vendor_id INT, MTF_major_version TINYINT, mirror_count TINYINT,
             is_password_protected BIT, is_compressed BIT, is_encrypted BIT);
         INSERT INTO msdb.\"dbo.backupmediaset\" (media_set_id, media_family_count, software_name,
             software_vendor_id, MTF_major_version, mirror_count, is_password_protected,
             is_compressed, is_encrypted)
             SELECT DISTINCT media_set_id, 1, 'Microsoft SQL Server', 4608, 1, 1, 0,
                    compressed_backup_size < backup_size, 0
             FROM msdb.\"dbo.backupset\";",
    )
}

/// The rows that depend on the instance: the default trace, the XEvent sessions, the modules.
fn fill(conn: &Connection, inst: &Instance) -> rusqlite::Result<()> {
    let (major, minor, build) = inst.version;
    let default_trace = inst
        .configurations
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case("default trace enabled"))
        .is_none_or(|c| c.value != 0);
    if default_trace {
        conn.execute(
            "INSERT INTO master.\"sys.traces\" VALUES (1, 1, ?1, 20, NULL, 5, 0, 1, 0, 1, 2, 1024, \
             1048576, NULL, '2024-01-01 00:00:00.000', '2024-01-01 00:00:00.000', 2301, NULL)",
            [format!("C:\\Program Files\\Microsoft SQL Server\\MSSQL{major}.MSSQLSERVER\\MSSQL\\Log\\log_12.trc")],
        )?;
    }
    // Sessions every instance runs, then the description's own (described sessions run).
    let mut sessions: Vec<String> = vec![
        "system_health".into(),
        "sp_server_diagnostics session".into(),
    ];
    if major >= 12 {
        sessions.push("hkenginexesession".into());
    }
    if major >= 13 {
        sessions.push("telemetry_xevents".into());
    }
    for s in &inst.xevent_sessions {
        if !sessions.contains(&s.name) {
            sessions.push(s.name.clone());
        }
    }
    for (i, name) in sessions.iter().enumerate() {
        conn.execute(
            "INSERT INTO master.\"sys.dm_xe_sessions\" VALUES (?1, ?2, 0, 3, 1048576, 0, 0, 3145728, \
             0, '', 1, 'FLUSH_ON_CLOSE', 0, 0, 0, '2024-01-01 00:00:00.000', 0)",
            params![(i as i64 + 1).to_be_bytes().to_vec(), name],
        )?;
    }
    let file_version = format!("{}.{major}{minor}.{build}.0", 2000 + major as u32 * 5 / 4);
    for (i, (name, description)) in [
        ("sqlservr.exe", "SQL Server Windows NT - 64 Bit"),
        ("sqlmin.dll", "SQL Server Windows NT - 64 Bit"),
        ("sqllang.dll", "SQL Server Windows NT - 64 Bit"),
        ("sqldk.dll", "SQL Server Windows NT - 64 Bit"),
        ("ntdll.dll", "NT Layer DLL"),
        ("KERNEL32.DLL", "Windows NT BASE API Client DLL"),
    ]
    .iter()
    .enumerate()
    {
        let path = if name.starts_with("sql") {
            format!(
                "C:\\Program Files\\Microsoft SQL Server\\MSSQL{major}.MSSQLSERVER\\MSSQL\\Binn\\{name}"
            )
        } else {
            format!("C:\\Windows\\SYSTEM32\\{name}")
        };
        let version = if name.starts_with("sql") {
            file_version.clone()
        } else {
            "10.0.17763.1".into()
        };
        conn.execute(
            "INSERT INTO master.\"sys.dm_os_loaded_modules\" VALUES (?1, ?2, ?2, 0, 0, 0, 0, 0, 1033, \
             'Microsoft Corporation', ?3, ?4)",
            params![(0x7FF0_0000_0000_i64 + i as i64 * 0x100_0000).to_be_bytes().to_vec(), version, description, path],
        )?;
    }
    Ok(())
}

/// Per-database views in `db`: audit specifications and Query Store options (2016+).
pub fn install_database(conn: &Connection, db: &str, major: u8) -> rusqlite::Result<()> {
    let d = q(db);
    conn.execute_batch(&format!(
        "CREATE TABLE {d}.\"sys.database_audit_specifications\" (
             database_specification_id INT NOT NULL, name NVARCHAR(128) COLLATE NOCASE NOT NULL,
             create_date DATETIME NOT NULL, modify_date DATETIME NOT NULL, audit_guid UNIQUEIDENTIFIER,
             is_state_enabled BIT);
         CREATE TABLE {d}.\"sys.column_store_row_groups\" (
             object_id INT NOT NULL, index_id INT NOT NULL, partition_number INT NOT NULL,
             row_group_id INT NOT NULL, delta_store_hobt_id BIGINT, state TINYINT NOT NULL,
             state_description NVARCHAR(60) NOT NULL, total_rows BIGINT NOT NULL,
             deleted_rows BIGINT, size_in_bytes BIGINT NOT NULL);"
    ))?;
    // Query Store is on by default for databases created on SQL Server 2022, off before.
    query_store_options(conn, db, major, major >= 16)
}

/// `sys.database_query_store_options` (2016+), once, Query Store on or not; a database restored
/// from an earlier version gets it off.
pub fn query_store_options(
    conn: &Connection,
    db: &str,
    major: u8,
    on: bool,
) -> rusqlite::Result<()> {
    let d = q(db);
    let exists: bool = conn.query_row(
        &format!(
            "SELECT COUNT(*) > 0 FROM {d}.sqlite_master WHERE name = 'sys.database_query_store_options'"
        ),
        [],
        |r| r.get(0),
    )?;
    if major >= 13 && !exists {
        let (state, desc) = if on { (2, "READ_WRITE") } else { (0, "OFF") };
        conn.execute_batch(&format!(
            "CREATE TABLE {d}.\"sys.database_query_store_options\" (
                 desired_state SMALLINT NOT NULL, desired_state_desc NVARCHAR(60) NOT NULL,
                 actual_state SMALLINT NOT NULL, actual_state_desc NVARCHAR(60) NOT NULL,
                 readonly_reason INT NOT NULL, current_storage_size_mb BIGINT NOT NULL,
                 flush_interval_seconds BIGINT NOT NULL, interval_length_minutes BIGINT NOT NULL,
                 max_storage_size_mb BIGINT NOT NULL, stale_query_threshold_days BIGINT NOT NULL,
                 max_plans_per_query BIGINT NOT NULL, query_capture_mode SMALLINT NOT NULL,
                 query_capture_mode_desc NVARCHAR(60) NOT NULL, size_based_cleanup_mode SMALLINT NOT NULL,
                 size_based_cleanup_mode_desc NVARCHAR(60) NOT NULL);
             INSERT INTO {d}.\"sys.database_query_store_options\" VALUES
                 ({state}, '{desc}', {state}, '{desc}', 0, 0, 900, 60, 1000, 30, 200, 2, 'AUTO', 1, 'AUTO');"
        ))?;
    }
    Ok(())
}
