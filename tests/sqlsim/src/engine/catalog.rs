//! The catalog views, built from what the engine records: every database holds metadata tables
//! (`__sqlsim_objects`, `__sqlsim_columns`, `__sqlsim_rowcounts`) kept up to date by CREATE and
//! DROP, and SQLite views named like SQL Server's (`sys.tables`, `sys.columns`, …) over them.
//! Column names and types follow Microsoft's documentation of each view (docs/sqlsim.md); the
//! views are declared with SQL Server types so results carry them.

use rusqlite::Connection;

use crate::instance::Instance;
use crate::tds::types::ColumnType;

/// Views that exist once per instance; any database's reference goes to master.
pub const SERVER_VIEWS: &[&str] = &[
    "dm_exec_sessions",
    "dm_exec_requests",
    "dm_server_services",
    "databases",
    "master_files",
    "configurations",
    "server_principals",
    "server_role_members",
    "servers",
    "dm_os_sys_info",
    "dm_os_schedulers",
    "dm_os_sys_memory",
    "dm_os_performance_counters",
    "change_tracking_databases",
    "server_triggers",
    "server_sql_modules",
    "server_audits",
    "endpoints",
    "credentials",
    "server_event_sessions",
    "server_event_session_targets",
    "availability_groups",
    "availability_replicas",
    "dm_hadr_availability_replica_states",
    "dm_hadr_availability_group_states",
    "availability_group_listeners",
    "availability_group_listener_ip_addresses",
    "dm_hadr_database_replica_states",
    "dm_hadr_database_replica_cluster_states",
    "database_mirroring_endpoints",
    "server_audit_specifications",
    "dm_exec_cached_plans",
    "traces",
    "dm_exec_query_optimizer_info",
    "fulltext_languages",
    "dm_os_loaded_modules",
    "dm_os_windows_info",
    "dm_os_host_info",
    "dm_xe_sessions",
    "dm_resource_governor_resource_pools",
    "dm_db_missing_index_details",
    "dm_db_missing_index_groups",
    "dm_db_missing_index_group_stats",
    "dm_db_index_usage_stats",
    "messages",
    "syslanguages",
    "dm_os_volume_stats",
    "dm_exec_sql_text",
    "dm_io_virtual_file_stats",
    "dm_db_log_stats",
    "database_recovery_status",
    "dm_exec_query_stats",
    "dm_exec_plan_attributes",
];

pub mod activity;
pub mod agent;
pub mod assemblies;
pub mod broker;
pub mod health;
pub mod principals;
pub mod schema_extras;
pub mod server_objects;
pub mod storage;
pub mod workload;

fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Creates the metadata tables and views in database `db`. Constant columns of the views are
/// typed columns with defaults, because SQLite reports declared types only for plain column
/// references, and the declared types are how results learn their SQL Server types.
pub fn install(conn: &Connection, db: &str, major: u8) -> rusqlite::Result<()> {
    let d = q(db);
    conn.execute_batch(&format!(
        "CREATE TABLE {d}.__sqlsim_objects (
             object_id INT PRIMARY KEY, name NVARCHAR(128) COLLATE NOCASE NOT NULL, schema_name NVARCHAR(128) COLLATE NOCASE NOT NULL,
             schema_id INT NOT NULL, principal_id INT, parent_object_id INT NOT NULL DEFAULT 0,
             type CHAR(2) COLLATE NOCASE NOT NULL, type_desc NVARCHAR(60) COLLATE NOCASE NOT NULL, create_date DATETIME NOT NULL,
             modify_date DATETIME NOT NULL, is_ms_shipped BIT NOT NULL DEFAULT 0,
             is_published BIT NOT NULL DEFAULT 0, is_schema_published BIT NOT NULL DEFAULT 0,
             lob_data_space_id INT NOT NULL DEFAULT 0, is_replicated BIT NOT NULL DEFAULT 0,
             is_memory_optimized BIT NOT NULL DEFAULT 0, temporal_type TINYINT NOT NULL DEFAULT 0,
             definition NVARCHAR(-1), uses_ansi_nulls BIT NOT NULL DEFAULT 1,
             uses_quoted_identifier BIT NOT NULL DEFAULT 1, is_schema_bound BIT NOT NULL DEFAULT 0,
             is_auto_executed BIT NOT NULL DEFAULT 0);
         CREATE TABLE {d}.__sqlsim_columns (
             object_id INT NOT NULL, column_id INT NOT NULL, name NVARCHAR(128) COLLATE NOCASE NOT NULL,
             system_type_id TINYINT NOT NULL, user_type_id INT NOT NULL, max_length SMALLINT NOT NULL,
             precision TINYINT NOT NULL, scale TINYINT NOT NULL, collation_name NVARCHAR(128) COLLATE NOCASE,
             is_nullable BIT NOT NULL, is_identity BIT NOT NULL, is_computed BIT NOT NULL DEFAULT 0,
             PRIMARY KEY (object_id, column_id));
         CREATE TABLE {d}.__sqlsim_indexes (
             object_id INT NOT NULL, index_id INT NOT NULL, name NVARCHAR(128) COLLATE NOCASE, type TINYINT NOT NULL,
             type_desc NVARCHAR(60) COLLATE NOCASE NOT NULL, is_unique BIT NOT NULL, is_primary_key BIT NOT NULL,
             is_disabled BIT NOT NULL DEFAULT 0, partition_id BIGINT NOT NULL,
             partition_number INT NOT NULL DEFAULT 1, data_compression TINYINT NOT NULL DEFAULT 0,
             data_compression_desc NVARCHAR(60) COLLATE NOCASE NOT NULL DEFAULT 'NONE',
             is_hypothetical BIT NOT NULL DEFAULT 0, fill_factor TINYINT NOT NULL DEFAULT 0,
             has_filter BIT NOT NULL DEFAULT 0, filter_definition NVARCHAR(-1),
             data_space_id INT NOT NULL DEFAULT 1, is_unique_constraint BIT NOT NULL DEFAULT 0,
             PRIMARY KEY (object_id, index_id));
         CREATE TABLE {d}.__sqlsim_rowcounts (object_id INT PRIMARY KEY, rows BIGINT NOT NULL);
         CREATE TABLE {d}.\"sys.schemas\" (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, schema_id INT PRIMARY KEY, principal_id INT);
         INSERT INTO {d}.\"sys.schemas\" VALUES ('dbo', 1, 1), ('guest', 2, 2),
             ('INFORMATION_SCHEMA', 3, 3), ('sys', 4, 4);
         CREATE VIEW {d}.\"sys.objects\" AS
             SELECT name, object_id, principal_id, schema_id, parent_object_id, type, type_desc,
                    create_date, modify_date, is_ms_shipped, is_published, is_schema_published
             FROM {d}.__sqlsim_objects;
         CREATE VIEW {d}.\"sys.views\" AS
             SELECT name, object_id, principal_id, schema_id, parent_object_id, type, type_desc,
                    create_date, modify_date, is_ms_shipped
             FROM {d}.__sqlsim_objects WHERE type = 'V';
         CREATE VIEW {d}.\"sys.procedures\" AS
             SELECT name, object_id, principal_id, schema_id, parent_object_id, type, type_desc,
                    create_date, modify_date, is_ms_shipped, is_auto_executed
             FROM {d}.__sqlsim_objects WHERE type = 'P';
         CREATE VIEW {d}.\"sys.all_objects\" AS
             SELECT name, object_id, principal_id, schema_id, parent_object_id, type, type_desc,
                    create_date, modify_date, is_ms_shipped, is_published, is_schema_published
             FROM {d}.__sqlsim_objects;
         CREATE VIEW {d}.\"sys.sql_modules\" AS
             SELECT object_id, definition, uses_ansi_nulls, uses_quoted_identifier, is_schema_bound
             FROM {d}.__sqlsim_objects WHERE definition IS NOT NULL;
         CREATE VIEW {d}.\"sys.columns\" AS
             SELECT object_id, name, column_id, system_type_id, user_type_id, max_length, precision,
                    scale, collation_name, is_nullable, is_identity, is_computed
             FROM {d}.__sqlsim_columns;
         CREATE VIEW {d}.\"sys.all_columns\" AS
             SELECT object_id, name, column_id, system_type_id, user_type_id, max_length, precision,
                    scale, collation_name, is_nullable, is_identity, is_computed
             FROM {d}.__sqlsim_columns;
         CREATE VIEW {d}.\"sys.indexes\" AS
             SELECT object_id, name, index_id, type, type_desc, is_unique, data_space_id,
                    is_primary_key, is_unique_constraint, fill_factor, is_disabled,
                    is_hypothetical, has_filter, filter_definition
             FROM {d}.__sqlsim_indexes;
         CREATE VIEW {d}.\"sys.partitions\" AS
             SELECT i.partition_id, i.object_id, i.index_id, i.partition_number, r.rows,
                    i.data_compression, i.data_compression_desc
             FROM {d}.__sqlsim_indexes i JOIN {d}.__sqlsim_rowcounts r ON r.object_id = i.object_id
             WHERE i.index_id IN (0, 1);"
    ))?;
    tables_view(conn, db, major)?;
    principals::install(conn, db, major)?;
    assemblies::install(conn, db)?;
    broker::install(conn, db)?;
    health::install_database(conn, db, major)?;
    schema_extras::install(conn, db)?;
    crate::engine::declared_rows::install(conn, &d)?;
    storage::install(conn, db)
}

/// `sys.tables` with the columns `major`'s version has: memory-optimized tables came with 2014
/// (12), temporal tables with 2016 (13). A query naming them on an older server fails as it
/// would there (207).
fn tables_view(conn: &Connection, db: &str, major: u8) -> rusqlite::Result<()> {
    let d = q(db);
    let memory_optimized = if major >= 12 {
        ", is_memory_optimized"
    } else {
        ""
    };
    let temporal = if major >= 13 { ", temporal_type" } else { "" };
    conn.execute_batch(&format!(
        "DROP VIEW IF EXISTS {d}.\"sys.tables\";
         CREATE VIEW {d}.\"sys.tables\" AS
             SELECT name, object_id, principal_id, schema_id, parent_object_id, type, type_desc,
                    create_date, modify_date, is_ms_shipped, is_published, is_schema_published,
                    lob_data_space_id, is_replicated{memory_optimized}{temporal}
             FROM {d}.__sqlsim_objects WHERE type = 'U';"
    ))
}

/// A restored database takes the catalog of the server it is restored on, as a server upgrades
/// a database restored from an earlier version (restore-statements-transact-sql.md, "Restoring
/// a database from an earlier version"): the views of the server's version, and what that
/// version adds.
pub fn upgrade(conn: &Connection, db: &str, major: u8) -> rusqlite::Result<()> {
    tables_view(conn, db, major)?;
    principals::principals_view(conn, db, major)?;
    health::query_store_options(conn, db, major, false)
}

/// Creates master's `sys.databases` (a view showing the columns `major`'s version has) and
/// `sys.change_tracking_databases` over one table of every database's settings.
pub fn install_server(conn: &Connection, major: u8) -> rusqlite::Result<()> {
    // is_ledger_on came with SQL Server 2022 (16).
    let ledger = if major >= 16 { ", is_ledger_on" } else { "" };
    // Incremental statistics and resource pools per database came with SQL Server 2014 (12).
    let since_2014 = if major >= 12 {
        ", is_auto_create_stats_incremental_on, resource_pool_id"
    } else {
        ""
    };
    conn.execute_batch(&format!(
        "CREATE TABLE master.__sqlsim_databases (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, database_id INT PRIMARY KEY, source_database_id INT,
             owner_sid VARBINARY(85), create_date DATETIME NOT NULL, compatibility_level TINYINT NOT NULL,
             collation_name NVARCHAR(128) COLLATE NOCASE, user_access TINYINT NOT NULL, user_access_desc NVARCHAR(60) COLLATE NOCASE,
             is_read_only BIT NOT NULL, state TINYINT NOT NULL, state_desc NVARCHAR(60) COLLATE NOCASE,
             recovery_model TINYINT NOT NULL, recovery_model_desc NVARCHAR(60) COLLATE NOCASE,
             is_fulltext_enabled BIT NOT NULL DEFAULT 1, is_trustworthy_on BIT NOT NULL,
             is_published BIT NOT NULL DEFAULT 0, is_subscribed BIT NOT NULL DEFAULT 0,
             is_merge_published BIT NOT NULL DEFAULT 0, is_distributor BIT NOT NULL DEFAULT 0,
             is_broker_enabled BIT NOT NULL DEFAULT 0, is_cdc_enabled BIT NOT NULL DEFAULT 0,
             is_encrypted BIT NOT NULL DEFAULT 0, is_ledger_on BIT NOT NULL DEFAULT 0,
             is_db_chaining_on BIT NOT NULL DEFAULT 0, change_tracking BIT NOT NULL DEFAULT 0,
             is_in_standby BIT NOT NULL DEFAULT 0, is_auto_create_stats_on BIT NOT NULL DEFAULT 1,
             is_auto_update_stats_on BIT NOT NULL DEFAULT 1,
             is_auto_update_stats_async_on BIT NOT NULL DEFAULT 0,
             is_auto_close_on BIT NOT NULL DEFAULT 0, is_auto_shrink_on BIT NOT NULL DEFAULT 0,
             page_verify_option TINYINT NOT NULL DEFAULT 2,
             page_verify_option_desc NVARCHAR(60) NOT NULL DEFAULT 'CHECKSUM',
             is_parameterization_forced BIT NOT NULL DEFAULT 0,
             is_auto_create_stats_incremental_on BIT NOT NULL DEFAULT 0, resource_pool_id INT);
         CREATE VIEW master.\"sys.databases\" AS
             SELECT name, database_id, source_database_id, owner_sid, create_date, compatibility_level,
                    collation_name, user_access, user_access_desc, is_read_only, state, state_desc,
                    recovery_model, recovery_model_desc, is_fulltext_enabled, is_trustworthy_on,
                    is_published, is_subscribed, is_merge_published, is_distributor, is_broker_enabled,
                    is_cdc_enabled, is_encrypted, is_db_chaining_on, is_in_standby,
                    is_auto_create_stats_on, is_auto_update_stats_on, is_auto_update_stats_async_on,
                    is_auto_close_on, is_auto_shrink_on, page_verify_option, page_verify_option_desc,
                    is_parameterization_forced{since_2014}{ledger}
             FROM master.__sqlsim_databases;
         CREATE TABLE master.__sqlsim_change_tracking_defaults (
             is_auto_cleanup_on BIT NOT NULL, retention_period INT NOT NULL,
             retention_period_units TINYINT NOT NULL, retention_period_units_desc NVARCHAR(60) NOT NULL);
         INSERT INTO master.__sqlsim_change_tracking_defaults VALUES (1, 2, 3, 'DAYS');
         CREATE VIEW master.\"sys.change_tracking_databases\" AS
             SELECT d.database_id, c.is_auto_cleanup_on, c.retention_period, c.retention_period_units,
                    c.retention_period_units_desc
             FROM master.__sqlsim_databases d, master.__sqlsim_change_tracking_defaults c
             WHERE d.change_tracking = 1;"
    ))
}

/// Creates and fills master's server-wide views that come from the instance description:
/// sys.configurations, sys.server_principals, sys.server_role_members, sys.servers,
/// sys.dm_os_sys_info and sys.dm_server_services (and the activity DMVs, empty).
pub fn install_instance(conn: &Connection, inst: &Instance) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE master.\"sys.configurations\" (
             configuration_id INT PRIMARY KEY, name NVARCHAR(35) COLLATE NOCASE NOT NULL, value INT,
             minimum INT, maximum INT, value_in_use INT, description NVARCHAR(255) COLLATE NOCASE,
             is_dynamic BIT NOT NULL, is_advanced BIT NOT NULL);
         CREATE TABLE master.\"sys.server_principals\" (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, principal_id INT PRIMARY KEY, sid VARBINARY(85),
             type CHAR(1) COLLATE NOCASE NOT NULL, type_desc NVARCHAR(60) COLLATE NOCASE NOT NULL, is_disabled BIT NOT NULL,
             create_date DATETIME NOT NULL, modify_date DATETIME NOT NULL,
             default_database_name NVARCHAR(128) COLLATE NOCASE, default_language_name NVARCHAR(128) COLLATE NOCASE,
             is_fixed_role BIT NOT NULL);
         CREATE TABLE master.\"sys.server_role_members\" (
             role_principal_id INT NOT NULL, member_principal_id INT NOT NULL);
         CREATE TABLE master.\"sys.servers\" (
             server_id INT PRIMARY KEY, name NVARCHAR(128) COLLATE NOCASE NOT NULL, product NVARCHAR(128) COLLATE NOCASE NOT NULL,
             provider NVARCHAR(128) COLLATE NOCASE NOT NULL, data_source NVARCHAR(4000) COLLATE NOCASE, is_linked BIT NOT NULL,
             is_remote_login_enabled BIT NOT NULL, is_data_access_enabled BIT NOT NULL);
         CREATE TABLE master.__sqlsim_os_sys_info (
             cpu_count INT NOT NULL, hyperthread_ratio INT NOT NULL, physical_memory_kb BIGINT NOT NULL,
             virtual_memory_kb BIGINT NOT NULL, committed_target_kb BIGINT NOT NULL,
             max_workers_count INT NOT NULL, scheduler_count INT NOT NULL,
             sqlserver_start_time DATETIME NOT NULL,
             virtual_machine_type INT NOT NULL DEFAULT 1,
             virtual_machine_type_desc NVARCHAR(60) NOT NULL DEFAULT 'HYPERVISOR',
             sql_memory_model INT NOT NULL DEFAULT 1,
             sql_memory_model_desc NVARCHAR(120) NOT NULL DEFAULT 'CONVENTIONAL',
             ms_ticks BIGINT NOT NULL DEFAULT 864000000, cpu_ticks BIGINT NOT NULL DEFAULT 2246400000000000);",
    )?;
    // The memory columns were renamed in SQL Server 2012 (11): before, they were in bytes.
    let memory = if inst.version.0 >= 11 {
        "physical_memory_kb, virtual_memory_kb, committed_target_kb"
    } else {
        "physical_memory_kb * 1024 AS physical_memory_in_bytes, \
         virtual_memory_kb * 1024 AS virtual_memory_in_bytes, committed_target_kb / 8 AS bpool_commit_target"
    };
    // sql_memory_model came with SQL Server 2016 SP1 (13).
    let memory_model = if inst.version.0 >= 13 {
        ", sql_memory_model, sql_memory_model_desc"
    } else {
        ""
    };
    conn.execute_batch(&format!(
        "CREATE VIEW master.\"sys.dm_os_sys_info\" AS SELECT cpu_count, hyperthread_ratio, {memory}, \
         max_workers_count, scheduler_count, sqlserver_start_time, ms_ticks, cpu_ticks, virtual_machine_type, \
         virtual_machine_type_desc{memory_model} FROM master.__sqlsim_os_sys_info"
    ))?;
    for (id, name, min, max, default, advanced, since) in crate::instance::CONFIGURATION_DEFAULTS {
        if inst.version.0 < *since {
            continue;
        }
        let value = inst
            .configurations
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.value)
            .unwrap_or(*default);
        conn.execute(
            "INSERT INTO master.\"sys.configurations\" VALUES (?1, ?2, ?3, ?4, ?5, ?3, ?2, 1, ?6)",
            rusqlite::params![id, name, value, min, max, advanced],
        )?;
    }
    let roles = [("public", 2), ("sysadmin", 3)];
    for (name, id) in roles {
        conn.execute(
            "INSERT INTO master.\"sys.server_principals\" VALUES (?1, ?2, NULL, 'R', 'SERVER_ROLE', \
             0, '2024-01-01', '2024-01-01', NULL, NULL, ?3)",
            rusqlite::params![name, id, name != "public"],
        )?;
    }
    for (i, login) in inst.logins.iter().enumerate() {
        let id = 256 + i as i64;
        let windows = login.name.contains('\\');
        conn.execute(
            "INSERT INTO master.\"sys.server_principals\" VALUES (?1, ?2, ?6, ?3, ?4, ?5, \
             '2024-01-01', '2024-01-01', 'master', 'us_english', 0)",
            rusqlite::params![
                login.name,
                id,
                if windows { "U" } else { "S" },
                if windows {
                    "WINDOWS_LOGIN"
                } else {
                    "SQL_LOGIN"
                },
                login.disabled,
                principals::login_sid(&login.name)
            ],
        )?;
        if login.sysadmin {
            conn.execute(
                "INSERT INTO master.\"sys.server_role_members\" VALUES (3, ?1)",
                [id],
            )?;
        }
    }
    conn.execute(
        "INSERT INTO master.\"sys.servers\" VALUES (0, ?1, 'SQL Server', 'SQLNCLI', ?1, 0, 1, 0)",
        [&inst.server_name],
    )?;
    for (i, ls) in inst.linked_servers.iter().enumerate() {
        conn.execute(
            "INSERT INTO master.\"sys.servers\" VALUES (?1, ?2, ?3, ?4, ?5, 1, 1, 1)",
            rusqlite::params![
                i as i64 + 1,
                ls.name,
                ls.product,
                ls.provider,
                ls.data_source
            ],
        )?;
    }
    let mem_kb = inst.host.physical_memory_mb as i64 * 1024;
    conn.execute(
        "INSERT INTO master.__sqlsim_os_sys_info (cpu_count, hyperthread_ratio, physical_memory_kb, \
         virtual_memory_kb, committed_target_kb, max_workers_count, scheduler_count, \
         sqlserver_start_time) VALUES (?1, 1, ?2, 137438953344, ?3, 576, ?1, \
         '2024-01-01 00:00:00.000')",
        rusqlite::params![inst.host.cpu_count, mem_kb, mem_kb * 3 / 4],
    )?;
    install_schedulers_and_memory(conn, inst)?;
    health::install_server(conn, inst)?;
    activity::install(conn, &inst.services())?;
    activity::install_counters(conn, inst)?;
    server_objects::install(conn, inst)
}

/// sys.dm_os_schedulers (one visible online scheduler per CPU on NUMA node 0, as on a small
/// server) and sys.dm_os_sys_memory (the machine's memory, plenty available).
fn install_schedulers_and_memory(conn: &Connection, inst: &Instance) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE master.\"sys.dm_os_schedulers\" (
             scheduler_id INT NOT NULL, cpu_id INT NOT NULL, parent_node_id INT NOT NULL,
             status NVARCHAR(60) COLLATE NOCASE NOT NULL, is_online BIT NOT NULL, is_idle BIT NOT NULL,
             current_tasks_count INT NOT NULL, runnable_tasks_count INT NOT NULL,
             current_workers_count INT NOT NULL, active_workers_count INT NOT NULL,
             work_queue_count BIGINT NOT NULL, pending_disk_io_count INT NOT NULL, load_factor INT NOT NULL);
         CREATE TABLE master.\"sys.dm_os_sys_memory\" (
             total_physical_memory_kb BIGINT NOT NULL, available_physical_memory_kb BIGINT NOT NULL,
             total_page_file_kb BIGINT NOT NULL, available_page_file_kb BIGINT NOT NULL,
             system_cache_kb BIGINT NOT NULL, system_memory_state_desc NVARCHAR(256) COLLATE NOCASE NOT NULL);",
    )?;
    for cpu in 0..inst.host.cpu_count {
        conn.execute(
            "INSERT INTO master.\"sys.dm_os_schedulers\" VALUES (?1, ?1, 0, 'VISIBLE ONLINE', 1, 1, 1, 0, 2, 1, 0, 0, 1)",
            [cpu],
        )?;
    }
    let total_kb = inst.host.physical_memory_mb as i64 * 1024;
    conn.execute(
        "INSERT INTO master.\"sys.dm_os_sys_memory\" VALUES (?1, ?2, ?3, ?4, ?5, 'Available physical memory is high')",
        rusqlite::params![total_kb, total_kb / 4, total_kb * 2, total_kb, total_kb / 16],
    )?;
    Ok(())
}

/// A database as `sys.databases` records it.
pub struct DatabaseRecord<'a> {
    pub name: &'a str,
    pub compatibility_level: u32,
    pub created: &'a str,
    /// The owner's login (its SID is recorded).
    pub owner: &'a str,
    pub options: &'a crate::instance::DatabaseOptions,
}

/// Records a database in `sys.databases`.
pub fn add_database(conn: &Connection, db: &DatabaseRecord) -> rusqlite::Result<()> {
    let name = db.name;
    let o = db.options;
    let system = crate::instance::SYSTEM_DATABASES.contains(&name);
    let recovery = match &o.recovery_model {
        Some(r) => r.to_ascii_uppercase(),
        None if system && name != "model" => "SIMPLE".into(),
        None => "FULL".into(),
    };
    let recovery_code = match recovery.as_str() {
        "FULL" => 1,
        "BULK_LOGGED" => 2,
        _ => 3,
    };
    conn.execute(
        "INSERT INTO master.__sqlsim_databases (name, database_id, owner_sid, create_date,
             compatibility_level, collation_name, user_access, user_access_desc, is_read_only,
             state, state_desc, recovery_model, recovery_model_desc, is_trustworthy_on,
             is_published, is_subscribed, is_merge_published, is_distributor, is_broker_enabled,
             is_cdc_enabled, is_encrypted, is_ledger_on, change_tracking, is_db_chaining_on)
         VALUES (?1, (SELECT COALESCE(MAX(database_id), 0) + 1 FROM master.__sqlsim_databases),
             ?2, ?3, ?4, 'SQL_Latin1_General_CP1_CI_AS', 0, 'MULTI_USER', ?5, 0, 'ONLINE', ?6, ?7,
             ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        rusqlite::params![
            name,
            principals::login_sid(db.owner),
            db.created,
            db.compatibility_level,
            o.read_only,
            recovery_code,
            recovery,
            o.trustworthy || name == "msdb",
            o.published,
            o.subscribed,
            o.merge_published,
            o.distributor,
            o.broker || name == "msdb",
            o.cdc,
            o.encrypted,
            o.ledger,
            o.change_tracking,
            // master, tempdb and msdb have chaining on, as on every server.
            o.db_chaining || matches!(name, "master" | "tempdb" | "msdb")
        ],
    )?;
    Ok(())
}

/// Removes a database from `sys.databases`.
pub fn drop_database(conn: &Connection, name: &str) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM master.\"sys.master_files\" WHERE database_id = \
         (SELECT database_id FROM master.\"sys.databases\" WHERE name = ?1 COLLATE NOCASE)",
        [name],
    )?;
    conn.execute(
        "DELETE FROM master.__sqlsim_databases WHERE name = ?1 COLLATE NOCASE",
        [name],
    )?;
    Ok(())
}

/// `sys.types` numbers and sizes of a column type: (system_type_id, max_length, precision, scale).
pub fn type_numbers(ty: &ColumnType) -> (u8, i16, u8, u8) {
    let len = |n: Option<u16>, bytes_per_char: i16| match n {
        Some(n) => n as i16 * bytes_per_char,
        None => -1,
    };
    match ty {
        ColumnType::Bit => (104, 1, 1, 0),
        ColumnType::TinyInt => (48, 1, 3, 0),
        ColumnType::SmallInt => (52, 2, 5, 0),
        ColumnType::Int => (56, 4, 10, 0),
        ColumnType::BigInt => (127, 8, 19, 0),
        ColumnType::Real => (59, 4, 24, 0),
        ColumnType::Float => (62, 8, 53, 0),
        ColumnType::Decimal { precision, scale } => {
            (106, decimal_bytes(*precision), *precision, *scale)
        }
        ColumnType::Numeric { precision, scale } => {
            (108, decimal_bytes(*precision), *precision, *scale)
        }
        ColumnType::Money => (60, 8, 19, 4),
        ColumnType::SmallMoney => (122, 4, 10, 4),
        ColumnType::Date => (40, 3, 10, 0),
        ColumnType::Time { scale } => (41, 5, 16, *scale),
        ColumnType::DateTime => (61, 8, 23, 3),
        ColumnType::SmallDateTime => (58, 4, 16, 0),
        ColumnType::DateTime2 { scale } => (42, 8, 27, *scale),
        ColumnType::DateTimeOffset { scale } => (43, 10, 34, *scale),
        ColumnType::UniqueIdentifier => (36, 16, 0, 0),
        ColumnType::VarChar(n) => (167, len(*n, 1), 0, 0),
        ColumnType::Char(n) => (175, *n as i16, 0, 0),
        ColumnType::NVarChar(n) => (231, len(*n, 2), 0, 0),
        ColumnType::NChar(n) => (239, *n as i16 * 2, 0, 0),
        ColumnType::VarBinary(n) => (165, len(*n, 1), 0, 0),
        ColumnType::Binary(n) => (173, *n as i16, 0, 0),
    }
}

fn decimal_bytes(precision: u8) -> i16 {
    crate::tds::types::decimal_len(precision) as i16
}

/// A table's column as the catalog records it.
pub struct ColumnRecord {
    pub name: String,
    /// The alias type it was declared with (`sys.types.user_type_id`); its base type's otherwise.
    pub user_type_id: Option<i64>,
    pub ty: ColumnType,
    pub nullable: bool,
    pub identity: bool,
    /// The collation declared for a text column (the instance's default when absent).
    pub collation: Option<String>,
}

/// Records a new object (table, view, procedure) and returns its object_id.
pub fn add_object(
    conn: &Connection,
    db: &str,
    schema: &str,
    name: &str,
    (type_code, type_desc): (&str, &str),
    definition: Option<&str>,
) -> rusqlite::Result<i64> {
    let d = q(db);
    // object_ids are large, arbitrary-looking and stable within the database, as on a server.
    let id: i64 = conn.query_row(
        &format!("SELECT COALESCE(MAX(object_id), 245575913) + 16000057 FROM {d}.__sqlsim_objects"),
        [],
        |r| r.get(0),
    )?;
    let schema_id: i64 = conn
        .query_row(
            &format!("SELECT schema_id FROM {d}.\"sys.schemas\" WHERE name = ?1 COLLATE NOCASE"),
            [schema],
            |r| r.get(0),
        )
        .unwrap_or(1);
    conn.execute(
        &format!(
            "INSERT INTO {d}.__sqlsim_objects (object_id, name, schema_name, schema_id, type, \
             type_desc, create_date, modify_date, definition) VALUES (?1, ?2, ?3, ?4, ?5, ?6, \
             strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), ?7)"
        ),
        rusqlite::params![
            id, name, schema, schema_id, type_code, type_desc, definition
        ],
    )?;
    Ok(id)
}

/// Records a table's columns and its heap or clustered primary key.
pub fn add_table_details(
    conn: &Connection,
    db: &str,
    object_id: i64,
    columns: &[ColumnRecord],
    primary_key: Option<(&str, &[i64])>,
) -> rusqlite::Result<()> {
    let d = q(db);
    for (i, c) in columns.iter().enumerate() {
        let (type_id, max_len, precision, scale) = type_numbers(&c.ty);
        let collation = matches!(type_id, 35 | 99 | 167 | 175 | 231 | 239).then(|| {
            c.collation
                .clone()
                .unwrap_or_else(|| "SQL_Latin1_General_CP1_CI_AS".into())
        });
        conn.execute(
            &format!(
                "INSERT INTO {d}.__sqlsim_columns (object_id, column_id, name, system_type_id, \
                 user_type_id, max_length, precision, scale, collation_name, is_nullable, \
                 is_identity) VALUES (?1, ?2, ?3, ?4, COALESCE(?11, ?4), ?5, ?6, ?7, ?8, ?9, ?10)"
            ),
            rusqlite::params![
                object_id,
                i as i64 + 1,
                c.name,
                type_id,
                max_len,
                precision,
                scale,
                collation,
                c.nullable,
                c.identity,
                c.user_type_id
            ],
        )?;
    }
    let insert = format!(
        "INSERT INTO {d}.__sqlsim_indexes (object_id, index_id, name, type, type_desc, is_unique, \
         is_primary_key, partition_id) VALUES (?1, ?2, ?3, ?2, ?4, ?5, ?5, ?1 * 1000 + ?2)"
    );
    match primary_key {
        Some((pk, column_ids)) => {
            schema_extras::add_key_columns(conn, db, object_id, 1, column_ids)?;
            conn.execute(
                &insert,
                rusqlite::params![object_id, 1, pk, "CLUSTERED", true],
            )?
        }
        None => conn.execute(
            &insert,
            rusqlite::params![object_id, 0, None::<String>, "HEAP", false],
        )?,
    };
    Ok(())
}

/// Forgets an object and everything recorded about it.
pub fn drop_object(conn: &Connection, db: &str, schema: &str, name: &str) -> rusqlite::Result<()> {
    let d = q(db);
    let ids = format!(
        "(SELECT object_id FROM {d}.__sqlsim_objects WHERE schema_name = ?1 COLLATE NOCASE \
         AND name = ?2 COLLATE NOCASE)"
    );
    for t in [
        "__sqlsim_columns",
        "__sqlsim_index_columns",
        "__sqlsim_indexes",
        "__sqlsim_rowcounts",
        "__sqlsim_objects",
    ] {
        conn.execute(
            &format!("DELETE FROM {d}.{t} WHERE object_id IN {ids}"),
            [schema, name],
        )?;
    }
    Ok(())
}

/// The object_id of user table `schema.name` in `db`.
pub fn table_id(
    conn: &Connection,
    db: &str,
    schema: &str,
    name: &str,
) -> rusqlite::Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    conn.query_row(
        &format!(
            "SELECT object_id FROM {}.__sqlsim_objects WHERE schema_name = ?1 COLLATE NOCASE \
             AND name = ?2 COLLATE NOCASE AND type = 'U'",
            q(db)
        ),
        [schema, name],
        |r| r.get(0),
    )
    .optional()
}

/// (index_id, name) of a table's indexes, the heap (0) included.
pub fn indexes_of(
    conn: &Connection,
    db: &str,
    object_id: i64,
) -> rusqlite::Result<Vec<(i64, Option<String>)>> {
    conn.prepare(&format!(
        "SELECT index_id, name FROM {}.__sqlsim_indexes WHERE object_id = ?1 ORDER BY index_id",
        q(db)
    ))?
    .query_map([object_id], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// (column_id, name) of a table's columns.
pub fn columns_of(
    conn: &Connection,
    db: &str,
    object_id: i64,
) -> rusqlite::Result<Vec<(i64, String)>> {
    conn.prepare(&format!(
        "SELECT column_id, name FROM {}.__sqlsim_columns WHERE object_id = ?1 ORDER BY column_id",
        q(db)
    ))?
    .query_map([object_id], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// An index CREATE INDEX made.
pub struct IndexRecord<'a> {
    pub object_id: i64,
    pub index_id: i64,
    pub name: &'a str,
    pub clustered: bool,
    pub unique: bool,
    pub filter: Option<&'a str>,
    /// Key column ids in order, with whether each is descending.
    pub key: &'a [(i64, bool)],
    /// Included column ids.
    pub include: &'a [i64],
}

/// Records an index and its columns; a clustered index replaces the table's heap.
pub fn add_index(conn: &Connection, db: &str, ix: &IndexRecord) -> rusqlite::Result<()> {
    let d = q(db);
    if ix.clustered {
        conn.execute(
            &format!("DELETE FROM {d}.__sqlsim_indexes WHERE object_id = ?1 AND index_id = 0"),
            [ix.object_id],
        )?;
    }
    let (type_code, type_desc) = if ix.clustered {
        (1, "CLUSTERED")
    } else {
        (2, "NONCLUSTERED")
    };
    conn.execute(
        &format!(
            "INSERT INTO {d}.__sqlsim_indexes (object_id, index_id, name, type, type_desc, \
             is_unique, is_primary_key, partition_id, has_filter, filter_definition) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?1 * 1000 + ?2, ?7, ?8)"
        ),
        rusqlite::params![
            ix.object_id,
            ix.index_id,
            ix.name,
            type_code,
            type_desc,
            ix.unique,
            ix.filter.is_some(),
            ix.filter.map(|f| format!("({f})"))
        ],
    )?;
    let mut insert = conn.prepare(&format!(
        "INSERT INTO {d}.__sqlsim_index_columns (object_id, index_id, index_column_id, \
         column_id, key_ordinal, is_descending_key, is_included_column) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))?;
    let columns = ix
        .key
        .iter()
        .enumerate()
        .map(|(k, (c, desc))| (*c, k as i64 + 1, *desc, false))
        .chain(ix.include.iter().map(|c| (*c, 0, false, true)));
    for (n, (column_id, key_ordinal, desc, included)) in columns.enumerate() {
        insert.execute(rusqlite::params![
            ix.object_id,
            ix.index_id,
            n as i64 + 1,
            column_id,
            key_ordinal,
            desc,
            included
        ])?;
    }
    Ok(())
}

/// Forgets an index; a table whose clustered index goes is a heap again.
pub fn drop_index(
    conn: &Connection,
    db: &str,
    object_id: i64,
    index_id: i64,
) -> rusqlite::Result<()> {
    let d = q(db);
    for t in ["__sqlsim_index_columns", "__sqlsim_indexes"] {
        conn.execute(
            &format!("DELETE FROM {d}.{t} WHERE object_id = ?1 AND index_id = ?2"),
            [object_id, index_id],
        )?;
    }
    if index_id == 1 {
        conn.execute(
            &format!(
                "INSERT INTO {d}.__sqlsim_indexes (object_id, index_id, name, type, type_desc, \
                 is_unique, is_primary_key, partition_id) VALUES (?1, 0, NULL, 0, 'HEAP', 0, 0, ?1 * 1000)"
            ),
            [object_id],
        )?;
    }
    Ok(())
}

/// Counts every user table's rows into `__sqlsim_rowcounts` (what sys.partitions reports); a
/// table with a declared count reports that.
pub fn refresh_rowcounts(conn: &Connection, db: &str) -> rusqlite::Result<()> {
    let d = q(db);
    let tables: Vec<(i64, String)> = conn
        .prepare(&format!(
            "SELECT object_id, schema_name || '.' || name FROM {d}.__sqlsim_objects WHERE type = 'U'"
        ))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    conn.execute(&format!("DELETE FROM {d}.__sqlsim_rowcounts"), [])?;
    for (id, table) in tables {
        let n: i64 = match crate::engine::declared_rows::of(conn, &d, id)? {
            Some(declared) => declared,
            None => conn.query_row(
                &format!("SELECT COUNT(*) FROM {d}.{}", q(&table)),
                [],
                |r| r.get(0),
            )?,
        };
        conn.execute(
            &format!("INSERT INTO {d}.__sqlsim_rowcounts VALUES (?1, ?2)"),
            [id, n],
        )?;
    }
    Ok(())
}

/// Creates master's `sys.master_files` (all databases' files).
pub fn install_master_files(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE master.\"sys.master_files\" (
             database_id INT NOT NULL, file_id INT NOT NULL, type TINYINT NOT NULL,
             type_desc NVARCHAR(60) COLLATE NOCASE NOT NULL, data_space_id INT NOT NULL,
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, physical_name NVARCHAR(260) COLLATE NOCASE NOT NULL,
             state TINYINT NOT NULL, state_desc NVARCHAR(60) NOT NULL, size INT NOT NULL,
             max_size INT NOT NULL, growth INT NOT NULL, is_percent_growth BIT NOT NULL,
             is_sparse BIT NOT NULL DEFAULT 0, PRIMARY KEY (database_id, file_id));",
    )
}

/// Records a database's files in its own `sys.database_files` and in master's
/// `sys.master_files` (SQLite views cannot read across databases, so each keeps its rows).
pub fn add_files(
    conn: &Connection,
    db: &str,
    files: &[crate::instance::DatabaseFile],
) -> rusqlite::Result<()> {
    let d = q(db);
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {d}.\"sys.database_files\" (
             file_id INT NOT NULL, type TINYINT NOT NULL,
             type_desc NVARCHAR(60) COLLATE NOCASE NOT NULL, data_space_id INT NOT NULL,
             name NVARCHAR(128) COLLATE NOCASE NOT NULL,
             physical_name NVARCHAR(260) COLLATE NOCASE NOT NULL, state TINYINT NOT NULL,
             state_desc NVARCHAR(60) NOT NULL, size INT NOT NULL, max_size INT NOT NULL,
             growth INT NOT NULL, is_percent_growth BIT NOT NULL, is_sparse BIT NOT NULL)"
    ))?;
    let database_id = add_master_files(conn, db, files)?;
    // A database being restored brings its filegroups in its image; one created here gets the
    // group its FILESTREAM files need.
    if files
        .iter()
        .any(|f| f.type_desc.eq_ignore_ascii_case("FILESTREAM"))
    {
        storage::add_filestream_group(conn, db)?;
    }
    // The database's own view of its files is a copy of master's rows.
    conn.execute(
        &format!(
            "INSERT INTO {d}.\"sys.database_files\" SELECT file_id, type, type_desc, \
             data_space_id, name, physical_name, state, state_desc, size, max_size, growth, \
             is_percent_growth, is_sparse FROM master.\"sys.master_files\" WHERE database_id = ?1 \
             ORDER BY file_id"
        ),
        [database_id],
    )?;
    Ok(())
}

/// Lists a database's files in master's sys.master_files (a database being restored has only
/// these); returns its database_id.
pub fn add_master_files(
    conn: &Connection,
    db: &str,
    files: &[crate::instance::DatabaseFile],
) -> rusqlite::Result<i64> {
    let database_id: i64 = conn.query_row(
        "SELECT database_id FROM master.__sqlsim_databases WHERE name = ?1 COLLATE NOCASE",
        [db],
        |r| r.get(0),
    )?;
    for (i, f) in files.iter().enumerate() {
        let type_desc = f.type_desc.to_ascii_uppercase();
        let (type_code, data_space) = match type_desc.as_str() {
            "LOG" => (1, 0),
            "FILESTREAM" => (2, 2),
            "FULLTEXT" => (4, 0),
            _ => (0, 1),
        };
        // sizes and growth in 8 KB pages, growth in percent when so marked
        let pages = (f.size_mb * 128) as i64;
        let growth = if f.is_percent_growth {
            f.growth as i64
        } else {
            (f.growth * 128) as i64
        };
        let row = rusqlite::params![
            i as i64 + 1,
            type_code,
            type_desc,
            data_space,
            f.name,
            f.physical_name,
            pages,
            -1,
            growth,
            f.is_percent_growth,
            database_id
        ];
        conn.execute(
            "INSERT INTO master.\"sys.master_files\" VALUES \
             (?11, ?1, ?2, ?3, ?4, ?5, ?6, 0, 'ONLINE', ?7, ?8, ?9, ?10, 0)",
            row,
        )?;
    }
    Ok(database_id)
}

/// Creates msdb's Agent tables and fills them with the instance's jobs.
pub fn install_jobs(conn: &Connection, jobs: &[crate::instance::Job]) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE msdb.\"dbo.sysjobs\" (
             job_id UNIQUEIDENTIFIER PRIMARY KEY, name NVARCHAR(128) COLLATE NOCASE NOT NULL,
             enabled TINYINT NOT NULL, description NVARCHAR(512) COLLATE NOCASE,
             date_created DATETIME NOT NULL, date_modified DATETIME NOT NULL);
         CREATE TABLE msdb.\"dbo.sysjobsteps\" (
             job_id UNIQUEIDENTIFIER NOT NULL, step_id INT NOT NULL,
             step_name NVARCHAR(128) COLLATE NOCASE NOT NULL, subsystem NVARCHAR(40) COLLATE NOCASE NOT NULL,
             command NVARCHAR(-1), database_name NVARCHAR(128) COLLATE NOCASE,
             PRIMARY KEY (job_id, step_id));",
    )?;
    for (j, job) in jobs.iter().enumerate() {
        let id = format!("{:08X}-0000-4000-8000-{:012X}", j + 1, j + 1);
        conn.execute(
            "INSERT INTO msdb.\"dbo.sysjobs\" VALUES (?1, ?2, ?3, ?4, '2024-01-01', '2024-01-01')",
            rusqlite::params![id, job.name, job.enabled as i64, job.description],
        )?;
        for (s, step) in job.steps.iter().enumerate() {
            conn.execute(
                "INSERT INTO msdb.\"dbo.sysjobsteps\" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params![
                    id,
                    s as i64 + 1,
                    step.step_name,
                    step.subsystem,
                    step.command,
                    step.database_name
                ],
            )?;
        }
    }
    Ok(())
}

/// Creates msdb's backup history tables and fills them from the databases' descriptions.
pub fn install_backup_history(conn: &Connection, inst: &Instance) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE msdb.\"dbo.backupset\" (
             backup_set_id INT PRIMARY KEY, media_set_id INT NOT NULL,
             database_name NVARCHAR(128) COLLATE NOCASE, server_name NVARCHAR(128) COLLATE NOCASE,
             type CHAR(1), backup_start_date DATETIME, backup_finish_date DATETIME,
             backup_size NUMERIC(20,0), compressed_backup_size NUMERIC(20,0),
             first_lsn NUMERIC_TEXT(25,0), last_lsn NUMERIC_TEXT(25,0),
             checkpoint_lsn NUMERIC_TEXT(25,0), database_backup_lsn NUMERIC_TEXT(25,0), is_copy_only BIT NOT NULL,
             recovery_model NVARCHAR(60), has_backup_checksums BIT NOT NULL);
         CREATE TABLE msdb.\"dbo.backupmediafamily\" (
             media_set_id INT NOT NULL, family_sequence_number TINYINT NOT NULL,
             physical_device_name NVARCHAR(260) COLLATE NOCASE, device_type TINYINT,
             PRIMARY KEY (media_set_id, family_sequence_number));",
    )?;
    let mut id = 0i64;
    for db in &inst.databases {
        for b in &db.backups {
            id += 1;
            // device_type: 2 disk, 9 URL (Azure Blob), as msdb records them.
            let device_type = if b.device.starts_with("https://") {
                9
            } else {
                2
            };
            conn.execute(
                "INSERT INTO msdb.\"dbo.backupset\" VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \
                 ?9, ?10, ?11, ?12, ?13, 'FULL', ?14)",
                rusqlite::params![
                    id,
                    db.name,
                    inst.server_name,
                    b.backup_type,
                    b.start,
                    b.finish,
                    b.size_bytes.to_string(),
                    b.compressed_size_bytes.unwrap_or(b.size_bytes).to_string(),
                    b.first_lsn,
                    b.last_lsn,
                    b.checkpoint_lsn,
                    if b.database_backup_lsn.is_empty() {
                        "0"
                    } else {
                        &b.database_backup_lsn
                    },
                    b.is_copy_only,
                    b.has_checksum
                ],
            )?;
            conn.execute(
                "INSERT INTO msdb.\"dbo.backupmediafamily\" VALUES (?1, 1, ?2, ?3)",
                rusqlite::params![id, b.device, device_type],
            )?;
        }
    }
    Ok(())
}
