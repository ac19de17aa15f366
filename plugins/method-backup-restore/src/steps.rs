//! Running one step. Each step can run again after a crash: a backup overwrites its blobs
//! (WITH FORMAT), a restore that an earlier attempt finished is recognised, verification only
//! reads.

use serde::Deserialize;
use serde_json::{Value, json};
use sqlmig_plugin_sdk::backup_statement::BackupStatement;
use sqlmig_plugin_sdk::backups::check_full;
use sqlmig_plugin_sdk::method::{step_args, step_request, step_result};
use sqlmig_plugin_sdk::protocol::migration::{CONTAINER, SOURCE, StepKind, TARGET};
use sqlmig_plugin_sdk::sql::{self, Connection};
use sqlmig_plugin_sdk::tsql::{
    differences, first_result as first, quote_name, table_sums, text_param,
};
use sqlmig_plugin_sdk::{Error, blob, clock, invalid_input, log, unsupported, with_advice};

/// Runs a step request.
pub fn run(request: &str) -> Result<String, Error> {
    let req = step_request(request)?;
    let (message, output) = match req.step.kind {
        StepKind::Backup => backup(&step_args(&req)?)?,
        StepKind::Restore => restore(&step_args(&req)?, req.resumed)?,
        StepKind::Verify => verify(&step_args(&req)?)?,
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

/// RESTORE DATABASE @db FROM URL = @u1, …: Managed Instance places the files and recovers. A
/// database this attempt created is dropped again when the restore fails, and one found ONLINE
/// after a crash is taken as this step's work only when the target's restore history shows this
/// backup restored into it.
fn restore(a: &RestoreArgs, resumed: bool) -> Result<(String, Value), Error> {
    let conn = sql::connect(TARGET)?;
    // The stripes' headers, read before a restore (a missing stripe, one left from another
    // backup or another database's file is named here, not in a failed restore) and to prove
    // an earlier restore was of this backup.
    let read_full = || {
        check_full(&blob::open(CONTAINER)?, &a.blobs, &a.database).map_err(|e| {
            with_advice(
                e,
                &format!(
                    "take the backup again: sqlmig migrate run PLAN --redo {}/backup",
                    a.database
                ),
            )
        })
    };
    match state(&conn, &a.target_name)?.as_deref() {
        None => {}
        Some("ONLINE") if resumed => {
            let full = read_full()?;
            return match restored_set(&conn, &a.target_name)? {
                Some((first, last))
                    if first == full.first_lsn.0.to_string()
                        && last == full.last_lsn.0.to_string() =>
                {
                    Ok((
                        format!(
                            "{} was restored by the earlier attempt (restore history: this backup, LSN {first} to {last})",
                            a.target_name
                        ),
                        json!({ "resumed": true, "first_lsn": first, "last_lsn": last }),
                    ))
                }
                other => Err(invalid_input(format!(
                    "the target has a database {} (ONLINE) that is not this plan's restore: {}; drop it if it is a leftover, or restore under another name (--rename)",
                    quote_name(&a.target_name),
                    match other {
                        Some((first, last)) => format!(
                            "its last restore was of LSN {first} to {last}, this backup is {} to {}",
                            full.first_lsn.0, full.last_lsn.0
                        ),
                        None => "the target's msdb has no restore of it".to_string(),
                    }
                ))),
            };
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
    let full = read_full()?;
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
    let restored = conn
        .execute(
            &format!("RESTORE DATABASE @db FROM {}", list.join(", ")),
            &params,
        )
        .and_then(|_| wait_online(&conn, &a.target_name));
    restored.map_err(|e| roll_back(&conn, &a.target_name, e))
}

/// After a failed restore: drops what it left of the database (absent before it began), so no
/// later attempt takes a half-restored database for a restored one.
fn roll_back(conn: &Connection, name: &str, failure: Error) -> Error {
    let left = match state(conn, name) {
        Ok(left) => left,
        // The connection is gone: the next attempt finds the database and judges it.
        Err(_) => return failure,
    };
    let Some(left) = left else {
        return failure;
    };
    match conn.execute(&format!("DROP DATABASE {}", quote_name(name)), &[]) {
        Ok(_) => {
            // A SQL Server error keeps its number for the host's retry decision, without the
            // advice: the log says it.
            log::warn(&format!(
                "{name}: the failed restore left it {left}; dropped it, so a rerun restores it again"
            ));
            with_advice(
                failure,
                &format!(
                    "the failed restore's {left} database was dropped; rerun the plan to restore it again"
                ),
            )
        }
        Err(e) => with_advice(
            failure,
            &format!(
                "the failed restore left {} {left} and dropping it failed ({e}): drop it by hand before the rerun",
                quote_name(name)
            ),
        ),
    }
}

/// The LSN range of the full backup last restored into `name`, from the target's restore
/// history (restorehistory.backup_set_id references backupset).
fn restored_set(conn: &Connection, name: &str) -> Result<Option<(String, String)>, Error> {
    let rows = first(
        conn,
        "SELECT TOP (1) bs.first_lsn, bs.last_lsn FROM msdb.dbo.restorehistory AS rh \
         JOIN msdb.dbo.backupset AS bs ON bs.backup_set_id = rh.backup_set_id \
         WHERE rh.destination_database_name = @db AND rh.restore_type = 'D' \
         ORDER BY rh.restore_history_id DESC",
        &[text_param("db", name)],
    )?;
    rows.iter()
        .next()
        .map(|r| Ok((r.get::<String>("first_lsn")?, r.get::<String>("last_lsn")?)))
        .transpose()
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
