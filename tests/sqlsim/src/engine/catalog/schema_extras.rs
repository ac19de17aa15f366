//! A database's catalog beyond tables and columns, as index and statistics checks read it:
//! `sys.types` (the system types), `sys.index_columns` (primary keys' columns, recorded by
//! CREATE TABLE), `sys.stats` and `sys.dm_db_stats_properties` (one statistic per index, fully
//! sampled), `sys.key_constraints`, `sys.data_spaces`, `sys.allocation_units`, and the views of
//! what sqlsim does not record, empty: foreign keys, check constraints, extended properties,
//! memory-optimized index statistics.

use rusqlite::{Connection, params};

use super::q;

/// The system types: name, system_type_id, max_length, precision, scale, collatable.
const SYSTEM_TYPES: &[(&str, i64, i64, i64, i64, bool)] = &[
    ("image", 34, 16, 0, 0, false),
    ("text", 35, 16, 0, 0, true),
    ("uniqueidentifier", 36, 16, 0, 0, false),
    ("date", 40, 3, 10, 0, false),
    ("time", 41, 5, 16, 7, false),
    ("datetime2", 42, 8, 27, 7, false),
    ("datetimeoffset", 43, 10, 34, 7, false),
    ("tinyint", 48, 1, 3, 0, false),
    ("smallint", 52, 2, 5, 0, false),
    ("int", 56, 4, 10, 0, false),
    ("smalldatetime", 58, 4, 16, 0, false),
    ("real", 59, 4, 24, 0, false),
    ("money", 60, 8, 19, 4, false),
    ("datetime", 61, 8, 23, 3, false),
    ("float", 62, 8, 53, 0, false),
    ("sql_variant", 98, 8016, 0, 0, false),
    ("ntext", 99, 16, 0, 0, true),
    ("bit", 104, 1, 1, 0, false),
    ("decimal", 106, 17, 38, 38, false),
    ("numeric", 108, 17, 38, 38, false),
    ("smallmoney", 122, 4, 10, 4, false),
    ("bigint", 127, 8, 19, 0, false),
    ("varbinary", 165, 8000, 0, 0, false),
    ("varchar", 167, 8000, 0, 0, true),
    ("binary", 173, 8000, 0, 0, false),
    ("char", 175, 8000, 0, 0, true),
    ("timestamp", 189, 8, 0, 0, false),
    ("nvarchar", 231, 8000, 0, 0, true),
    ("nchar", 239, 8000, 0, 0, true),
    ("xml", 241, -1, 0, 0, false),
];

/// Creates the views in `db`.
pub fn install(conn: &Connection, db: &str) -> rusqlite::Result<()> {
    let d = q(db);
    conn.execute_batch(&format!(
        "CREATE TABLE {d}.\"sys.types\" (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, system_type_id TINYINT NOT NULL,
             user_type_id INT NOT NULL, schema_id INT NOT NULL, principal_id INT,
             max_length SMALLINT NOT NULL, precision TINYINT NOT NULL, scale TINYINT NOT NULL,
             collation_name NVARCHAR(128), is_nullable BIT NOT NULL, is_user_defined BIT NOT NULL,
             is_assembly_type BIT NOT NULL, default_object_id INT NOT NULL,
             rule_object_id INT NOT NULL, is_table_type BIT NOT NULL);
         CREATE TABLE {d}.__sqlsim_index_columns (
             object_id INT NOT NULL, index_id INT NOT NULL, index_column_id INT NOT NULL,
             column_id INT NOT NULL, key_ordinal TINYINT NOT NULL,
             partition_ordinal TINYINT NOT NULL DEFAULT 0,
             is_descending_key BIT NOT NULL DEFAULT 0, is_included_column BIT NOT NULL DEFAULT 0,
             PRIMARY KEY (object_id, index_id, index_column_id));
         CREATE VIEW {d}.\"sys.index_columns\" AS
             SELECT object_id, index_id, index_column_id, column_id, key_ordinal, partition_ordinal,
                    is_descending_key, is_included_column
             FROM {d}.__sqlsim_index_columns;
         -- Zeros borrowed from is_hypothetical keep BIT's type: SQLite reports a declared type
         -- only for a plain column reference.
         CREATE VIEW {d}.\"sys.stats\" AS
             SELECT object_id, name, index_id AS stats_id, is_hypothetical AS auto_created,
                    is_hypothetical AS user_created, is_hypothetical AS no_recompute,
                    has_filter, filter_definition, is_hypothetical AS is_temporary,
                    is_hypothetical AS is_incremental
             FROM {d}.__sqlsim_indexes WHERE index_id > 0;
         CREATE VIEW {d}.\"sys.dm_db_stats_properties\" AS
             SELECT i.object_id, i.index_id AS stats_id, o.modify_date AS last_updated, r.rows,
                    r.rows AS rows_sampled, r.rows AS unfiltered_rows,
                    r.rows * 0 AS modification_counter
             FROM {d}.__sqlsim_indexes i JOIN {d}.__sqlsim_rowcounts r ON r.object_id = i.object_id
                  JOIN {d}.__sqlsim_objects o ON o.object_id = i.object_id
             WHERE i.index_id > 0;
         CREATE VIEW {d}.\"sys.key_constraints\" AS
             SELECT i.name, o.object_id * 10 + i.index_id AS object_id, o.principal_id, o.schema_id,
                    i.object_id AS parent_object_id, o.type, o.type_desc, o.create_date,
                    o.modify_date, i.index_id AS unique_index_id, o.is_ms_shipped
             FROM {d}.__sqlsim_indexes i JOIN {d}.__sqlsim_objects o ON o.object_id = i.object_id
             WHERE i.is_primary_key = 1;
         CREATE VIEW {d}.\"sys.data_spaces\" AS
             SELECT name, data_space_id, type, type_desc, is_default, is_system
             FROM {d}.\"sys.filegroups\";
         CREATE VIEW {d}.\"sys.allocation_units\" AS
             SELECT i.partition_id * 10 + 1 AS allocation_unit_id, i.partition_number AS type,
                    i.data_compression_desc AS type_desc, i.partition_id AS container_id,
                    i.index_id AS data_space_id,
                    r.rows / 100 + 1 AS total_pages, r.rows / 100 + 1 AS used_pages,
                    r.rows / 100 + 1 AS data_pages
             FROM {d}.__sqlsim_indexes i JOIN {d}.__sqlsim_rowcounts r ON r.object_id = i.object_id;
         CREATE TABLE {d}.\"sys.foreign_keys\" (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, object_id INT NOT NULL, principal_id INT,
             schema_id INT NOT NULL, parent_object_id INT NOT NULL, type CHAR(2) NOT NULL,
             type_desc NVARCHAR(60) NOT NULL, create_date DATETIME NOT NULL,
             modify_date DATETIME NOT NULL, is_ms_shipped BIT NOT NULL,
             referenced_object_id INT, key_index_id INT, is_disabled BIT NOT NULL,
             is_not_for_replication BIT NOT NULL, is_not_trusted BIT NOT NULL,
             delete_referential_action TINYINT, update_referential_action TINYINT);
         CREATE TABLE {d}.\"sys.foreign_key_columns\" (
             constraint_object_id INT NOT NULL, constraint_column_id INT NOT NULL,
             parent_object_id INT NOT NULL, parent_column_id INT NOT NULL,
             referenced_object_id INT NOT NULL, referenced_column_id INT NOT NULL);
         CREATE TABLE {d}.\"sys.check_constraints\" (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, object_id INT NOT NULL, principal_id INT,
             schema_id INT NOT NULL, parent_object_id INT NOT NULL, type CHAR(2) NOT NULL,
             type_desc NVARCHAR(60) NOT NULL, create_date DATETIME NOT NULL,
             modify_date DATETIME NOT NULL, is_ms_shipped BIT NOT NULL, is_disabled BIT NOT NULL,
             is_not_for_replication BIT NOT NULL, is_not_trusted BIT NOT NULL,
             parent_column_id INT NOT NULL, definition NVARCHAR(-1), is_system_named BIT NOT NULL);
         CREATE TABLE {d}.\"sys.default_constraints\" (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, object_id INT NOT NULL, principal_id INT,
             schema_id INT NOT NULL, parent_object_id INT NOT NULL, type CHAR(2) NOT NULL,
             type_desc NVARCHAR(60) NOT NULL, create_date DATETIME NOT NULL,
             modify_date DATETIME NOT NULL, is_ms_shipped BIT NOT NULL,
             is_published BIT NOT NULL, is_schema_published BIT NOT NULL,
             parent_column_id INT NOT NULL, definition NVARCHAR(-1), is_system_named BIT NOT NULL);
         CREATE TABLE {d}.\"sys.computed_columns\" (
             object_id INT NOT NULL, name NVARCHAR(128) COLLATE NOCASE NOT NULL,
             column_id INT NOT NULL, definition NVARCHAR(-1), is_persisted BIT NOT NULL);
         CREATE TABLE {d}.\"sys.extended_properties\" (
             class TINYINT NOT NULL, class_desc NVARCHAR(60), major_id INT NOT NULL,
             minor_id INT NOT NULL, name NVARCHAR(128) COLLATE NOCASE NOT NULL, value SQL_VARIANT);
         CREATE TABLE {d}.\"sys.dm_db_xtp_hash_index_stats\" (
             object_id INT NOT NULL, xtp_object_id INT NOT NULL, index_id INT NOT NULL,
             total_bucket_count BIGINT NOT NULL, empty_bucket_count BIGINT NOT NULL,
             avg_chain_length BIGINT NOT NULL, max_chain_length BIGINT NOT NULL);
         CREATE TABLE {d}.\"sys.dm_db_xtp_nonclustered_index_stats\" (
             object_id INT NOT NULL, xtp_object_id INT NOT NULL, index_id INT NOT NULL,
             delta_pages BIGINT NOT NULL, internal_pages BIGINT NOT NULL, leaf_pages BIGINT NOT NULL,
             page_update_count BIGINT NOT NULL);"
    ))?;
    let mut insert = conn.prepare(&format!(
        "INSERT INTO {d}.\"sys.types\" VALUES (?1, ?2, ?2, 4, NULL, ?3, ?4, ?5, ?6, 1, 0, 0, 0, 0, 0)"
    ))?;
    for (name, id, len, precision, scale, collatable) in SYSTEM_TYPES {
        let collation = collatable.then_some("SQL_Latin1_General_CP1_CI_AS");
        insert.execute(params![name, id, len, precision, scale, collation])?;
    }
    // sysname: nvarchar(128) with a user type id of its own.
    conn.execute(
        &format!(
            "INSERT INTO {d}.\"sys.types\" VALUES ('sysname', 231, 256, 4, NULL, 256, 0, 0, \
             'SQL_Latin1_General_CP1_CI_AS', 0, 0, 0, 0, 0, 0)"
        ),
        [],
    )?;
    Ok(())
}

/// Records the columns of primary key `index_id` of `object_id` (column ids, in key order).
pub fn add_key_columns(
    conn: &Connection,
    db: &str,
    object_id: i64,
    index_id: i64,
    column_ids: &[i64],
) -> rusqlite::Result<()> {
    for (k, column_id) in column_ids.iter().enumerate() {
        conn.execute(
            &format!(
                "INSERT INTO {}.__sqlsim_index_columns (object_id, index_id, index_column_id, \
                 column_id, key_ordinal) VALUES (?1, ?2, ?3, ?4, ?3)",
                q(db)
            ),
            params![object_id, index_id, k as i64 + 1, column_id],
        )?;
    }
    Ok(())
}
