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

/// `sys.database_principals` with the columns `major`'s version has: authentication_type came
/// with contained databases in SQL Server 2012 (11).
pub fn principals_view(conn: &Connection, db: &str, major: u8) -> rusqlite::Result<()> {
    let d = q(db);
    let authentication = if major >= 11 {
        ", authentication_type, authentication_type_desc"
    } else {
        ""
    };
    conn.execute_batch(&format!(
        "DROP VIEW IF EXISTS {d}.\"sys.database_principals\";
         CREATE VIEW {d}.\"sys.database_principals\" AS
             SELECT name, principal_id, type, type_desc, default_schema_name, create_date,
                    modify_date, owning_principal_id, sid, is_fixed_role{authentication}
             FROM {d}.__sqlsim_database_principals;"
    ))
}

/// Creates `sys.database_principals` in `db` with the principals every database has.
pub fn install(conn: &Connection, db: &str, major: u8) -> rusqlite::Result<()> {
    let d = q(db);
    conn.execute_batch(&format!(
        "CREATE TABLE {d}.__sqlsim_database_principals (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, principal_id INT PRIMARY KEY,
             type CHAR(1) COLLATE NOCASE NOT NULL, type_desc NVARCHAR(60) COLLATE NOCASE NOT NULL,
             default_schema_name NVARCHAR(128) COLLATE NOCASE, create_date DATETIME NOT NULL,
             modify_date DATETIME NOT NULL, owning_principal_id INT, sid VARBINARY(85),
             is_fixed_role BIT NOT NULL, authentication_type INT NOT NULL,
             authentication_type_desc NVARCHAR(60) COLLATE NOCASE NOT NULL);
         CREATE TABLE {d}.\"sys.database_role_members\" (
             role_principal_id INT NOT NULL, member_principal_id INT NOT NULL);
         -- Permissions name their object; its id is looked up when read, so a grant on a table
         -- the database's setup creates later resolves.
         CREATE TABLE {d}.__sqlsim_permissions (
             class TINYINT NOT NULL, class_desc NVARCHAR(60) COLLATE NOCASE NOT NULL,
             schema_name NVARCHAR(128) COLLATE NOCASE, object_name NVARCHAR(128) COLLATE NOCASE,
             grantee_principal_id INT NOT NULL, type CHAR(4) COLLATE NOCASE NOT NULL,
             permission_name NVARCHAR(128) COLLATE NOCASE NOT NULL, state CHAR(1) NOT NULL,
             state_desc NVARCHAR(60) COLLATE NOCASE NOT NULL);
         CREATE VIEW {d}.\"sys.database_permissions\" AS
             SELECT p.class, p.class_desc,
                    CASE p.class WHEN 1 THEN o.object_id WHEN 3 THEN s.schema_id ELSE 0 END AS major_id,
                    p.class * 0 AS minor_id, p.grantee_principal_id,
                    p.grantee_principal_id * 0 + 1 AS grantor_principal_id, p.type,
                    p.permission_name, p.state, p.state_desc
             FROM {d}.__sqlsim_permissions p
                  LEFT JOIN {d}.__sqlsim_objects o ON p.class = 1
                       AND o.schema_name = p.schema_name AND o.name = p.object_name
                  LEFT JOIN {d}.\"sys.schemas\" s ON p.class = 3 AND s.name = p.schema_name;"
    ))?;
    principals_view(conn, db, major)?;
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

/// The permission codes sys.database_permissions shows in `type`.
const PERMISSION_TYPES: &[(&str, &str)] = &[
    ("SELECT", "SL"),
    ("INSERT", "IN"),
    ("UPDATE", "UP"),
    ("DELETE", "DL"),
    ("EXECUTE", "EX"),
    ("REFERENCES", "RF"),
    ("CONNECT", "CO"),
    ("VIEW DEFINITION", "VW"),
    ("ALTER", "AL"),
    ("CONTROL", "CL"),
    ("SHOWPLAN", "SPLN"),
];

/// A permission granted, as sys.database_permissions lists it.
struct Grant {
    class: i64,
    class_desc: &'static str,
    schema: Option<String>,
    object: Option<String>,
    type_code: String,
    permission: String,
}

/// A grant as written: `SELECT ON dbo.Orders`, `EXECUTE ON SCHEMA::dbo`, `CONNECT`.
fn parse_grant(text: &str) -> Option<Grant> {
    let (permission, on) = match text.to_ascii_uppercase().find(" ON ") {
        Some(at) => (text[..at].trim(), Some(text[at + 4..].trim())),
        None => (text.trim(), None),
    };
    let permission = permission.to_ascii_uppercase();
    let type_code = PERMISSION_TYPES
        .iter()
        .find(|(p, _)| *p == permission)
        .map(|(_, c)| c.to_string())?;
    let unquote = |s: &str| s.trim().trim_matches(['[', ']']).to_string();
    let grant = |class, class_desc, schema, object| Grant {
        class,
        class_desc,
        schema,
        object,
        type_code: type_code.clone(),
        permission: permission.clone(),
    };
    Some(match on {
        None => grant(0, "DATABASE", None, None),
        Some(target) => match target.split_once("::") {
            Some((kind, schema)) if kind.trim().eq_ignore_ascii_case("SCHEMA") => {
                grant(3, "SCHEMA", Some(unquote(schema)), None)
            }
            Some(_) => return None,
            None => {
                let (schema, object) = target.split_once('.').unwrap_or(("dbo", target));
                grant(
                    1,
                    "OBJECT_OR_COLUMN",
                    Some(unquote(schema)),
                    Some(unquote(object)),
                )
            }
        },
    })
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
        let principal_id = 5 + i as i64;
        for role in &user.roles {
            conn.execute(
                &format!(
                    "INSERT INTO {d}.\"sys.database_role_members\" SELECT principal_id, ?2 \
                     FROM {d}.__sqlsim_database_principals WHERE name = ?1 AND type = 'R'"
                ),
                rusqlite::params![role, principal_id],
            )?;
        }
        // CREATE USER grants CONNECT; then what the description grants.
        let grants = std::iter::once("CONNECT").chain(user.grants.iter().map(String::as_str));
        for grant in grants {
            let Some(g) = parse_grant(grant) else {
                return Err(rusqlite::Error::InvalidParameterName(format!(
                    "user {}: cannot read the grant {grant:?} (write `SELECT ON dbo.Orders`, `EXECUTE ON SCHEMA::dbo` or `VIEW DEFINITION`)",
                    user.name
                )));
            };
            conn.execute(
                &format!(
                    "INSERT INTO {d}.__sqlsim_permissions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'G', 'GRANT')"
                ),
                rusqlite::params![
                    g.class,
                    g.class_desc,
                    g.schema,
                    g.object,
                    principal_id,
                    g.type_code,
                    g.permission
                ],
            )?;
        }
    }
    Ok(())
}
