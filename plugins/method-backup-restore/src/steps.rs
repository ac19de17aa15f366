//! Running one step. Each step can run again after a crash: a backup overwrites its blobs
//! (WITH FORMAT), a restore that an earlier attempt finished is recognised, verification only
//! reads.

use serde::Deserialize;
use serde_json::{Value, json};
use sqlmig_plugin_sdk::backup_statement::BackupStatement;
use sqlmig_plugin_sdk::backups::check_full;
use sqlmig_plugin_sdk::inventory::migration::{CONTAINER, SOURCE, TARGET};
use sqlmig_plugin_sdk::method::{step_args, step_request, step_result};
use sqlmig_plugin_sdk::sql::{self, Connection};
use sqlmig_plugin_sdk::tsql::{
    differences, first_result as first, quote_name, table_sums, text_param,
};
use sqlmig_plugin_sdk::{Error, blob, clock, invalid_input, log, unsupported, with_advice};

/// Runs a step request.
pub fn run(request: &str) -> Result<String, Error> {
    let req = step_request(request)?;
    let (message, output) = match req.step.kind.as_str() {
        "backup" => backup(&step_args(&req)?)?,
        "restore" => restore(&step_args(&req)?, req.resumed)?,
        "verify" => verify(&step_args(&req)?)?,
        other => {
            return Err(unsupported(&format!(
                "step kind {other} (method-backup-restore runs backup, restore, verify)"
            )));
        }
    };
    Ok(step_result(message, output))
}

#[derive(Deserialize)]
struct BackupArgs {
    database: String,
    /// The statement the plan shows (the same builder made both).
    backup: BackupStatement,
}

/// The plan's BACKUP DATABASE, the database name and devices as parameters, never spliced
/// into the text.
fn backup(a: &BackupArgs) -> Result<(String, Value), Error> {
    let conn = sql::connect(SOURCE)?;
    let devices = &a.backup.devices;
    log::info(&format!(
        "backing up {} to {} device(s)",
        a.database,
        devices.len()
    ));
    a.backup.run(&conn)?;
    let rows = first(
        &conn,
        "SELECT TOP (1) first_lsn, last_lsn, checkpoint_lsn, backup_size FROM msdb.dbo.backupset \
         WHERE database_name = @db AND type = 'D' ORDER BY backup_set_id DESC",
        &[text_param("db", &a.database)],
    )?;
    let output = match rows.iter().next() {
        Some(r) => json!({
            "first_lsn": r.get::<String>("first_lsn")?,
            "last_lsn": r.get::<String>("last_lsn")?,
            "checkpoint_lsn": r.get::<String>("checkpoint_lsn")?,
            "backup_size": r.get::<f64>("backup_size")?,
            "devices": devices,
        }),
        None => json!({ "devices": devices }),
    };
    Ok((
        format!("backed up {} to {} device(s)", a.database, devices.len()),
        output,
    ))
}

#[derive(Deserialize)]
struct RestoreArgs {
    /// The source database the backup must be of.
    database: String,
    target_name: String,
    urls: Vec<String>,
    /// The same files as `urls`, by name in the container.
    blobs: Vec<String>,
}

/// The target database's state, if it exists.
fn state(conn: &Connection, name: &str) -> Result<Option<String>, Error> {
    let rows = first(
        conn,
        "SELECT state_desc FROM sys.databases WHERE name = @db",
        &[text_param("db", name)],
    )?;
    rows.iter()
        .next()
        .map(|r| r.get::<String>("state_desc"))
        .transpose()
}

/// RESTORE DATABASE @db FROM URL = @u1, …: Managed Instance places the files and recovers.
fn restore(a: &RestoreArgs, resumed: bool) -> Result<(String, Value), Error> {
    let conn = sql::connect(TARGET)?;
    match state(&conn, &a.target_name)?.as_deref() {
        None => {}
        Some("ONLINE") if resumed => {
            return Ok((
                format!("{} was restored by the earlier attempt", a.target_name),
                json!({ "resumed": true }),
            ));
        }
        Some("RESTORING") if resumed => {
            // MI goes on restoring when the client that asked goes away: wait for it.
            return wait_online(&conn, &a.target_name);
        }
        Some(other) => {
            return Err(invalid_input(format!(
                "the target already has a database {} ({other}): drop it or restore under another name (--rename)",
                quote_name(&a.target_name)
            )));
        }
    }
    // Read the stripes' headers back first: a missing stripe, one left from another backup or
    // another database's file is named here, not in a failed restore.
    let full = check_full(&blob::open(CONTAINER)?, &a.blobs, &a.database).map_err(|e| {
        with_advice(
            e,
            &format!(
                "take the backup again: sqlmig migrate run PLAN --redo {}/backup",
                a.database
            ),
        )
    })?;
    log::info(&format!(
        "{}: {} stripe(s) of one full backup of {} (LSN {} to {}, SQL Server {})",
        a.target_name,
        full.media.len(),
        a.database,
        full.first_lsn,
        full.last_lsn,
        full.server_name
    ));
    let mut params = vec![text_param("db", &a.target_name)];
    let mut list = Vec::new();
    for (i, u) in a.urls.iter().enumerate() {
        params.push(text_param(&format!("u{}", i + 1), u));
        list.push(format!("URL = @u{}", i + 1));
    }
    log::info(&format!(
        "restoring {} from {} blob(s)",
        a.target_name,
        a.urls.len()
    ));
    conn.execute(
        &format!("RESTORE DATABASE @db FROM {}", list.join(", ")),
        &params,
    )?;
    wait_online(&conn, &a.target_name)
}

fn wait_online(conn: &Connection, name: &str) -> Result<(String, Value), Error> {
    for _ in 0..86_400 {
        match state(conn, name)?.as_deref() {
            Some("ONLINE") => {
                return Ok((format!("restored {name}"), json!({ "state": "ONLINE" })));
            }
            Some("RESTORING") | None => clock::sleep(1000),
            Some(other) => {
                return Err(invalid_input(format!(
                    "{} is {other} after the restore",
                    quote_name(name)
                )));
            }
        }
    }
    Err(Error::Timeout(format!(
        "{} did not come online within a day",
        quote_name(name)
    )))
}

#[derive(Deserialize)]
struct VerifyArgs {
    database: String,
    target_name: String,
}

fn verify(a: &VerifyArgs) -> Result<(String, Value), Error> {
    let source = table_sums(&sql::connect(SOURCE)?, &a.database)?;
    let target = table_sums(&sql::connect(TARGET)?, &a.target_name)?;
    let differences = differences(&source, &target);
    let rows: i64 = source.iter().map(|t| t.rows).sum();
    let tables: Vec<Value> = source
        .iter()
        .map(|t| json!({ "table": t.table, "rows": t.rows, "checksum": t.checksum }))
        .collect();
    let ok = differences.is_empty();
    let message = if ok {
        format!(
            "{} tables, {rows} rows: counts and checksums equal",
            source.len()
        )
    } else {
        format!(
            "{} difference(s): {}",
            differences.len(),
            differences.join("; ")
        )
    };
    Ok((
        message,
        json!({ "ok": ok, "tables": tables, "differences": differences }),
    ))
}
