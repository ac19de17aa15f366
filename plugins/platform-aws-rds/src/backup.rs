//! RDS's route for native backups into the migration's container: the instance cannot write to
//! Azure, so `msdb.dbo.rds_backup_database` writes the backup to the operator's S3 bucket (with
//! the IAM role of the option group's `SQLSERVER_BACKUP_RESTORE`), `rds_task_status` is polled
//! until the task ends, and each file is copied into the container by the host
//! (`blob.copy-from`, through a pre-signed URL that never leaves the host).

use serde::Deserialize;
use serde_json::{Value, json};
use sqlmig_plugin_sdk::method::{
    answer_offer, step_again, step_args, step_request, step_result, text,
};
use sqlmig_plugin_sdk::protocol::migration::{BackupOffer, CONTAINER, SOURCE, StepKind};
use sqlmig_plugin_sdk::tsql::{first_result, text_param};
use sqlmig_plugin_sdk::{Error, blob, clock, invalid_input, log, sql, state, unsupported};

use crate::aws::{Aws, S3Object};

/// RDS writes at most this many files per backup.
const MAX_FILES: u32 = 10;
/// How long a pre-signed URL lets the host read a backup file.
const PRESIGN_SECONDS: u64 = 12 * 3600;
/// How often a running task is asked about.
const POLL_MS: u64 = 2000;

/// Answers a backup-offer request: the route, once the operator named the bucket and the
/// instance's option group allows native backups.
pub fn offer(request: &str) -> Result<String, Error> {
    answer_offer(
        request,
        &["s3_bucket", "s3_prefix"],
        "platform-aws-rds",
        |req| {
            let bucket = text(&req.options, "s3_bucket").ok_or_else(|| {
                invalid_input(
                    "RDS writes native backups to S3 first: name the bucket with --source-option \
                     s3_bucket=NAME (one the option group's SQLSERVER_BACKUP_RESTORE role may write)",
                )
            })?;
            let prefix = text(&req.options, "s3_prefix")
                .unwrap_or("sqlmig")
                .trim_matches('/')
                .to_string();
            if let Some(group) = req
                .cloud
                .as_ref()
                .and_then(|c| c.properties.get("OptionGroupName"))
            {
                check_option_group(&req.instance, group)?;
            }
            Ok(BackupOffer {
                route: format!(
                    "msdb.dbo.rds_backup_database to s3://{bucket}/{prefix}/, copied into the container by sqlmig"
                ),
                kinds: vec!["full".into(), "diff".into(), "log".into()],
                max_stripes: MAX_FILES,
                parameters: json!({ "s3_bucket": bucket, "s3_prefix": prefix }),
                ..Default::default()
            })
        },
    )
}

/// Refuses an instance whose option group lacks `SQLSERVER_BACKUP_RESTORE`: RDS would refuse
/// every backup.
fn check_option_group(instance: &str, groups: &str) -> Result<(), Error> {
    if crate::collect::native_backup_option(groups)? {
        return Ok(());
    }
    Err(invalid_input(format!(
        "RDS instance {instance}: its option group ({groups}) has no SQLSERVER_BACKUP_RESTORE \
         option, so RDS refuses native backups; add the option (with an IAM role that may write \
         the bucket) to a custom option group and apply it to the instance"
    )))
}

#[derive(Deserialize)]
struct BackupArgs {
    database: String,
    /// `full` or `diff`.
    #[serde(rename = "type")]
    kind: String,
    stripes: u32,
    /// The container blobs the files become, stripe by stripe.
    blobs: Vec<String>,
    route: Route,
}

#[derive(Deserialize)]
pub struct Route {
    pub s3_bucket: String,
    pub s3_prefix: String,
}

/// Runs a step request: `backup`, and for an online migration `ship-logs` (rounds until the
/// cutover is asked for) and `final-log`.
pub fn run_step(request: &str) -> Result<String, Error> {
    use crate::logs::{self, Round};
    let req = step_request(request)?;
    let (message, output) = match req.step.kind {
        StepKind::Backup => backup(&req.step.id, &step_args(&req)?, req.resumed)?,
        StepKind::ShipLogs => match logs::ship(&step_args(&req)?)? {
            Round::Again(message, output) => return Ok(step_again(message, output)),
            Round::Done(message, output) => (message, output),
        },
        StepKind::FinalLog => logs::final_log(&step_args(&req)?)?,
        other => {
            return Err(unsupported(&format!(
                "step kind {other} (platform-aws-rds runs backup, ship-logs, final-log)"
            )));
        }
    };
    Ok(step_result(message, output))
}

/// The S3 key RDS writes stripe `n` of `of` to, for the ARN's object name `pattern`.
fn stripe_key(pattern: &str, n: u32, of: u32) -> String {
    if of > 1 {
        pattern.replacen('*', &format!("{n}-of-{of}"), 1)
    } else {
        pattern.to_string()
    }
}

fn backup(step_id: &str, a: &BackupArgs, resumed: bool) -> Result<(String, Value), Error> {
    if a.blobs.len() != a.stripes as usize || a.stripes == 0 || a.stripes > MAX_FILES {
        return Err(invalid_input(format!(
            "backup of {}: {} stripe(s) for {} blob(s); RDS writes 1 to {MAX_FILES} files",
            a.database,
            a.stripes,
            a.blobs.len()
        )));
    }
    let (rds_type, word) = match a.kind.as_str() {
        "full" => ("FULL", "full"),
        "diff" => ("DIFFERENTIAL", "diff"),
        other => {
            return Err(unsupported(&format!(
                "backup type {other} (RDS's native backups are full or differential)"
            )));
        }
    };
    let folder = a.blobs[0].rsplit_once('/').map_or("", |(d, _)| d);
    // RDS names the files of a striped backup by the `*` of the name: `_1-of-3`, `_2-of-3`…
    let stripes = if a.stripes > 1 { "_*" } else { "" };
    let pattern = format!(
        "{}/{folder}/{folder}_{word}{stripes}.bak",
        a.route.s3_prefix
    )
    .replace("//", "/");
    let arn = format!("arn:aws:s3:::{}/{pattern}", a.route.s3_bucket);
    let conn = sql::connect(SOURCE)?;
    let key = format!("rds-task/{step_id}");
    // After a crash, the task the earlier attempt started is followed instead of starting
    // another; one that failed is started again.
    let known: Option<i64> = state::get(&key)?
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.parse().ok());
    let mut task = match known.filter(|_| resumed) {
        Some(id) => {
            let (lifecycle, _, _) = task_status(&conn, id)?;
            (lifecycle != "ERROR" && lifecycle != "CANCELLED").then_some(id)
        }
        None => None,
    };
    if task.is_none() {
        log::info(&format!("asking RDS to back {} up to {arn}", a.database));
        let rows = first_result(
            &conn,
            "exec msdb.dbo.rds_backup_database @source_db_name = @db, \
             @s3_arn_to_backup_to = @arn, @overwrite_s3_backup_file = 1, @type = @type, \
             @number_of_files = @files",
            &[
                text_param("db", &a.database),
                text_param("arn", &arn),
                text_param("type", rds_type),
                sql::Param {
                    name: "files".into(),
                    value: sql::SqlValue::Int(i64::from(a.stripes)),
                },
            ],
        )?;
        let id: i64 = rows
            .iter()
            .next()
            .ok_or_else(|| Error::Unavailable("rds_backup_database answered no task".into()))?
            .get("task_id")?;
        state::set(&key, id.to_string().as_bytes())?;
        task = Some(id);
    }
    let id = task.expect("set above");
    wait_for(&conn, id, &a.database)?;

    let aws = Aws::from_operator()?;
    let prefix = pattern
        .split('*')
        .next()
        .unwrap_or_default()
        .trim_end_matches(".bak");
    let objects = aws.s3_list(&a.route.s3_bucket, prefix)?;
    let container = blob::open(CONTAINER)?;
    let mut bytes = 0;
    let mut files = Vec::new();
    for (n, blob_name) in (1..=a.stripes).zip(&a.blobs) {
        let key = stripe_key(&pattern, n, a.stripes);
        let object: &S3Object = objects.iter().find(|o| o.key == key).ok_or_else(|| {
            Error::NotFound(format!(
                "RDS task {id} succeeded but s3://{}/{key} is not there",
                a.route.s3_bucket
            ))
        })?;
        let report = container.copy_from(
            blob_name,
            &blob::CopySource {
                url: aws.presigned_get(&a.route.s3_bucket, &key, PRESIGN_SECONDS)?,
                headers: Vec::new(),
                size: object.size,
                md5: object.md5(),
            },
        )?;
        bytes += report.bytes;
        files.push(json!({
            "s3": format!("s3://{}/{key}", a.route.s3_bucket),
            "blob": blob_name,
            "bytes": report.bytes,
            "md5": report.md5,
            "blocks_skipped": report.blocks_skipped,
        }));
    }
    // A full starts the log chain an online migration ships: logs ending before it are not
    // needed. Read back from the copies, as the restore will read them.
    if a.kind == "full" {
        let full = sqlmig_plugin_sdk::backups::check_full(&container, &a.blobs, &a.database)?;
        state::set(
            &crate::logs::full_lsn_key(&a.database),
            full.last_lsn.to_string().as_bytes(),
        )?;
    }
    Ok((
        format!(
            "{} backed up by RDS (task {id}) and {} file(s), {bytes} bytes, copied from s3://{}/{prefix}* into the container",
            a.database,
            files.len(),
            a.route.s3_bucket
        ),
        json!({ "rds_task_id": id, "bytes": bytes, "files": files }),
    ))
}

/// `lifecycle`, `% complete` and `task_info` of RDS task `id`.
fn task_status(conn: &sql::Connection, id: i64) -> Result<(String, i64, String), Error> {
    let rows = first_result(
        conn,
        "exec msdb.dbo.rds_task_status @task_id = @id",
        &[sql::Param {
            name: "id".into(),
            value: sql::SqlValue::Int(id),
        }],
    )?;
    let row = rows
        .iter()
        .next()
        .ok_or_else(|| Error::NotFound(format!("RDS knows no task {id}")))?;
    Ok((
        row.get("lifecycle")?,
        row.get::<i64>("% complete").unwrap_or(0),
        row.get::<String>("task_info").unwrap_or_default(),
    ))
}

/// Polls task `id` until it ends; its `task_info` explains a failure.
pub fn wait_for(conn: &sql::Connection, id: i64, database: &str) -> Result<(), Error> {
    loop {
        let (lifecycle, percent, info) = task_status(conn, id)?;
        match lifecycle.as_str() {
            "SUCCESS" => return Ok(()),
            "ERROR" | "CANCELLED" | "CANCEL_REQUESTED" => {
                let said: Vec<&str> = info.lines().rev().take(3).collect();
                return Err(Error::InvalidInput(format!(
                    "RDS backup task {id} of {database} ended {lifecycle}: {}",
                    said.into_iter().rev().collect::<Vec<_>>().join(" ")
                )));
            }
            _ => {
                sqlmig_plugin_sdk::log::progress(
                    percent.max(0) as u64,
                    Some(100),
                    &format!("RDS backup of {database} ({lifecycle})"),
                );
                clock::sleep(POLL_MS);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripes_are_named_as_rds_names_them() {
        assert_eq!(
            stripe_key("sqlmig/Sales/Sales_full_*.bak", 2, 3),
            "sqlmig/Sales/Sales_full_2-of-3.bak"
        );
        assert_eq!(
            stripe_key("sqlmig/Sales/Sales_full.bak", 1, 1),
            "sqlmig/Sales/Sales_full.bak"
        );
    }
}
