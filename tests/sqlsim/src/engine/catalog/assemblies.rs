//! `sys.assemblies`: the system CLR assembly every database has, and the description's.

use rusqlite::Connection;

use super::q;
use crate::instance::Assembly;

/// Creates `sys.assemblies` in `db` with Microsoft.SqlServer.Types.
pub fn install(conn: &Connection, db: &str) -> rusqlite::Result<()> {
    let d = q(db);
    conn.execute_batch(&format!(
        "CREATE TABLE {d}.\"sys.assemblies\" (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, principal_id INT, assembly_id INT PRIMARY KEY,
             clr_name NVARCHAR(4000) COLLATE NOCASE, permission_set TINYINT,
             permission_set_desc NVARCHAR(60) COLLATE NOCASE, is_visible BIT NOT NULL,
             create_date DATETIME NOT NULL, modify_date DATETIME, is_user_defined BIT);
         INSERT INTO {d}.\"sys.assemblies\" VALUES ('Microsoft.SqlServer.Types', 4, 1,
             'microsoft.sqlserver.types, version=16.0.0.0, culture=neutral, publickeytoken=89845dcd8080cc91, processorarchitecture=msil',
             3, 'UNSAFE_ACCESS', 1, '2024-01-01 00:00:00.000', '2024-01-01 00:00:00.000', 0);"
    ))
}

/// Adds the description's (user-defined) assemblies to `db`, owned by dbo.
pub fn add(conn: &Connection, db: &str, assemblies: &[Assembly]) -> rusqlite::Result<()> {
    let d = q(db);
    for (i, a) in assemblies.iter().enumerate() {
        let (code, desc) = match a.permission_set.to_ascii_uppercase().as_str() {
            "EXTERNAL_ACCESS" => (2, "EXTERNAL_ACCESS"),
            "UNSAFE" => (3, "UNSAFE_ACCESS"),
            _ => (1, "SAFE_ACCESS"),
        };
        conn.execute(
            &format!(
                "INSERT INTO {d}.\"sys.assemblies\" VALUES (?1, 1, ?2, ?3, ?4, ?5, 1, \
                 '2024-01-01 00:00:00.000', '2024-01-01 00:00:00.000', 1)"
            ),
            rusqlite::params![
                a.name,
                65536 + i as i64,
                format!(
                    "{}, version=1.0.0.0, culture=neutral, publickeytoken=null, processorarchitecture=msil",
                    a.name.to_ascii_lowercase()
                ),
                code,
                desc
            ],
        )?;
    }
    Ok(())
}
