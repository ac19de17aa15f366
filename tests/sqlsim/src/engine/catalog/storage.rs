//! A database's storage catalog besides its files: `sys.filegroups` (PRIMARY, and the FILESTREAM
//! or memory-optimized groups its files need) and `sys.fulltext_catalogs`.

use rusqlite::{Connection, params};

use super::q;

/// Creates `sys.filegroups` (with PRIMARY) and an empty `sys.fulltext_catalogs` in `db`.
pub fn install(conn: &Connection, db: &str) -> rusqlite::Result<()> {
    let d = q(db);
    conn.execute_batch(&format!(
        "CREATE TABLE {d}.\"sys.filegroups\" (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, data_space_id INT PRIMARY KEY, type CHAR(2) NOT NULL,
             type_desc NVARCHAR(60) NOT NULL, is_default BIT NOT NULL, is_system BIT NOT NULL,
             filegroup_guid UNIQUEIDENTIFIER, log_filegroup_id INT, is_read_only BIT NOT NULL);
         INSERT INTO {d}.\"sys.filegroups\" VALUES ('PRIMARY', 1, 'FG', 'ROWS_FILEGROUP', 1, 0, NULL, NULL, 0);
         CREATE TABLE {d}.\"sys.fulltext_catalogs\" (
             fulltext_catalog_id INT PRIMARY KEY, name NVARCHAR(128) COLLATE NOCASE NOT NULL,
             path NVARCHAR(260), is_default BIT NOT NULL, is_accent_sensitivity_on BIT NOT NULL,
             data_space_id INT, file_id INT, principal_id INT, is_importing BIT NOT NULL);"
    ))
}

/// The filegroup FILESTREAM files live in (data_space_id 2), once a database has such a file.
pub fn add_filestream_group(conn: &Connection, db: &str) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT OR IGNORE INTO {}.\"sys.filegroups\" VALUES ('FILESTREAM', 2, 'FD', \
             'FILESTREAM_DATA_FILEGROUP', 0, 0, NULL, NULL, 0)",
            q(db)
        ),
        [],
    )?;
    Ok(())
}

/// The description's full-text catalogs.
pub fn add_fulltext_catalogs(
    conn: &Connection,
    db: &str,
    names: &[String],
) -> rusqlite::Result<()> {
    for (i, n) in names.iter().enumerate() {
        conn.execute(
            &format!(
                "INSERT INTO {}.\"sys.fulltext_catalogs\" VALUES (?1, ?2, NULL, ?3, 0, 1, NULL, 1, 0)",
                q(db)
            ),
            params![5 + i as i64, n, i == 0],
        )?;
    }
    Ok(())
}
