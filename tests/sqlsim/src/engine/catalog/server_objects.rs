//! Server-level objects from the description: triggers (`sys.server_triggers`,
//! `sys.server_sql_modules`), audits (`sys.server_audits`), endpoints (`sys.endpoints`, with the
//! TSQL endpoints every instance has) and credentials (`sys.credentials`, names and identities
//! only).

use rusqlite::{Connection, params};

use crate::instance::Instance;

/// Creates and fills the server-object views in master.
pub fn install(conn: &Connection, inst: &Instance) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE master.\"sys.server_triggers\" (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, object_id INT PRIMARY KEY, parent_class TINYINT NOT NULL,
             parent_class_desc NVARCHAR(60) NOT NULL, parent_id INT NOT NULL, type CHAR(2) NOT NULL,
             type_desc NVARCHAR(60) NOT NULL, create_date DATETIME NOT NULL, modify_date DATETIME NOT NULL,
             is_ms_shipped BIT NOT NULL, is_disabled BIT NOT NULL);
         CREATE TABLE master.\"sys.server_sql_modules\" (
             object_id INT PRIMARY KEY, definition NVARCHAR(-1), uses_ansi_nulls BIT NOT NULL,
             uses_quoted_identifier BIT NOT NULL, execute_as_principal_id INT);
         CREATE TABLE master.\"sys.server_audits\" (
             audit_id INT PRIMARY KEY, name NVARCHAR(128) COLLATE NOCASE NOT NULL, audit_guid UNIQUEIDENTIFIER,
             create_date DATETIME NOT NULL, modify_date DATETIME NOT NULL, principal_id INT,
             type CHAR(2) NOT NULL, type_desc NVARCHAR(60) NOT NULL, on_failure TINYINT NOT NULL,
             on_failure_desc NVARCHAR(60) NOT NULL, is_state_enabled BIT NOT NULL,
             queue_delay INT NOT NULL, predicate NVARCHAR(3000));
         CREATE TABLE master.\"sys.endpoints\" (
             name NVARCHAR(128) COLLATE NOCASE NOT NULL, endpoint_id INT PRIMARY KEY, principal_id INT,
             protocol TINYINT NOT NULL, protocol_desc NVARCHAR(60) NOT NULL, type TINYINT NOT NULL,
             type_desc NVARCHAR(60) NOT NULL, state TINYINT NOT NULL, state_desc NVARCHAR(60) NOT NULL,
             is_admin_endpoint BIT NOT NULL);
         CREATE TABLE master.\"sys.server_event_sessions\" (
             event_session_id INT PRIMARY KEY, name NVARCHAR(128) COLLATE NOCASE NOT NULL,
             event_retention_mode CHAR(1) NOT NULL, max_dispatch_latency INT, max_memory INT,
             startup_state BIT NOT NULL);
         CREATE TABLE master.\"sys.server_event_session_targets\" (
             target_id INT NOT NULL, event_session_id INT NOT NULL, name NVARCHAR(128) NOT NULL,
             package NVARCHAR(128) NOT NULL, module NVARCHAR(128) NOT NULL);
         CREATE TABLE master.\"sys.credentials\" (
             credential_id INT PRIMARY KEY, name NVARCHAR(128) COLLATE NOCASE NOT NULL,
             credential_identity NVARCHAR(4000) COLLATE NOCASE, create_date DATETIME NOT NULL,
             modify_date DATETIME NOT NULL, target_type NVARCHAR(100), target_id INT);",
    )?;
    const T: &str = "2024-01-01 00:00:00.000";
    for (i, t) in inst.server_triggers.iter().enumerate() {
        let id = 100_000 + i as i64;
        conn.execute(
            "INSERT INTO master.\"sys.server_triggers\" VALUES (?1, ?2, 100, 'SERVER', 0, 'TR', \
             'SQL_TRIGGER', ?3, ?3, 0, ?4)",
            params![t.name, id, T, t.disabled],
        )?;
        conn.execute(
            "INSERT INTO master.\"sys.server_sql_modules\" VALUES (?1, ?2, 1, 1, NULL)",
            params![id, t.definition],
        )?;
    }
    for (i, a) in inst.audits.iter().enumerate() {
        let ty = match a.type_desc.to_ascii_uppercase().as_str() {
            "FILE" => "FL",
            "APPLICATION LOG" => "AL",
            _ => "SL",
        };
        conn.execute(
            "INSERT INTO master.\"sys.server_audits\" VALUES (?1, ?2, NULL, ?3, ?3, 1, ?4, ?5, 0, \
             'CONTINUE', ?6, 1000, NULL)",
            params![
                65536 + i as i64,
                a.name,
                T,
                ty,
                a.type_desc.to_ascii_uppercase(),
                a.enabled
            ],
        )?;
    }
    // Every instance has its TSQL endpoints; the description adds broker, mirroring, ….
    let mut endpoints: Vec<(String, String, String, String, bool)> = vec![
        (
            "Dedicated Admin Connection".into(),
            "TCP".into(),
            "TSQL".into(),
            "STARTED".into(),
            true,
        ),
        (
            "TSQL Local Machine".into(),
            "SHARED_MEMORY".into(),
            "TSQL".into(),
            "STARTED".into(),
            false,
        ),
        (
            "TSQL Named Pipes".into(),
            "NAMED_PIPES".into(),
            "TSQL".into(),
            "STARTED".into(),
            false,
        ),
        (
            "TSQL Default TCP".into(),
            "TCP".into(),
            "TSQL".into(),
            "STARTED".into(),
            false,
        ),
    ];
    endpoints.extend(inst.endpoints.iter().map(|e| {
        (
            e.name.clone(),
            e.protocol_desc.to_ascii_uppercase(),
            e.type_desc.to_ascii_uppercase(),
            e.state_desc.to_ascii_uppercase(),
            false,
        )
    }));
    for (i, (name, protocol, ty, state, admin)) in endpoints.iter().enumerate() {
        let protocol_code = match protocol.as_str() {
            "HTTP" => 1,
            "TCP" => 2,
            "NAMED_PIPES" => 3,
            "SHARED_MEMORY" => 4,
            _ => 5,
        };
        let type_code = match ty.as_str() {
            "SOAP" => 1,
            "TSQL" => 2,
            "SERVICE_BROKER" => 3,
            _ => 4,
        };
        let state_code = match state.as_str() {
            "STARTED" => 0,
            "STOPPED" => 1,
            _ => 2,
        };
        conn.execute(
            "INSERT INTO master.\"sys.endpoints\" VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                name,
                i as i64 + 1,
                protocol_code,
                protocol,
                type_code,
                ty,
                state_code,
                state,
                admin
            ],
        )?;
    }
    // Every instance has system_health, writing to a file and a ring buffer.
    let system_health = crate::instance::XeSessionSpec {
        name: "system_health".into(),
        targets: vec!["event_file".into(), "ring_buffer".into()],
    };
    for (i, s) in std::iter::once(&system_health)
        .chain(&inst.xevent_sessions)
        .enumerate()
    {
        let id = 65536 + i as i64;
        conn.execute(
            "INSERT INTO master.\"sys.server_event_sessions\" VALUES (?1, ?2, 'S', 30, 4096, 1)",
            params![id, s.name],
        )?;
        for (t, target) in s.targets.iter().enumerate() {
            conn.execute(
                "INSERT INTO master.\"sys.server_event_session_targets\" VALUES (?1, ?2, ?3, \
                 'package0', '00000000-0000-0000-0000-000000000000')",
                params![t as i64 + 1, id, target],
            )?;
        }
    }
    for (i, c) in inst.credentials.iter().enumerate() {
        conn.execute(
            "INSERT INTO master.\"sys.credentials\" VALUES (?1, ?2, ?3, ?4, ?4, NULL, NULL)",
            params![65536 + i as i64, c.name, c.identity, T],
        )?;
    }
    Ok(())
}
