//! SQL Server Agent's objects besides jobs, in msdb: alerts (`dbo.sysalerts`), operators
//! (`dbo.sysoperators`), proxies (`dbo.sysproxies`) and Database Mail profiles
//! (`dbo.sysmail_profile`).

use rusqlite::{Connection, params};

use crate::instance::AgentSpec;

/// Creates and fills the msdb tables from the description.
pub fn install(conn: &Connection, agent: &AgentSpec) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE msdb.\"dbo.sysalerts\" (
             id INT PRIMARY KEY, name NVARCHAR(128) COLLATE NOCASE NOT NULL, enabled TINYINT NOT NULL,
             severity INT NOT NULL, message_id INT NOT NULL);
         CREATE TABLE msdb.\"dbo.sysoperators\" (
             id INT PRIMARY KEY, name NVARCHAR(128) COLLATE NOCASE NOT NULL, enabled TINYINT NOT NULL,
             email_address NVARCHAR(100), pager_address NVARCHAR(100), netsend_address NVARCHAR(100));
         CREATE TABLE msdb.\"dbo.sysproxies\" (
             proxy_id INT PRIMARY KEY, name NVARCHAR(128) COLLATE NOCASE NOT NULL, credential_id INT NOT NULL,
             enabled TINYINT NOT NULL, description NVARCHAR(512));
         CREATE TABLE msdb.\"dbo.sysmail_profile\" (
             profile_id INT PRIMARY KEY, name NVARCHAR(128) COLLATE NOCASE NOT NULL, description NVARCHAR(256));",
    )?;
    for (i, a) in agent.alerts.iter().enumerate() {
        conn.execute(
            "INSERT INTO msdb.\"dbo.sysalerts\" VALUES (?1, ?2, 1, 17, 0)",
            params![i as i64 + 1, a],
        )?;
    }
    let blank = |s: &str| (!s.is_empty()).then(|| s.to_string());
    for (i, o) in agent.operators.iter().enumerate() {
        conn.execute(
            "INSERT INTO msdb.\"dbo.sysoperators\" VALUES (?1, ?2, 1, ?3, ?4, ?5)",
            params![
                i as i64 + 1,
                o.name,
                blank(&o.email_address),
                blank(&o.pager_address),
                blank(&o.netsend_address)
            ],
        )?;
    }
    for (i, p) in agent.proxies.iter().enumerate() {
        conn.execute(
            "INSERT INTO msdb.\"dbo.sysproxies\" VALUES (?1, ?2, 65536, 1, NULL)",
            params![i as i64 + 1, p],
        )?;
    }
    for (i, p) in agent.mail_profiles.iter().enumerate() {
        conn.execute(
            "INSERT INTO msdb.\"dbo.sysmail_profile\" VALUES (?1, ?2, NULL)",
            params![i as i64 + 1, p],
        )?;
    }
    Ok(())
}
