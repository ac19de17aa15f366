//! RDS's route for the log: RDS backs each database's log up on its own every five minutes
//! (nobody may run BACKUP LOG there), and copies those backups to S3 when asked
//! (`rds_tlog_backup_copy_to_S3`, listed by `rds_fn_list_tlog_backup_metadata`). Shipping copies
//! each new one into the migration folder, in sequence, for MI's Log Replay Service; at the
//! cutover the last one shipped must have been taken after the cutover was asked for (the
//! application stopped), which stands in for the tail-log backup RDS does not allow.

use serde::Deserialize;
use serde_json::{Value, json};
use sqlmig_plugin_sdk::backup_statement::log_backup_name;
use sqlmig_plugin_sdk::backups::format::Lsn;
use sqlmig_plugin_sdk::protocol::migration::{CONTAINER, SOURCE, cutover_key};
use sqlmig_plugin_sdk::sql::{self, Connection, Param, SqlValue};
use sqlmig_plugin_sdk::tsql::{first_result, text_param};
use sqlmig_plugin_sdk::{Error, blob, clock, invalid_input, log, state};

use crate::aws::{Aws, S3Object};
use crate::backup::{Route, wait_for};

#[derive(Deserialize)]
pub struct ShipArgs {
    database: String,
    /// The migration folder in the container.
    folder: String,
    #[serde(default)]
    interval_s: f64,
    #[serde(default = "default_round_s")]
    round_s: f64,
    route: Route,
    /// Longest wait, at the cutover, for RDS's first log backup after the request.
    #[serde(default = "default_final_wait_s")]
    final_wait_s: f64,
}

fn default_round_s() -> f64 {
    3600.0
}

fn default_final_wait_s() -> f64 {
    // RDS's cadence is five minutes: three of them.
    900.0
}

/// Where the full backup's last LSN is kept: logs ending before it are not needed.
pub fn full_lsn_key(db: &str) -> String {
    format!("full_lsn/{db}")
}

fn shipped_key(db: &str) -> String {
    format!("shipped_seq/{db}")
}

fn cutover_requested(db: &str) -> Result<Option<u64>, Error> {
    Ok(state::get(&cutover_key(db))?.map(|v| String::from_utf8_lossy(&v).parse().unwrap_or(0)))
}

/// How a call of the shipping step ended.
pub enum Round {
    Done(String, Value),
    Again(String, Value),
}

/// Ships RDS's new log backups every `interval_s` until the cutover is asked for; hands back to
/// the host after `round_s`.
pub fn ship(a: &ShipArgs) -> Result<Round, Error> {
    let conn = sql::connect(SOURCE)?;
    setup(&conn, &a.route)?;
    let started = clock::now();
    let interval_ms = (a.interval_s.max(1.0) * 1000.0) as u64;
    let mut next = started;
    loop {
        let output = || -> Result<(i64, Value), Error> {
            let shipped = last_shipped(&a.database)?;
            Ok((shipped, json!({ "last_seq": shipped })))
        };
        if cutover_requested(&a.database)?.is_some() {
            let (shipped, output) = output()?;
            return Ok(Round::Done(
                format!("shipped to RDS log backup {shipped}; cutover asked for"),
                output,
            ));
        }
        if clock::now() >= next {
            ship_new(&conn, a)?;
            next = clock::now() + interval_ms;
        }
        if clock::now().saturating_sub(started) >= (a.round_s.max(0.1) * 1000.0) as u64 {
            let (shipped, output) = output()?;
            return Ok(Round::Again(
                format!("shipped to RDS log backup {shipped}; replicating on"),
                output,
            ));
        }
        clock::sleep(200);
    }
}

/// A shipped log backup, as the state keeps the newest.
#[derive(serde::Serialize, Deserialize)]
struct Shipped {
    seq: i64,
    epoch: i64,
    file: String,
    /// Where the backup ends (decimal LSN).
    ending_lsn: String,
}

/// What a log backup must reach to hold every write made before the cutover.
enum Quiesced {
    /// The source's end of log when the cutover began (`sys.dm_db_log_stats`): exact.
    Lsn(Lsn),
    /// Without that DMV: a backup RDS stamped a later second than the request.
    After { requested_ms: u64 },
}

impl Quiesced {
    fn reached_by(&self, s: &Shipped) -> bool {
        match self {
            // `end` is the last record's LSN (sys.dm_db_log_stats: "log sequence number (LSN)
            // of the last log record"); a backup's ending LSN is the record after it (backupset's
            // last_lsn: "the next log record after the backup set"). A backup holds the last
            // record only when it ends past it: one ending at it stops just before.
            Quiesced::Lsn(end) => s.ending_lsn.parse::<Lsn>().is_ok_and(|l| l > *end),
            Quiesced::After { requested_ms } => s.epoch > (*requested_ms / 1000) as i64,
        }
    }
}

/// `VLF:block:slot` in hex, as the DMVs print an LSN, in the decimal form backups use.
fn lsn_from_hex(text: &str) -> Option<Lsn> {
    let parts: Vec<u128> = text
        .split(':')
        .map(|p| u128::from_str_radix(p.trim(), 16).ok())
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [vlf, block, slot] => Some(Lsn(vlf * 1_000_000_000_000_000 + block * 100_000 + slot)),
        _ => None,
    }
}

/// Where the source's log ended when the cutover began (the application stopped), kept across
/// a resumed attempt; the request's time when the server cannot say (no `sys.dm_db_log_stats`).
fn quiesce_point(conn: &Connection, db: &str, requested_ms: u64) -> Result<Quiesced, Error> {
    let key = format!("final_lsn/{db}");
    if let Some(lsn) = state::get(&key)?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.parse().ok())
    {
        return Ok(Quiesced::Lsn(lsn));
    }
    let end = first_result(
        conn,
        "SELECT log_end_lsn FROM sys.dm_db_log_stats(DB_ID(@db))",
        &[text_param("db", db)],
    )
    .ok()
    .and_then(|rows| {
        rows.iter()
            .next()
            .and_then(|r| r.get::<String>("log_end_lsn").ok())
            .and_then(|t| lsn_from_hex(&t))
    });
    match end {
        Some(lsn) => {
            state::set(&key, lsn.to_string().as_bytes())?;
            Ok(Quiesced::Lsn(lsn))
        }
        None => {
            log::warn(&format!(
                "{db}: sys.dm_db_log_stats is not readable; the last log is the first RDS stamped after the cutover request"
            ));
            Ok(Quiesced::After { requested_ms })
        }
    }
}

/// At the cutover: ships until a log backup holding every write made before the cutover was
/// asked for is in the folder (one reaching the end of the source's log then), and names it.
pub fn final_log(a: &ShipArgs) -> Result<(String, Value), Error> {
    let requested_ms = cutover_requested(&a.database)?.ok_or_else(|| {
        invalid_input(format!(
            "the cutover of {} was not asked for: sqlmig migrate cutover PLAN {}",
            a.database, a.database
        ))
    })?;
    let conn = sql::connect(SOURCE)?;
    setup(&conn, &a.route)?;
    let quiesced = quiesce_point(&conn, &a.database, requested_ms)?;
    let waited_from = clock::now();
    loop {
        ship_new(&conn, a)?;
        if let Some(s) = newest_shipped(&a.database)?.filter(|s| quiesced.reached_by(s)) {
            return Ok((
                format!(
                    "{}: RDS log backup {} (to LSN {}, taken after the cutover was asked for) shipped as {}",
                    a.database, s.seq, s.ending_lsn, s.file
                ),
                json!({ "last_seq": s.seq, "last_file": s.file, "ending_lsn": s.ending_lsn }),
            ));
        }
        if clock::now().saturating_sub(waited_from) > (a.final_wait_s * 1000.0) as u64 {
            return Err(Error::Timeout(format!(
                "{}: RDS took no log backup within {:.0} s of the cutover request; check its \
                 automated backups (backup retention above 0) and run the cutover again",
                a.database, a.final_wait_s
            )));
        }
        sqlmig_plugin_sdk::log::progress(
            0,
            None,
            &format!(
                "{}: waiting for RDS's next log backup (every five minutes)",
                a.database
            ),
        );
        clock::sleep(1000);
    }
}

/// Names the S3 folder RDS copies log backups to, unless it is named so already: RDS refuses
/// setting the ARN it has ("The target S3 ARN is already set to the provided value.",
/// USER.SQLServer.AddlFeat.TransactionLogAccess.md), which it shows with
/// `rds_show_configuration @name='target_s3_arn_for_tlog_copy'`.
fn setup(conn: &Connection, route: &Route) -> Result<(), Error> {
    let arn = tlog_arn(route);
    let set = first_result(
        conn,
        "exec rdsadmin.dbo.rds_show_configuration @name = N'target_s3_arn_for_tlog_copy'",
        &[],
    )?;
    let current = set
        .iter()
        .next()
        .and_then(|r| r.get::<Option<String>>("value").ok().flatten());
    if current.as_deref().map(|c| c.trim_end_matches('/')) == Some(arn.as_str()) {
        return Ok(());
    }
    conn.execute(
        "exec msdb.dbo.rds_tlog_copy_setup @target_s3_arn = @arn",
        &[text_param("arn", &arn)],
    )?;
    Ok(())
}

fn tlog_arn(route: &Route) -> String {
    format!("arn:aws:s3:::{}/{}/tlogs", route.s3_bucket, route.s3_prefix)
}

/// The newest log backup shipped.
fn newest_shipped(db: &str) -> Result<Option<Shipped>, Error> {
    Ok(state::get(&shipped_key(db))?.and_then(|v| serde_json::from_slice(&v).ok()))
}

fn last_shipped(db: &str) -> Result<i64, Error> {
    Ok(newest_shipped(db)?.map_or(0, |s| s.seq))
}

/// Copies the log backups RDS took since the last one shipped into the folder, in sequence,
/// recording each as it lands.
fn ship_new(conn: &Connection, a: &ShipArgs) -> Result<(), Error> {
    let full: Lsn = state::get(&full_lsn_key(&a.database))?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            invalid_input(format!(
                "{}: no full backup is recorded for the migration; take it again: sqlmig migrate run PLAN --redo {}/backup-full",
                a.database, a.database
            ))
        })?;
    let after = last_shipped(&a.database)?;
    let rows = first_result(
        conn,
        "SELECT rds_backup_seq_id, backup_file_epoch, ending_lsn, is_log_chain_broken, db_id, \
         family_guid FROM msdb.dbo.rds_fn_list_tlog_backup_metadata(@db) \
         WHERE rds_backup_seq_id > @after ORDER BY rds_backup_seq_id",
        &[
            text_param("db", &a.database),
            Param {
                name: "after".into(),
                value: SqlValue::Int(after),
            },
        ],
    )?;
    let mut wanted = Vec::new();
    for r in rows.iter() {
        let seq: i64 = r.get("rds_backup_seq_id")?;
        if r.get::<i64>("is_log_chain_broken").unwrap_or(0) != 0 {
            return Err(invalid_input(format!(
                "{}: RDS reports its log chain broken at log backup {seq}; LRS cannot go on: \
                 take the full backup again (sqlmig migrate run PLAN --redo {}/backup-full)",
                a.database, a.database
            )));
        }
        let ending: Lsn = r
            .get::<String>("ending_lsn")?
            .parse()
            .map_err(|e: String| Error::Unavailable(e))?;
        let family = format!(
            "{}.{}",
            r.get::<i64>("db_id")?,
            r.get::<String>("family_guid")?
        );
        // Log backups that end before the full do not apply after it.
        if ending > full {
            wanted.push((seq, r.get::<i64>("backup_file_epoch")?, family, ending));
        }
    }
    let (Some(first), Some(last)) = (wanted.first(), wanted.last()) else {
        return Ok(());
    };
    let task_rows = first_result(
        conn,
        "exec msdb.dbo.rds_tlog_backup_copy_to_S3 @db_name = @db, \
         @rds_backup_starting_seq_id = @first, @rds_backup_ending_seq_id = @last",
        &[
            text_param("db", &a.database),
            Param {
                name: "first".into(),
                value: SqlValue::Int(first.0),
            },
            Param {
                name: "last".into(),
                value: SqlValue::Int(last.0),
            },
        ],
    )?;
    let task: i64 = task_rows
        .iter()
        .next()
        .ok_or_else(|| Error::Unavailable("rds_tlog_backup_copy_to_S3 answered no task".into()))?
        .get("task_id")?;
    wait_for(conn, task, &a.database)?;
    let aws = Aws::from_operator()?;
    let container = blob::open(CONTAINER)?;
    // One listing per log family folder (one, unless the chain restarted), not one per file.
    let mut objects: Vec<S3Object> = Vec::new();
    let mut listed: Vec<&String> = Vec::new();
    for (_, _, family, _) in &wanted {
        if !listed.contains(&family) {
            let folder = format!("{}/tlogs/{family}/", a.route.s3_prefix);
            objects.extend(aws.s3_list(&a.route.s3_bucket, &folder)?);
            listed.push(family);
        }
    }
    for (seq, epoch, family, ending) in &wanted {
        let key = format!(
            "{}/tlogs/{family}/{family}.{seq}.{epoch}",
            a.route.s3_prefix
        );
        let object = objects.iter().find(|o| o.key == key).ok_or_else(|| {
            Error::NotFound(format!(
                "RDS copied log backup {seq} of {} but s3://{}/{key} is not there",
                a.database, a.route.s3_bucket
            ))
        })?;
        // Named as LRS restores them (`.log`), in the method's numbering.
        let file = log_backup_name(&a.folder, *seq as u64);
        container.copy_from(
            &format!("{}/{file}", a.folder),
            &blob::CopySource {
                url: aws.presigned_get(&a.route.s3_bucket, &key, 3600)?,
                headers: Vec::new(),
                size: object.size,
                md5: object.md5(),
            },
        )?;
        state::set(
            &shipped_key(&a.database),
            &serde_json::to_vec(&Shipped {
                seq: *seq,
                epoch: *epoch,
                file: file.clone(),
                ending_lsn: ending.to_string(),
            })
            .expect("serializes"),
        )?;
    }
    log::info(&format!(
        "{}: shipped RDS log backups {} to {}",
        a.database, first.0, last.0
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dmv_lsns_read_as_backup_lsns() {
        assert_eq!(
            lsn_from_hex("00000022:00000010:0001"),
            Some(Lsn(34_000_000_001_600_001))
        );
        assert_eq!(lsn_from_hex("nonsense"), None);
        let s = |lsn: &str, epoch| Shipped {
            seq: 1,
            epoch,
            file: "f".into(),
            ending_lsn: lsn.into(),
        };
        // The last record is at …1600001: a backup ending there ends just before it.
        let at = Quiesced::Lsn(Lsn(34_000_000_001_600_001));
        assert!(!at.reached_by(&s("34000000001600001", 9_999_999_999)));
        assert!(at.reached_by(&s("34000000001700001", 0)));
        assert!(!at.reached_by(&s("34000000001500001", 9_999_999_999)));
        let after = Quiesced::After {
            requested_ms: 1_000_500,
        };
        assert!(!after.reached_by(&s("0", 1000)) && after.reached_by(&s("0", 1001)));
    }
}
