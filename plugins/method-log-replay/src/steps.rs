//! The steps. Each can run again after a crash: log shipping reserves each file's number in the
//! plugin's durable state before the backup, so no file is ever written twice (a file that was
//! written and not recorded is found by LRS anyway); the cutover notices a tail already taken.

use serde::Deserialize;
use serde_json::{Value, json};
use sqlmig_plugin_sdk::inventory::migration::{SOURCE, TARGET};
use sqlmig_plugin_sdk::method::{step_args, step_request, step_result};
use sqlmig_plugin_sdk::sql::{self, Connection};
use sqlmig_plugin_sdk::tsql::{differences, first_result, table_sums, text_param};
use sqlmig_plugin_sdk::{Error, clock, invalid_input, log, progress, state, unsupported};

use crate::lrs;

/// Runs a step request.
pub fn run(request: &str) -> Result<String, Error> {
    let req = step_request(request)?;
    let a: Args = step_args(&req)?;
    let (message, output) = match req.step.kind.as_str() {
        "backup-full" => backup_full(&a)?,
        "replicate" => replicate(&a)?,
        "cutover" => cutover(&a)?,
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
    #[serde(default)]
    compression: bool,
    #[serde(default)]
    urls: Vec<String>,
    #[serde(default)]
    interval_s: f64,
}

/// The key of the cutover request for `database` (`sqlmig migrate cutover` sets it).
pub fn cutover_key(database: &str) -> String {
    format!("cutover/{database}")
}

fn backup_full(a: &Args) -> Result<(String, Value), Error> {
    let conn = sql::connect(SOURCE)?;
    let mut params = vec![text_param("db", &a.database)];
    let devices: Vec<String> = a
        .urls
        .iter()
        .enumerate()
        .map(|(i, u)| {
            params.push(text_param(&format!("u{}", i + 1), u));
            format!("URL = @u{}", i + 1)
        })
        .collect();
    let compression = if a.compression { "COMPRESSION, " } else { "" };
    conn.execute(
        &format!(
            "BACKUP DATABASE @db TO {} WITH COPY_ONLY, {compression}CHECKSUM, FORMAT, INIT",
            devices.join(", ")
        ),
        &params,
    )?;
    let last = last_backup(&conn, &a.database, "D")?;
    Ok((
        format!("full backup of {} in {} blob(s)", a.database, a.urls.len()),
        json!({ "last_lsn": last.0, "urls": a.urls }),
    ))
}

/// (last LSN, size in bytes) of the newest backup of `kind` of `db`, from msdb.
fn last_backup(conn: &Connection, db: &str, kind: &str) -> Result<(String, f64), Error> {
    let rows = first_result(
        conn,
        "SELECT TOP (1) last_lsn, backup_size FROM msdb.dbo.backupset WHERE database_name = @db AND type = @t ORDER BY backup_set_id DESC",
        &[text_param("db", db), text_param("t", kind)],
    )?;
    match rows.iter().next() {
        Some(r) => Ok((r.get::<String>("last_lsn")?, r.get::<f64>("backup_size")?)),
        None => Err(invalid_input(format!(
            "msdb has no backup of {db} of type {kind}"
        ))),
    }
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

/// Ships log backups every `interval_s` until the cutover is asked for, reporting the lag.
fn replicate(a: &Args) -> Result<(String, Value), Error> {
    let conn = sql::connect(SOURCE)?;
    let slice_ms = 200u64;
    let mut next_backup = clock::now();
    loop {
        if state::get(&cutover_key(&a.database))?.is_some() {
            let list = shipped(&a.database)?;
            return Ok((
                format!("{} log backups shipped; cutover asked for", list.len()),
                json!({ "log_backups": list.len(), "last_lsn": list.last().map(|s| s.last_lsn.clone()) }),
            ));
        }
        if clock::now() >= next_backup {
            ship_one(&conn, a)?;
            report_lag(a)?;
            next_backup = clock::now() + (a.interval_s * 1000.0) as u64;
        }
        clock::sleep(slice_ms);
    }
}

/// Takes one log backup into the folder under a number reserved first, so a crash between the
/// reservation and the backup leaves a gap in the numbering, never two files with one name.
fn ship_one(conn: &Connection, a: &Args) -> Result<(), Error> {
    let key = format!("log_seq/{}", a.database);
    let seq: u64 = state::get(&key)?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
        + 1;
    state::set(&key, seq.to_string().as_bytes())?;
    let file = format!("{}_log_{seq:06}.trn", a.folder);
    let compression = if a.compression { ", COMPRESSION" } else { "" };
    let r = conn.execute(
        &format!("BACKUP LOG @db TO URL = @u WITH CHECKSUM{compression}"),
        &[
            text_param("db", &a.database),
            text_param("u", &format!("{}/{file}", a.folder_url)),
        ],
    );
    match r {
        Ok(_) => {}
        // The name is taken (an earlier attempt wrote it before crashing): the next number.
        Err(Error::SqlError(e)) if e.number == 3271 => return ship_one(conn, a),
        Err(e) => return Err(e),
    }
    let (last_lsn, bytes) = last_backup(conn, &a.database, "L")?;
    let mut list = shipped(&a.database)?;
    if let Some(previous) = list.last() {
        check_chain(conn, &a.database, &a.folder_url, &previous.last_lsn)?;
    }
    list.push(Shipped {
        file,
        last_lsn,
        bytes,
        at_ms: clock::now(),
    });
    let keep = list.len().saturating_sub(500);
    state::set(
        &format!("shipped/{}", a.database),
        &serde_json::to_vec(&list[keep..]).expect("serializes"),
    )?;
    Ok(())
}

/// The log chain, checked in msdb's history: the backup just taken must start where the last
/// one shipped ended — or where backups into the migration folder that a killed run took and did
/// not record ended. A log backup taken anywhere else (the source's own job) leaves a gap LRS,
/// which restores only the folder, cannot cross: say where those backups went.
fn check_chain(
    conn: &Connection,
    db: &str,
    folder_url: &str,
    previous_last: &str,
) -> Result<(), Error> {
    let rows = first_result(
        conn,
        "SELECT TOP (50) bs.first_lsn, bs.last_lsn, mf.physical_device_name FROM msdb.dbo.backupset bs \
         JOIN msdb.dbo.backupmediafamily mf ON mf.media_set_id = bs.media_set_id \
         WHERE bs.database_name = @db AND bs.type = 'L' ORDER BY bs.backup_set_id DESC",
        &[text_param("db", db)],
    )?;
    let lsn = |s: &str| s.trim_end_matches(".0").parse::<u128>().unwrap_or(0);
    let mut log: Vec<(u128, u128, String)> = Vec::new();
    for r in rows.iter() {
        log.push((
            lsn(&r.get::<String>("first_lsn")?),
            lsn(&r.get::<String>("last_lsn")?),
            r.get::<String>("physical_device_name")?,
        ));
    }
    let Some((first, _, _)) = log.first().cloned() else {
        return Ok(());
    };
    let previous = lsn(previous_last);
    // Walk from the last one shipped to the newest through backups in the folder.
    let mut point = previous;
    while point != first {
        match log
            .iter()
            .skip(1)
            .find(|(f, l, d)| *f == point && *l > point && d.starts_with(folder_url))
        {
            Some((_, l, _)) => point = *l,
            None => break,
        }
    }
    if point == first {
        return Ok(());
    }
    let elsewhere: Vec<String> = log
        .iter()
        .skip(1)
        .filter(|(f, l, d)| *f >= point && *l <= first && !d.starts_with(folder_url))
        .map(|(_, _, device)| device.clone())
        .collect();
    Err(invalid_input(format!(
        "{db}: the log chain has a gap from LSN {point} to {first}: log backups were taken outside sqlmig ({}); \
         LRS restores only the migration folder. Pause the source's log backup jobs, then start the migration of {db} again",
        if elsewhere.is_empty() {
            "msdb does not say where".to_string()
        } else {
            elsewhere.join(", ")
        }
    )))
}

/// How far LRS is behind: the log backups shipped after the last one it restored.
fn report_lag(a: &Args) -> Result<(), Error> {
    let d = lrs::details(&a.database_url)?;
    if d["status"].as_str() == Some("Failed") {
        return Err(invalid_input(format!(
            "the Log Replay Service failed for {}: {}",
            a.target_name, d["blockReason"]
        )));
    }
    let list = shipped(&a.database)?;
    let restored = d["lastRestoredFileName"].as_str().unwrap_or_default();
    let behind: Vec<&Shipped> = match list.iter().position(|s| restored.ends_with(&s.file)) {
        Some(i) => list[i + 1..].iter().collect(),
        None => list.iter().collect(),
    };
    let lag_s = behind.first().map_or(0.0, |s| {
        (clock::now().saturating_sub(s.at_ms)) as f64 / 1000.0
    });
    let lag_mb: f64 = behind.iter().map(|s| s.bytes).sum::<f64>() / 1048576.0;
    let message = format!(
        "{}: {} log backups shipped (to LSN {}), {} behind: {lag_s:.0} s, {lag_mb:.1} MB",
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

/// The tail of the log, the last restore, the database online on MI, its rows compared.
fn cutover(a: &Args) -> Result<(String, Value), Error> {
    let source = sql::connect(SOURCE)?;
    let tail = format!("{}_tail.trn", a.folder);
    let sums_key = format!("sums/{}", a.database);
    let tail_key = format!("tail_at/{}", a.database);
    match database_state(&source, &a.database)?.as_deref() {
        Some("ONLINE") => {
            // The application is stopped: what the source holds now is what must arrive.
            let sums = table_sums(&source, &a.database)?;
            let kept: Vec<Value> = sums
                .iter()
                .map(|t| json!([t.table, t.rows, t.checksum]))
                .collect();
            state::set(&sums_key, &serde_json::to_vec(&kept).expect("serializes"))?;
            state::set(&tail_key, clock::now().to_string().as_bytes())?;
            source.execute(
                "BACKUP LOG @db TO URL = @u WITH NORECOVERY, CHECKSUM, FORMAT",
                &[
                    text_param("db", &a.database),
                    text_param("u", &format!("{}/{tail}", a.folder_url)),
                ],
            )?;
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
    let started: u64 = state::get(&tail_key)?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(clock::now);
    lrs::complete(&a.database_url, &tail)?;
    let target = sql::connect(TARGET)?;
    loop {
        let d = lrs::details(&a.database_url)?;
        match d["status"].as_str() {
            Some("Completed")
                if database_state(&target, &a.target_name)?.as_deref() == Some("ONLINE") =>
            {
                break;
            }
            Some("Failed") => {
                return Err(invalid_input(format!(
                    "the Log Replay Service failed to complete {}: {}",
                    a.target_name, d["blockReason"]
                )));
            }
            _ => clock::sleep(250),
        }
        if clock::now().saturating_sub(started) > 6 * 3600 * 1000 {
            return Err(Error::Timeout(format!(
                "{} did not come online within 6 h of the tail backup",
                a.target_name
            )));
        }
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
        json!({ "ok": ok, "downtime_s": downtime_s, "rows": rows, "differences": diffs, "tail": tail }),
    ))
}
