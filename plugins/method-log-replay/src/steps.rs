//! The steps. Each can run again after a crash: log shipping reserves each file's number in the
//! plugin's durable state before the backup, so no file is ever written twice (a file that was
//! written and not recorded is found by LRS anyway); the cutover notices a tail already taken.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{Value, json};
use sqlmig_plugin_sdk::backup_statement::{BackupStatement, log_backup_name, tail_backup_name};
use sqlmig_plugin_sdk::backups::format::chain::Backup;
use sqlmig_plugin_sdk::backups::format::{BackupType, Lsn};
use sqlmig_plugin_sdk::backups::{check_full, read_head};
use sqlmig_plugin_sdk::method::{step_again, step_args, step_request, step_result};
use sqlmig_plugin_sdk::protocol::migration::{CONTAINER, SOURCE, StepKind, TARGET, cutover_key};
use sqlmig_plugin_sdk::sql::{self, Connection};
use sqlmig_plugin_sdk::tsql::{
    decimal_param, differences, first_result, quote_name, table_sums, text_param,
};
use sqlmig_plugin_sdk::{
    Error, blob, clock, invalid_input, log, progress, state, unsupported, with_advice,
};

use crate::lrs;

/// Runs a step request.
pub fn run(request: &str) -> Result<String, Error> {
    let req = step_request(request)?;
    let a: Args = step_args(&req)?;
    let (message, output) = match req.step.kind {
        StepKind::BackupFull => backup_full(&a)?,
        StepKind::Replicate => match replicate(&a)? {
            Round::Again(message, output) => return Ok(step_again(message, output)),
            Round::Done(message, output) => (message, output),
        },
        StepKind::Cutover => cutover(&a)?,
        other => {
            return Err(unsupported(&format!(
                "step kind {other} (method-log-replay runs backup-full, replicate, cutover)"
            )));
        }
    };
    Ok(step_result(message, output))
}

#[derive(Deserialize)]
struct Args {
    database: String,
    target_name: String,
    folder_url: String,
    folder: String,
    database_url: String,
    /// The full backup (backup-full), as the plan shows it.
    #[serde(default)]
    backup: Option<BackupStatement>,
    /// The full backup's blobs, by name in the container (the files `backup` writes).
    #[serde(default)]
    blobs: Vec<String>,
    /// The log backups (replicate), each file named when it is taken.
    #[serde(default)]
    log_backup: Option<BackupStatement>,
    /// The tail-log backup (cutover).
    #[serde(default)]
    tail_backup: Option<BackupStatement>,
    #[serde(default)]
    interval_s: f64,
    /// How long one call of the replicate step ships before handing back to the host, which
    /// calls it again: well inside the hook's deadline, however long replication goes on.
    #[serde(default = "default_round_s")]
    round_s: f64,
    /// `platform` when the source's platform shipped the last log (no tail-log backup).
    #[serde(default)]
    tail: String,
}

/// The statement a step's arguments must carry.
fn statement<'a>(s: &'a Option<BackupStatement>, what: &str) -> Result<&'a BackupStatement, Error> {
    s.as_ref().ok_or_else(|| {
        invalid_input(format!(
            "the plan's step has no {what}: the plan is from another sqlmig; plan again"
        ))
    })
}

fn default_round_s() -> f64 {
    3600.0
}

fn backup_full(a: &Args) -> Result<(String, Value), Error> {
    let conn = sql::connect(SOURCE)?;
    let backup = statement(&a.backup, "full backup")?;
    if backup.copy_only {
        has_log_chain(&conn, &a.database)?;
    }
    folder_is_free(a)?;
    backup.run(&conn)?;
    // Read back before LRS restores it: every stripe there, one backup, of this database.
    let full = check_full(&blob::open(CONTAINER)?, &a.blobs, &a.database).map_err(|e| {
        with_advice(
            e,
            &format!(
                "take the backup again: sqlmig migrate run PLAN --redo {}/backup-full",
                a.database
            ),
        )
    })?;
    record_full(&a.database, &full)?;
    Ok((
        format!(
            "full backup of {} in {} blob(s), LSN {} to {}",
            a.database,
            backup.devices.len(),
            full.first_lsn,
            full.last_lsn
        ),
        json!({ "first_lsn": full.first_lsn, "last_lsn": full.last_lsn, "urls": backup.devices }),
    ))
}

/// Refuses a folder that already holds files other than this full's stripes (an earlier
/// migration of the database into the same container): LRS restores every file in the folder,
/// and they would stand in the chain as log backups taken outside sqlmig.
fn folder_is_free(a: &Args) -> Result<(), Error> {
    let container = blob::open(CONTAINER)?;
    let foreign: Vec<String> = container
        .list(&format!("{}/", a.folder))?
        .into_iter()
        .map(|b| b.name)
        .filter(|n| !a.blobs.contains(n))
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    Err(invalid_input(format!(
        "the container's folder {}/ already holds {} file(s) from an earlier migration of {} ({}{}): LRS would restore them too; delete them (az storage blob delete-batch --source CONTAINER --pattern '{}/*') or plan into another container",
        a.folder,
        foreign.len(),
        a.database,
        foreign
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        if foreign.len() > 3 { ", …" } else { "" },
        a.folder
    )))
}

/// Refuses, before anything moves, a database whose log cannot be backed up: in FULL recovery
/// but never given a full backup that starts the chain (a COPY_ONLY one does not), its first
/// log backup fails with 4214. `sys.database_recovery_status.last_log_backup_lsn` is "NULL
/// … because either the database is in SIMPLE recovery or there is no current database
/// backup" (SQL Server 2005 and later).
fn has_log_chain(conn: &Connection, db: &str) -> Result<(), Error> {
    let rows = first_result(
        conn,
        "SELECT d.recovery_model_desc, rs.last_log_backup_lsn FROM sys.databases d \
         JOIN sys.database_recovery_status rs ON rs.database_id = d.database_id \
         WHERE d.name = @db",
        &[text_param("db", db)],
    )?;
    let Some(row) = rows.iter().next() else {
        return Err(Error::NotFound(format!(
            "database {db} is not on the source"
        )));
    };
    if row.get::<Option<String>>("last_log_backup_lsn")?.is_some() {
        return Ok(());
    }
    let recovery = row.get::<String>("recovery_model_desc")?;
    Err(invalid_input(format!(
        "{db} ({recovery} recovery) has no log chain yet: it has never had a full backup that \
         starts one, so its log cannot be backed up (error 4214) and LRS would have nothing to \
         replay. Take a full backup in your own backup job (not COPY_ONLY) and run again, or \
         plan again with --option base_full=true so that sqlmig's full backup starts the \
         chain (it becomes the base of your next differential backups)"
    )))
}

/// The folder's chain starts at `full`: logs must continue from its last LSN.
fn record_full(db: &str, full: &Backup) -> Result<(), Error> {
    record_checked(db, full.last_lsn, full.media.iter())
}

/// A log backup shipped, as the state keeps it.
#[derive(serde::Serialize, Deserialize, Clone)]
struct Shipped {
    file: String,
    last_lsn: String,
    bytes: f64,
    at_ms: u64,
}

fn shipped(db: &str) -> Result<Vec<Shipped>, Error> {
    Ok(state::get(&format!("shipped/{db}"))?
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default())
}

/// How a call of the replicate step ended.
enum Round {
    /// The cutover was asked for: the step is done.
    Done(String, Value),
    /// The round's time is up: the host calls the step again.
    Again(String, Value),
}

/// Ships log backups every `interval_s` until the cutover is asked for, reporting the lag; hands
/// back to the host after `round_s` so no call outlives the hook's deadline.
fn replicate(a: &Args) -> Result<Round, Error> {
    let conn = sql::connect(SOURCE)?;
    let slice_ms = 200u64;
    let started = clock::now();
    let round_ms = (a.round_s.max(0.1) * 1000.0) as u64;
    let interval_ms = (a.interval_s * 1000.0) as u64;
    // A new round ships at once only when the last file is an interval old.
    let mut next_backup = shipped(&a.database)?
        .last()
        .map_or(started, |s| s.at_ms + interval_ms);
    loop {
        let list_output = || -> Result<Value, Error> {
            let list = shipped(&a.database)?;
            Ok(
                json!({ "log_backups": list.len(), "last_lsn": list.last().map(|s| s.last_lsn.clone()) }),
            )
        };
        if state::get(&cutover_key(&a.database))?.is_some() {
            let output = list_output()?;
            return Ok(Round::Done(
                format!(
                    "{} log backups shipped; cutover asked for",
                    output["log_backups"]
                ),
                output,
            ));
        }
        if clock::now() >= next_backup {
            ship_one(&conn, a)?;
            report_lag(a)?;
            next_backup = clock::now() + interval_ms;
        }
        if clock::now().saturating_sub(started) >= round_ms {
            let output = list_output()?;
            return Ok(Round::Again(
                format!(
                    "{} log backups shipped so far; replicating on",
                    output["log_backups"]
                ),
                output,
            ));
        }
        clock::sleep(slice_ms);
    }
}

/// Takes one log backup into the folder under a number reserved first, so a crash between the
/// reservation and the backup leaves a gap in the numbering, never two files with one name.
/// Then reads the folder's chain back from the files' headers.
fn ship_one(conn: &Connection, a: &Args) -> Result<(), Error> {
    let key = format!("log_seq/{}", a.database);
    let seq: u64 = state::get(&key)?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
        + 1;
    state::set(&key, seq.to_string().as_bytes())?;
    let file = log_backup_name(&a.folder, seq);
    let backup = statement(&a.log_backup, "log backup")?
        .with_devices(vec![format!("{}/{file}", a.folder_url)]);
    let blob_name = format!("{}/{file}", a.folder);
    match backup.run(conn) {
        Ok(()) => {}
        // 3271 is any I/O error of the backup device (a lease, a refused write, the network:
        // mssqlserver-3271-database-engine-error.md), not "the name is taken". What it left
        // in the folder is removed, lest LRS meet a broken file, and the step is tried again
        // by the host, under the next number (this one was reserved); never renamed here.
        Err(Error::SqlError(e)) if e.number == 3271 => {
            let _ = blob::open(CONTAINER).and_then(|c| c.delete(&blob_name));
            return Err(Error::Unavailable(format!(
                "log backup of {} to {file} failed with an I/O error (3271: {}); the next attempt takes it under the next number",
                a.database, e.message
            )));
        }
        Err(e) => return Err(e),
    }
    let (backup, bytes) = folder_chain(conn, a, Some(&blob_name))?;
    let mut list = shipped(&a.database)?;
    list.push(Shipped {
        file,
        last_lsn: backup.last_lsn.to_string(),
        bytes: bytes as f64,
        at_ms: clock::now(),
    });
    let keep = list.len().saturating_sub(500);
    state::set(
        &format!("shipped/{}", a.database),
        &serde_json::to_vec(&list[keep..]).expect("serializes"),
    )?;
    Ok(())
}

/// Where the names of the folder's files already checked are kept, one key each (a backup
/// file never changes, so each is read once; one key per file keeps each check's writes small
/// however long replication runs).
fn seen_prefix(db: &str) -> String {
    format!("seen/{db}/")
}

/// Where the LSN the folder's files restore to, as checked so far, is kept.
fn chain_point_key(db: &str) -> String {
    format!("chain_point/{db}")
}

/// The LSN the folder's files restore to, as checked so far (`None` before the full is
/// recorded).
fn chain_point(db: &str) -> Result<Option<Lsn>, Error> {
    Ok(state::get(&chain_point_key(db))?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok()))
}

/// Records that the chain reaches `point` through the files `names`. The point is written
/// first: a run killed before the names are leaves files at or below it unrecorded, and the
/// next check reads them again and takes them as covered. (The other order left a file
/// recorded with the point behind it, and the next file looked like a gap.)
fn record_checked<'a>(
    db: &str,
    point: Lsn,
    names: impl Iterator<Item = &'a String>,
) -> Result<(), Error> {
    state::set(&chain_point_key(db), point.to_string().as_bytes())?;
    for name in names {
        state::set(&format!("{}{name}", seen_prefix(db)), b"")?;
    }
    Ok(())
}

/// The restore chain LRS finds in the folder, checked from the headers of the files themselves
/// (read back with the reader `sqlmig backup inspect` uses): each file not checked before must
/// be a log backup of this database continuing the chain from where the checked files left it,
/// with no LSN gap — `newest`, just written, among them. Files a killed run wrote without
/// recording them are in the folder and so in the chain. Returns `newest`'s backup and size
/// (the chain's last backup when `newest` is not given).
fn folder_chain(conn: &Connection, a: &Args, newest: Option<&str>) -> Result<(Backup, u64), Error> {
    let container = blob::open(CONTAINER)?;
    let prefix = seen_prefix(&a.database);
    let seen: HashSet<String> = state::keys(&prefix)?
        .into_iter()
        .filter_map(|k| k.strip_prefix(&prefix).map(str::to_string))
        .collect();
    let mut point: Lsn = chain_point(&a.database)?.ok_or_else(|| {
            invalid_input(format!(
                "{}: no full backup is recorded for the migration folder; take it again: sqlmig migrate run PLAN --redo {}/backup-full",
                a.database, a.database
            ))
        })?;
    let mut sizes = std::collections::HashMap::new();
    let mut unchecked = Vec::new();
    // Files an earlier attempt checked: the chain's end is among them when no new one follows.
    let mut covered = Vec::new();
    for item in container.list(&format!("{}/", a.folder))? {
        sizes.insert(item.name.clone(), item.size);
        if seen.contains(&item.name) && Some(item.name.as_str()) != newest {
            covered.push(item.name);
            continue;
        }
        let file = read_head(&container, &item.name)?;
        let set = &file.sets[0];
        if set.database_name != a.database {
            return Err(invalid_input(format!(
                "blob {} in {}'s migration folder holds a backup of {}: LRS would try to restore it; remove it from the folder",
                item.name, a.database, set.database_name
            )));
        }
        let backup = Backup::from_set(set, item.name.clone());
        if seen.contains(&item.name) || backup.last_lsn <= point {
            // Checked by an earlier attempt, or covered by what it checked before it was killed
            // (a cutover resumed after its tail was checked, a file not yet recorded).
            if Some(item.name.as_str()) == newest {
                return Ok((backup, item.size));
            }
            covered.push(item.name);
            continue;
        }
        if newest.is_none() && backup.backup_type != BackupType::Log {
            // The full, before its media were recorded as checked (its own step does that).
            continue;
        }
        if backup.backup_type != BackupType::Log {
            return Err(invalid_input(format!(
                "blob {} in {}'s migration folder holds a {} backup where only log backups follow the full: LRS would try to restore it; remove it from the folder",
                item.name,
                a.database,
                backup.backup_type.name()
            )));
        }
        unchecked.push(backup);
    }
    // From the point checked so far through the new files, in the order they apply.
    let mut applied = Vec::new();
    while let Some(i) = (0..unchecked.len())
        .filter(|i| unchecked[*i].log_applies_at(point))
        .max_by_key(|i| unchecked[*i].last_lsn)
    {
        let log = unchecked.swap_remove(i);
        point = log.last_lsn;
        applied.push(log);
    }
    if let Some(next) = unchecked.iter().map(|l| l.first_lsn).min() {
        return Err(gap(conn, a, &point.to_string(), &next.to_string())?);
    }
    let backup = match newest {
        Some(newest) => applied
            .iter()
            .find(|b| b.media.iter().any(|m| m == newest))
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("{newest} is not in the migration folder")))?,
        None => match applied.last().cloned() {
            Some(last) => last,
            // Every file was checked by an earlier attempt (a cutover tried again): the chain
            // ends in the covered log backup that reaches the point.
            None => ending_at(&container, &covered, point)?.ok_or_else(|| {
                Error::NotFound(format!(
                    "no log backup of {} in its migration folder follows the full",
                    a.database
                ))
            })?,
        },
    };
    let newest_size = sizes.get(&backup.media[0]).copied().unwrap_or(0);
    record_checked(&a.database, point, applied.iter().map(|b| &b.media[0]))?;
    Ok((backup, newest_size))
}

/// The log backup among `names` whose chain ends at `point`, read from the newest name back
/// (sqlmig and the platforms number their files in the order they are taken, so that is
/// usually the first read).
fn ending_at(
    container: &blob::Container,
    names: &[String],
    point: Lsn,
) -> Result<Option<Backup>, Error> {
    let mut names: Vec<&String> = names.iter().collect();
    names.sort_unstable_by(|a, b| b.cmp(a));
    for name in names {
        let file = read_head(container, name)?;
        let backup = Backup::from_set(&file.sets[0], name.clone());
        if backup.backup_type == BackupType::Log && backup.last_lsn == point {
            return Ok(Some(backup));
        }
    }
    Ok(None)
}

/// Log backups of `db` msdb records outside the migration folder after LSN `from` (the
/// source's own log backup job), as (last LSN, device): LRS restores only the folder, so they
/// break its chain.
fn outside_logs(conn: &Connection, a: &Args, from: &str) -> Result<Vec<(String, String)>, Error> {
    let rows = first_result(
        conn,
        "SELECT bs.last_lsn, mf.physical_device_name FROM msdb.dbo.backupset bs \
         JOIN msdb.dbo.backupmediafamily mf ON mf.media_set_id = bs.media_set_id \
         WHERE bs.database_name = @db AND bs.type = 'L' AND bs.last_lsn > @from \
         ORDER BY bs.backup_set_id",
        &[text_param("db", &a.database), decimal_param("from", from)],
    )?;
    let mut found = Vec::new();
    for r in rows.iter() {
        let device = r.get::<String>("physical_device_name")?;
        if !device.starts_with(&a.folder_url) {
            found.push((r.get::<String>("last_lsn")?, device));
        }
    }
    Ok(found)
}

/// The error for an LSN gap in the folder, saying where msdb says the missing backups went.
fn gap(conn: &Connection, a: &Args, from: &str, to: &str) -> Result<Error, Error> {
    let elsewhere: Vec<String> = outside_logs(conn, a, from)?
        .into_iter()
        .map(|(_, device)| device)
        .collect();
    Ok(invalid_input(format!(
        "{}: the log chain has a gap from LSN {from} to {to}: log backups were taken outside sqlmig ({}); \
         LRS restores only the migration folder. Pause the source's log backup jobs, then start the migration of {} again",
        a.database,
        if elsewhere.is_empty() {
            "msdb does not say where".to_string()
        } else {
            elsewhere.join(", ")
        },
        a.database
    )))
}

/// Where LRS stands on the database: restoreDetails' properties while it restores, `None` once
/// it no longer does (completed); a failed replay is an error saying why.
fn replay(a: &Args) -> Result<Option<Value>, Error> {
    match lrs::details(&a.database_url)? {
        lrs::Details::NotRestoring => Ok(None),
        lrs::Details::Restoring(d) if d["status"].as_str() == Some("Failed") => {
            Err(invalid_input(format!(
                "the Log Replay Service failed for {}: {}",
                a.target_name, d["blockReason"]
            )))
        }
        lrs::Details::Restoring(d) => Ok(Some(d)),
    }
}

/// How far LRS is behind: the log backups shipped after the last one it restored.
fn report_lag(a: &Args) -> Result<(), Error> {
    let Some(d) = replay(a)? else {
        return Err(invalid_input(format!(
            "the Log Replay Service is no longer restoring {}: it was completed or stopped outside this migration; start the migration of {} again",
            a.target_name, a.database
        )));
    };
    let list = shipped(&a.database)?;
    let restored = d["lastRestoredFileName"].as_str().unwrap_or_default();
    let at = list.iter().position(|s| restored.ends_with(&s.file));
    let behind: Vec<&Shipped> = match at {
        Some(i) => list[i + 1..].iter().collect(),
        None => list.iter().collect(),
    };
    let restored_to = at.map_or_else(
        || "the full backup".to_string(),
        |i| format!("LSN {}", list[i].last_lsn),
    );
    let lag_s = behind.first().map_or(0.0, |s| {
        (clock::now().saturating_sub(s.at_ms)) as f64 / 1000.0
    });
    // A fold from 0.0: an empty float sum is -0.0, shown as "-0.0 MB".
    let lag_mb = behind.iter().fold(0.0, |sum, s| sum + s.bytes) / 1048576.0;
    let message = format!(
        "{}: {} log backups shipped (to LSN {}), MI restored to {restored_to}; lag {} backup(s), {lag_s:.0} s, {lag_mb:.1} MB",
        a.database,
        list.len(),
        list.last().map_or("-", |s| s.last_lsn.as_str()),
        behind.len()
    );
    log::info(&message);
    progress::report(list.len() as u64, None, &message);
    Ok(())
}

fn database_state(conn: &Connection, name: &str) -> Result<Option<String>, Error> {
    let rows = first_result(
        conn,
        "SELECT state_desc FROM sys.databases WHERE name = @db",
        &[text_param("db", name)],
    )?;
    rows.iter()
        .next()
        .map(|r| r.get::<String>("state_desc"))
        .transpose()
}

/// True when `name` is in standby on the source (read-only after a tail WITH STANDBY).
fn in_standby(conn: &Connection, name: &str) -> Result<bool, Error> {
    let rows = first_result(
        conn,
        "SELECT is_in_standby FROM sys.databases WHERE name = @db",
        &[text_param("db", name)],
    )?;
    Ok(rows
        .iter()
        .next()
        .map(|r| r.get::<bool>("is_in_standby"))
        .transpose()?
        .unwrap_or(false))
}

/// True when the source's database is as a tail-log backup leaves it: RESTORING, or in standby
/// after a tail WITH STANDBY.
fn tail_taken(conn: &Connection, db: &str, standby: bool) -> Result<bool, Error> {
    Ok(match database_state(conn, db)?.as_deref() {
        Some("RESTORING") => true,
        Some("ONLINE") => standby && in_standby(conn, db)?,
        _ => false,
    })
}

/// Keeps what the stopped source holds (each table's rows and checksum), to compare the target
/// with, and when the cutover's downtime began.
fn keep_source_sums(source: &Connection, db: &str) -> Result<(), Error> {
    let kept: Vec<Value> = table_sums(source, db)?
        .iter()
        .map(|t| json!([t.table, t.rows, t.checksum]))
        .collect();
    state::set(
        &format!("sums/{db}"),
        &serde_json::to_vec(&kept).expect("serializes"),
    )?;
    state::set(
        &format!("tail_at/{db}"),
        clock::now().to_string().as_bytes(),
    )
}

/// The cutover after the source's platform shipped the last log (it allows no tail-log
/// backup): the rows the stopped source holds, the chain in the folder checked to its end, and
/// the replay completed with the last file.
fn cutover_after_platform(a: &Args) -> Result<(String, Value), Error> {
    let source = sql::connect(SOURCE)?;
    let sums_key = format!("sums/{}", a.database);
    if chain_point(&a.database)?.is_none() {
        // The platform took the full: the chain starts at its copies in the folder.
        let full = check_full(&blob::open(CONTAINER)?, &a.blobs, &a.database)?;
        record_full(&a.database, &full)?;
    }
    if state::get(&sums_key)?.is_none() {
        keep_source_sums(&source, &a.database)?;
    }
    let (last, _) = folder_chain(&source, a, None)?;
    let file = last.media[0]
        .strip_prefix(&format!("{}/", a.folder))
        .unwrap_or(&last.media[0])
        .to_string();
    complete(a, &file)
}

/// The tail of the log, the last restore, the database online on MI, its rows compared.
fn cutover(a: &Args) -> Result<(String, Value), Error> {
    if a.tail == "platform" {
        return cutover_after_platform(a);
    }
    let source = sql::connect(SOURCE)?;
    let tail_backup = statement(&a.tail_backup, "tail-log backup")?;
    let tail = tail_backup_name(&a.folder);
    let tail_key = format!("tail_at/{}", a.database);
    let standby = tail_backup.standby.is_some();
    match database_state(&source, &a.database)?.as_deref() {
        // An earlier attempt took the tail WITH STANDBY: the source is read-only, in standby.
        Some("ONLINE") if standby && in_standby(&source, &a.database)? => {
            if state::get(&tail_key)?.is_none() {
                return Err(invalid_input(format!(
                    "{} is in standby on the source, but not by this migration's tail: restore it WITH RECOVERY, or leave it out of the plan",
                    a.database
                )));
            }
        }
        Some("ONLINE") => {
            // A log backup taken elsewhere since the last one shipped would leave the tail
            // unrestorable: say so while the source is still online.
            let since = shipped(&a.database)?
                .last()
                .map(|s| s.last_lsn.clone())
                .unwrap_or_else(|| "0".into());
            if let Some((last, _)) = outside_logs(&source, a, &since)?.last() {
                return Err(gap(&source, a, &since, last)?);
            }
            // The application is stopped: what the source holds now is what must arrive.
            keep_source_sums(&source, &a.database)?;
            match tail_backup.run(&source) {
                Ok(()) => {}
                // The tail of an earlier attempt, killed while its BACKUP ran, ended after this
                // attempt found the source online: the server ran it to its end (it learns its
                // client is gone only when it answers), so this one met the database RESTORING
                // (or in standby). That tail holds the tail's name; the chain check below reads
                // what it wrote.
                Err(Error::SqlError(_)) if tail_taken(&source, &a.database, standby)? => {}
                Err(e) => return Err(e),
            }
        }
        // An earlier attempt took the tail: the source is waiting, restoring.
        Some("RESTORING") if state::get(&tail_key)?.is_some() => {}
        other => {
            return Err(invalid_input(format!(
                "{} is {other:?} on the source: cannot take the tail of its log",
                a.database
            )));
        }
    }
    // From here the source takes no writes: whatever fails says how it stands.
    let left = format!(
        "the source's {0} is {1} since its tail was taken: run the plan again to finish the cutover; to give up the migration and take {0} back into use, RESTORE DATABASE {2} WITH RECOVERY on the source",
        a.database,
        if standby {
            "read-only, in standby,"
        } else {
            "RESTORING"
        },
        quote_name(&a.database)
    );
    // The tail must continue the chain in the folder before LRS is told it is the last.
    folder_chain(&source, a, Some(&format!("{}/{tail}", a.folder)))
        .and_then(|_| complete(a, &tail))
        .map_err(|e| with_advice(e, &left))
}

/// Tells LRS `last` is the last file, waits for the database online on MI and compares its rows
/// with those the source held at the cutover.
fn complete(a: &Args, last: &str) -> Result<(String, Value), Error> {
    let sums_key = format!("sums/{}", a.database);
    let started: u64 = state::get(&format!("tail_at/{}", a.database))?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(clock::now);
    let target = sql::connect(TARGET)?;
    // Sleeps a moment before the next look, unless 6 h have passed since the tail.
    let wait = |what: &str| -> Result<(), Error> {
        if clock::now().saturating_sub(started) > 6 * 3600 * 1000 {
            return Err(Error::Timeout(format!(
                "{} {what} within 6 h of the tail backup",
                a.target_name
            )));
        }
        clock::sleep(250);
        Ok(())
    };
    // Completion only once LRS shows `last` restored (log-replay-service-overview.md: "Ensure
    // that the last backup file has been restored … Then, initiate manual cutover"); earlier,
    // the API refuses with RequiredBackupIsNotLastRestored.
    // An earlier attempt may have completed it already (no longer restoring).
    while let Some(d) = replay(a)? {
        if lrs::unrestorable(&d, last) {
            return Err(invalid_input(format!(
                "the Log Replay Service cannot restore {last}, the last backup of {}: see restoreDetails' unrestorableFiles, then start the migration of {} again",
                a.target_name, a.database
            )));
        }
        if lrs::restored_last(&d, last) {
            match lrs::complete(&a.database_url, last)? {
                lrs::Completion::Accepted
                | lrs::Completion::AlreadyAsked
                | lrs::Completion::NotRestoring => break,
                // Not the last restored after all (a file restored since): wait on.
                lrs::Completion::NotLastRestored => {}
            }
        }
        wait("did not restore its last backup")?;
    }
    loop {
        let completed = replay(a)?.is_none_or(|d| d["status"].as_str() == Some("Completed"));
        if completed && database_state(&target, &a.target_name)?.as_deref() == Some("ONLINE") {
            break;
        }
        wait("did not come online")?;
    }
    let downtime_s = (clock::now() - started) as f64 / 1000.0;
    let kept: Vec<(String, i64, Option<i64>)> = state::get(&sums_key)?
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let source_sums: Vec<_> = kept
        .into_iter()
        .map(
            |(table, rows, checksum)| sqlmig_plugin_sdk::tsql::TableSum {
                table,
                rows,
                checksum,
            },
        )
        .collect();
    let target_sums = table_sums(&target, &a.target_name)?;
    let diffs = differences(&source_sums, &target_sums);
    let rows: i64 = source_sums.iter().map(|t| t.rows).sum();
    let ok = diffs.is_empty();
    let message = if ok {
        format!(
            "{} online on the target after {downtime_s:.1} s of downtime; {} tables, {rows} rows equal",
            a.target_name,
            source_sums.len()
        )
    } else {
        format!(
            "{} online, but {} difference(s): {}",
            a.target_name,
            diffs.len(),
            diffs.join("; ")
        )
    };
    Ok((
        message,
        json!({ "ok": ok, "downtime_s": downtime_s, "rows": rows, "differences": diffs, "tail": last }),
    ))
}
