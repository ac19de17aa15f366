//! Security principals: login SIDs and each database's `sys.database_principals` (the built-in
//! users and fixed roles every database has, and the description's users).

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::q;
use crate::instance::DatabaseUser;

/// The SID of login `name`: 0x01 for `sa`, as on every server; otherwise 16 bytes derived from
/// the name, so a user created for the login carries the same SID.
pub fn login_sid(name: &str) -> Vec<u8> {
    if name.eq_ignore_ascii_case("sa") {
        return vec![0x01];
    }
    Sha256::digest(name.to_ascii_lowercase().as_bytes())[..16].to_vec()
}

/// The fixed database roles, with their principal ids.
const FIXED_ROLES: &[(&str, i64)] = &[
    ("db_owner", 16384),
    ("db_accessadmin", 16385),
    ("db_securityadmin", 16386),
    ("db_ddladmin", 16387),
    ("db_backupoperator", 16389),
    ("db_datareader", 16390),
    ("db_datawriter", 16391),
    ("db_denydatareader", 16392),
    ("db_denydatawriter", 16393),
];

/// (name, principal_id, default schema, sid, authentication type) of a built-in user.
type BuiltInUser = (
    &'static str,
    i64,
    Option<&'static str>,
    Option<&'static [u8]>,
    i64,
);

/// Creates `sys.database_principals` in `db` with the principals every database has.
pub fn install(conn: &Connection, db: &str, major: u8) -> rusqlite::Result<()> {
    let d = q(db);
    // authentication_type came with contained databases in SQL Server 2012 (11).
    let authentication = if major >= 11 {
        ", authentication_type, authentication_type_desc"
    } else {
        ""
    };
    conn.execute_batch(&format!(
        "CREATE TABLE {d}.__sqlsim_database_principals (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, principal_id INT PRIMARY KEY,
             type CHAR(1) COLLATE NOCASE NOT NULL, type_desc NVARCHAR(60) COLLATE NOCASE NOT NULL,
             default_schema_name NVARCHAR(128) COLLATE NOCASE, create_date DATETIME NOT NULL,
             modify_date DATETIME NOT NULL, owning_principal_id INT, sid VARBINARY(85),
             is_fixed_role BIT NOT NULL, authentication_type INT NOT NULL,
             authentication_type_desc NVARCHAR(60) COLLATE NOCASE NOT NULL);
         CREATE VIEW {d}.\"sys.database_principals\" AS
             SELECT name, principal_id, type, type_desc, default_schema_name, create_date,
                    modify_date, owning_principal_id, sid, is_fixed_role{authentication}
             FROM {d}.__sqlsim_database_principals;"
    ))?;
    let insert = format!(
        "INSERT INTO {d}.__sqlsim_database_principals VALUES (?1, ?2, ?3, ?4, ?5, \
         '2024-01-01 00:00:00.000', '2024-01-01 00:00:00.000', ?6, ?7, ?8, ?9, ?10)"
    );
    let mut stmt = conn.prepare(&insert)?;
    let users: [BuiltInUser; 4] = [
        ("dbo", 1, Some("dbo"), Some(&[0x01]), 1),
        ("guest", 2, Some("guest"), Some(&[0x00]), 0),
        ("INFORMATION_SCHEMA", 3, None, None, 0),
        ("sys", 4, None, None, 0),
    ];
    for (name, id, schema, sid, auth) in users {
        stmt.execute(rusqlite::params![
            name,
            id,
            "S",
            "SQL_USER",
            schema,
            None::<i64>,
            sid,
            false,
            auth,
            authentication_desc(auth)
        ])?;
    }
    let roles = std::iter::once(&("public", 0)).chain(FIXED_ROLES);
    for (name, id) in roles {
        stmt.execute(rusqlite::params![
            name,
            id,
            "R",
            "DATABASE_ROLE",
            None::<&str>,
            1,
            None::<Vec<u8>>,
            *id != 0,
            0,
            "NONE"
        ])?;
    }
    Ok(())
}

fn authentication_desc(code: i64) -> &'static str {
    match code {
        1 => "INSTANCE",
        2 => "DATABASE",
        3 => "WINDOWS",
        _ => "NONE",
    }
}

/// Adds the description's users to `db`. A user's SID is its login's, so a user whose login the
/// instance lacks has a SID no login has: an orphaned user, found as on a server by joining
/// `sys.database_principals.sid` to `sys.server_principals.sid`.
pub fn add_users(conn: &Connection, db: &str, users: &[DatabaseUser]) -> rusqlite::Result<()> {
    let d = q(db);
    for (i, user) in users.iter().enumerate() {
        let windows = user.name.contains('\\');
        let authentication = match user.authentication.as_deref() {
            Some(a) => a.to_ascii_uppercase(),
            None if windows => "WINDOWS".into(),
            None if user.login.is_some() => "INSTANCE".into(),
            None => "NONE".into(),
        };
        let code = match authentication.as_str() {
            "INSTANCE" => 1,
            "DATABASE" => 2,
            "WINDOWS" => 3,
            _ => 0,
        };
        let sid = match &user.login {
            Some(login) => login_sid(login),
            None => login_sid(&format!("{db}\\{}", user.name)),
        };
        conn.execute(
            &format!(
                "INSERT INTO {d}.__sqlsim_database_principals VALUES (?1, ?2, ?3, ?4, 'dbo', \
                 '2024-01-01 00:00:00.000', '2024-01-01 00:00:00.000', NULL, ?5, 0, ?6, ?7)"
            ),
            rusqlite::params![
                user.name,
                5 + i as i64,
                if windows { "U" } else { "S" },
                if windows { "WINDOWS_USER" } else { "SQL_USER" },
                sid,
                code,
                authentication_desc(code)
            ],
        )?;
    }
    Ok(())
}
