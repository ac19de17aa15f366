//! Amazon RDS for SQL Server's native backup, in `rds` mode: `msdb.dbo.rds_backup_database`
//! starts a task that backs the database up (full or differential, striped over
//! `@number_of_files` files, the `*` in the object name becoming `1-of-N`…) and writes the files
//! to S3 (moto in tests) as RDS does with its IAM role; `msdb.dbo.rds_task_status` reports the
//! task's lifecycle (CREATED, IN_PROGRESS, SUCCESS, ERROR) with RDS's columns. Without the
//! option group's `SQLSERVER_BACKUP_RESTORE` the procedure refuses, as RDS does.
//!
//! And RDS's transaction-log backup access: RDS backs the log of every database in the full
//! recovery model up on its own, every `log_backup_interval_s` (five minutes on RDS), once the
//! database has a full backup; `msdb.dbo.rds_fn_list_tlog_backup_metadata(db)` lists those
//! backups (sequence id, epoch, LSNs), `msdb.dbo.rds_tlog_copy_setup @target_s3_arn` names the
//! S3 folder, and `msdb.dbo.rds_tlog_backup_copy_to_S3 @db_name, @rds_backup_starting_seq_id,
//! @rds_backup_ending_seq_id` copies them there as a task, named
//! `{db_id}.{family_guid}/{db_id}.{family_guid}.{seq}.{epoch}`.

use std::sync::Mutex;

use sha2::Digest;
use sqlparser::ast::{BinaryOperator, Expr};

use super::backup::device;
use super::{Engine, Outcome, Param, Session, errors};
use crate::instance::Platform;
use crate::tds::tokens::{ColumnMeta, ServerMessage};
use crate::tds::types::{ColumnType, Value};

/// One native backup task.
#[derive(Clone, Debug)]
struct Task {
    id: i64,
    /// `BACKUP_DB`, `BACKUP_DB_DIFFERENTIAL`.
    task_type: String,
    database: String,
    arn: String,
    overwrite: bool,
    lifecycle: String,
    percent: i64,
    info: String,
    created_at: String,
    last_updated: String,
}

/// The instance's tasks, its automated log backups and where they are copied.
#[derive(Default)]
pub struct Tasks {
    tasks: Mutex<Vec<Task>>,
    logs: Mutex<Vec<LogBackup>>,
    tlog_target: Mutex<Option<String>>,
}

/// One of RDS's automated log backups.
#[derive(Clone, Debug)]
struct LogBackup {
    database: String,
    db_id: i64,
    family_guid: String,
    seq: i64,
    epoch: i64,
    path: std::path::PathBuf,
}

/// The metadata function's table (read by `rds_fn_list_tlog_backup_metadata(db)`).
pub const TLOG_METADATA: &str = "dbo.rds_fn_list_tlog_backup_metadata";

/// Creates the metadata function's table in msdb (`rds` mode).
pub fn install(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS msdb.\"{TLOG_METADATA}\" (
             db_name TEXT, db_id INTEGER, family_guid TEXT, rds_backup_seq_id INTEGER,
             backup_file_epoch INTEGER, backup_type TEXT, starting_lsn NUMERIC,
             ending_lsn NUMERIC, is_log_chain_broken INTEGER, file_size_bytes INTEGER,
             Error TEXT)"
    ))
}

fn timestamp() -> String {
    super::scalar::now()
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

fn rds_error(line: i32, text: impl Into<String>) -> ServerMessage {
    errors::error(50000, 16, line, text)
}

/// The arguments of a call, by name (`@source_db_name = 'x'`) or position.
fn named(
    engine: &Engine,
    session: &mut Session,
    parameters: &[Expr],
    names: &[&str],
    line: i32,
    vars: &[Param],
) -> Result<Vec<Option<Value>>, ServerMessage> {
    let mut out = vec![None; names.len()];
    for (i, p) in parameters.iter().enumerate() {
        let (slot, expr) = match p {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } if left.to_string().starts_with('@') => {
                let name = left.to_string().to_ascii_lowercase();
                let slot = names.iter().position(|n| *n == name).ok_or_else(|| {
                    errors::error(
                        8145,
                        16,
                        line,
                        format!("{name} is not a parameter for this procedure."),
                    )
                })?;
                (slot, right.as_ref())
            }
            e => (i, e),
        };
        if slot < out.len() {
            out[slot] = Some(engine.evaluate(session, expr, None, line, vars)?);
        }
    }
    Ok(out)
}

/// A database's log family GUID: stable for the database, as RDS's is until its chain breaks.
fn family_guid(db: &str) -> String {
    let h = sha2::Sha256::digest(db.to_ascii_lowercase().as_bytes());
    let x: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// An LSN as SQL Server prints it (decimal).
fn lsn_text(v: &Value) -> String {
    match v {
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => format!("{r:.0}"),
        Value::Text(t) => t.clone(),
        _ => String::new(),
    }
}

fn text(v: &Option<Value>) -> Option<String> {
    match v {
        Some(Value::Text(t)) => Some(t.clone()),
        Some(Value::Integer(i)) => Some(i.to_string()),
        _ => None,
    }
}

impl Engine {
    /// `msdb.dbo.rds_*` procedures in `rds` mode; `None` for any other procedure or platform.
    pub(super) fn rds_procedure(
        &self,
        proc: &str,
        session: &mut Session,
        parameters: &[Expr],
        line: i32,
        vars: &[Param],
    ) -> Option<Result<Vec<Outcome>, ServerMessage>> {
        if self.instance.platform != Platform::Rds {
            return None;
        }
        // Each procedure's parameters, in RDS's order (a call may also pass them by position).
        let names: &[&str] = match proc {
            "rds_backup_database" => &[
                "@source_db_name",
                "@s3_arn_to_backup_to",
                "@kms_master_key_arn",
                "@overwrite_s3_backup_file",
                "@type",
                "@number_of_files",
            ],
            "rds_task_status" => &["@db_name", "@task_id"],
            "rds_tlog_copy_setup" => &["@target_s3_arn"],
            "rds_show_configuration" => &["@name"],
            "rds_tlog_backup_copy_to_s3" => &[
                "@db_name",
                "@rds_backup_starting_seq_id",
                "@rds_backup_ending_seq_id",
            ],
            _ => return None,
        };
        let a = match named(self, session, parameters, names, line, vars) {
            Ok(a) => a,
            Err(e) => return Some(Err(e)),
        };
        Some(match proc {
            "rds_backup_database" => self.rds_backup(&a, line),
            "rds_task_status" => Ok(vec![self.rds_task_status(&a)]),
            "rds_tlog_copy_setup" => self.rds_tlog_copy_setup(&a, line),
            "rds_show_configuration" => Ok(vec![self.rds_show_configuration(&a)]),
            _ => self.rds_tlog_copy(&a, line),
        })
    }

    fn rds_backup(&self, a: &[Option<Value>], line: i32) -> Result<Vec<Outcome>, ServerMessage> {
        let rds = self.instance.rds.clone();
        if !rds.as_ref().is_some_and(|r| r.backup_restore_option) {
            return Err(rds_error(
                line,
                "Native backup and restore is not enabled on this instance: add the \
                 SQLSERVER_BACKUP_RESTORE option to its option group.",
            ));
        }
        let (Some(db), Some(arn)) = (text(&a[0]), text(&a[1])) else {
            return Err(rds_error(
                line,
                "@source_db_name and @s3_arn_to_backup_to are required.",
            ));
        };
        let Some(database) = self.database(&db) else {
            return Err(rds_error(line, format!("Database [{db}] does not exist.")));
        };
        let backup_type = text(&a[4])
            .unwrap_or_else(|| "FULL".into())
            .to_ascii_uppercase();
        if backup_type != "FULL" && backup_type != "DIFFERENTIAL" {
            return Err(rds_error(line, "@type must be FULL or DIFFERENTIAL."));
        }
        let files = match &a[5] {
            Some(Value::Integer(n)) => *n,
            None => 1,
            _ => 0,
        };
        if !(1..=10).contains(&files) {
            return Err(rds_error(
                line,
                "@number_of_files must be between 1 and 10.",
            ));
        }
        let Some(object) = arn.strip_prefix("arn:aws:s3:::") else {
            return Err(rds_error(
                line,
                format!("{arn} is not an S3 ARN (arn:aws:s3:::bucket_name/file_name.extension)."),
            ));
        };
        if files > 1 && !object.contains('*') {
            return Err(rds_error(
                line,
                "With @number_of_files greater than 1 the file name must contain an asterisk (*).",
            ));
        }
        let task = self.new_task(
            if backup_type == "FULL" {
                "BACKUP_DB"
            } else {
                "BACKUP_DB_DIFFERENTIAL"
            },
            database,
            arn.clone(),
            matches!(a[3], Some(Value::Integer(1))),
        );
        let s3 = rds.map(|r| r.s3_endpoint).unwrap_or_default();
        // RDS runs the task in the background; without a shared engine (a unit test) it runs
        // here.
        match self.shared() {
            Some(engine) => {
                let t = task.clone();
                std::thread::spawn(move || engine.run_backup_task(&t, &s3, files));
            }
            None => self.run_backup_task(&task, &s3, files),
        }
        Ok(vec![self.task_rows(&[task], true)])
    }

    /// A new task, CREATED, in the instance's list.
    fn new_task(&self, task_type: &str, database: String, arn: String, overwrite: bool) -> Task {
        let mut tasks = self.rds_tasks.tasks.lock().unwrap();
        let now = timestamp();
        let task = Task {
            id: tasks.len() as i64 + 1,
            task_type: task_type.into(),
            database,
            arn,
            overwrite,
            lifecycle: "CREATED".into(),
            percent: 0,
            info: String::new(),
            created_at: now.clone(),
            last_updated: now,
        };
        tasks.push(task.clone());
        task
    }

    /// Backs the database up to temporary files and writes them to S3, updating the task.
    fn run_backup_task(&self, task: &Task, s3: &str, files: i64) {
        let update = |lifecycle: &str, percent: i64, info: &str| {
            let mut tasks = self.rds_tasks.tasks.lock().unwrap();
            if let Some(t) = tasks.iter_mut().find(|t| t.id == task.id) {
                t.lifecycle = lifecycle.into();
                t.percent = percent;
                t.info.push_str(info);
                t.last_updated = timestamp();
            }
        };
        update(
            "IN_PROGRESS",
            0,
            &format!("[{}] Task execution has started.\n", timestamp()),
        );
        match self.backup_to_s3(task, s3, files, &|p| update("IN_PROGRESS", p, "")) {
            Ok(keys) => update(
                "SUCCESS",
                100,
                &format!(
                    "[{}] {} file(s) written to S3: {}.\n[{}] Task has been completed successfully.\n",
                    timestamp(),
                    keys.len(),
                    keys.join(", "),
                    timestamp()
                ),
            ),
            Err(e) => update(
                "ERROR",
                0,
                &format!(
                    "[{}] Aborted the task because of a task failure. {e}\n",
                    timestamp()
                ),
            ),
        }
    }

    fn backup_to_s3(
        &self,
        task: &Task,
        s3: &str,
        files: i64,
        progress: &dyn Fn(i64),
    ) -> Result<Vec<String>, String> {
        let object = task.arn.trim_start_matches("arn:aws:s3:::");
        let (bucket, key) = object
            .split_once('/')
            .ok_or_else(|| format!("{} names no object in the bucket", task.arn))?;
        let keys: Vec<String> = (1..=files)
            .map(|i| {
                if files > 1 {
                    key.replacen('*', &format!("{i}-of-{files}"), 1)
                } else {
                    key.replace('*', "")
                }
            })
            .collect();
        if !task.overwrite {
            for k in &keys {
                if device::s3_exists(s3, bucket, k).map_err(|e| e.text)? {
                    return Err(format!(
                        "The file arn:aws:s3:::{bucket}/{k} already exists; use @overwrite_s3_backup_file=1 to replace it."
                    ));
                }
            }
        }
        let mut options = vec!["FORMAT", "INIT", "CHECKSUM", "COMPRESSION"];
        if task.task_type == "BACKUP_DB_DIFFERENTIAL" {
            options.push("DIFFERENTIAL");
        }
        let files_data = self.backup_to_memory("rdsa", &task.database, files as u64, &options)?;
        progress(50);
        let mut written = Vec::new();
        for (i, (data, k)) in files_data.iter().zip(&keys).enumerate() {
            device::s3_put(s3, bucket, k, data).map_err(|e| e.text)?;
            written.push(format!("arn:aws:s3:::{bucket}/{k}"));
            progress(50 + 50 * (i as i64 + 1) / files);
        }
        Ok(written)
    }

    /// RDS's automated log backups, every `interval_s`, while the engine is served.
    pub(super) fn start_automated_log_backups(self: &std::sync::Arc<Self>) {
        let Some(interval) = self
            .instance
            .rds
            .as_ref()
            .filter(|_| self.instance.platform == Platform::Rds)
            .map(|r| std::time::Duration::from_millis(r.log_backup_interval_ms.max(50)))
        else {
            return;
        };
        let weak = std::sync::Arc::downgrade(self);
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(interval);
                let Some(engine) = weak.upgrade() else {
                    return;
                };
                engine.automated_log_backups();
            }
        });
    }

    /// One round of automated log backups: every database RDS can back the log of.
    fn automated_log_backups(&self) {
        let dir = std::env::temp_dir().join(format!("sqlsim-rds-logs-{}", std::process::id()));
        if std::fs::create_dir_all(&dir).is_err() {
            return;
        }
        let databases: Vec<String> = self
            .databases
            .lock()
            .unwrap()
            .iter()
            .filter(|d| !["master", "tempdb", "model", "msdb", "rdsadmin"].contains(&d.as_str()))
            .cloned()
            .collect();
        for db in databases {
            let seq = self.rds_tasks.logs.lock().unwrap().len() as i64 + 1;
            let path = dir.join(format!("{seq}.trn"));
            let mut session = Session::new("rdsa", "master");
            let quoted = db.replace(']', "]]");
            // The backup is stamped with the time it was taken, before it reads the log.
            let epoch = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            // A database without a full backup, or in the simple recovery model, has no log
            // chain: RDS skips it.
            let r = self.execute(
                &mut session,
                &format!(
                    "BACKUP LOG [{quoted}] TO DISK = N'{}' WITH CHECKSUM",
                    path.display()
                ),
                &[],
            );
            if r.error.is_some() {
                continue;
            }
            let r = self.execute(
                &mut session,
                &format!(
                    "SELECT TOP (1) first_lsn, last_lsn, backup_size, DB_ID(N'{}') \
                     FROM msdb.dbo.backupset WHERE database_name = N'{}' AND type = 'L' \
                     ORDER BY backup_set_id DESC",
                    db.replace('\'', "''"),
                    db.replace('\'', "''")
                ),
                &[],
            );
            let Some(row) = r.outcomes.into_iter().find_map(|o| match o {
                Outcome::Rows { rows, .. } => rows.into_iter().next(),
                _ => None,
            }) else {
                continue;
            };
            let db_id = match row[3] {
                Value::Integer(i) => i,
                _ => 0,
            };
            let family_guid = family_guid(&db);
            {
                let conn = self.conn.lock().unwrap();
                let _ = conn.execute(
                    &format!(
                        "INSERT INTO msdb.\"{TLOG_METADATA}\" VALUES \
                         (?1, ?2, ?3, ?4, ?5, 'L', ?6, ?7, 0, ?8, NULL)"
                    ),
                    rusqlite::params![
                        db,
                        db_id,
                        family_guid,
                        seq,
                        epoch,
                        lsn_text(&row[0]),
                        lsn_text(&row[1]),
                        match row[2] {
                            Value::Integer(i) => i,
                            _ => 0,
                        }
                    ],
                );
            }
            self.rds_tasks.logs.lock().unwrap().push(LogBackup {
                database: db,
                db_id,
                family_guid,
                seq,
                epoch,
                path,
            });
        }
    }

    fn rds_tlog_copy_setup(
        &self,
        a: &[Option<Value>],
        line: i32,
    ) -> Result<Vec<Outcome>, ServerMessage> {
        let arn = text(&a[0]).unwrap_or_default();
        if !arn.starts_with("arn:aws:s3:::") {
            return Err(rds_error(
                line,
                format!("{arn} is not an S3 ARN (arn:aws:s3:::bucket_name/folder)."),
            ));
        }
        let arn = arn.trim_end_matches('/').to_string();
        let mut target = self.rds_tasks.tlog_target.lock().unwrap();
        // USER.SQLServer.AddlFeat.TransactionLogAccess.md, troubleshooting: "The target S3 ARN
        // is already set to the provided value."
        if target.as_deref() == Some(arn.as_str()) {
            return Err(rds_error(
                line,
                "The target S3 ARN is already set to the provided value.",
            ));
        }
        *target = Some(arn);
        Ok(vec![])
    }

    /// `rdsadmin.dbo.rds_show_configuration [@name]`: name, value, description of RDS's
    /// settings — here `target_s3_arn_for_tlog_copy` (what rds_tlog_copy_setup set).
    fn rds_show_configuration(&self, a: &[Option<Value>]) -> Outcome {
        let col = |name: &str| ColumnMeta {
            name: name.into(),
            ty: ColumnType::NVarChar(Some(4000)),
            nullable: true,
        };
        let setting = "target_s3_arn_for_tlog_copy";
        let asked = text(&a[0]);
        let rows = if asked
            .as_deref()
            .is_none_or(|n| n.eq_ignore_ascii_case(setting))
        {
            vec![vec![
                Value::Text(setting.into()),
                self.rds_tasks
                    .tlog_target
                    .lock()
                    .unwrap()
                    .clone()
                    .map_or(Value::Null, Value::Text),
                Value::Text("The S3 ARN transaction log backups are copied to.".into()),
            ]]
        } else {
            Vec::new()
        };
        Outcome::Rows {
            columns: vec![col("name"), col("value"), col("description")],
            rows,
        }
    }

    fn rds_tlog_copy(&self, a: &[Option<Value>], line: i32) -> Result<Vec<Outcome>, ServerMessage> {
        let Some(target) = self.rds_tasks.tlog_target.lock().unwrap().clone() else {
            return Err(rds_error(
                line,
                "Transaction log backup copy is not set up: run msdb.dbo.rds_tlog_copy_setup \
                 @target_s3_arn first.",
            ));
        };
        let Some(db) = text(&a[0]) else {
            return Err(rds_error(line, "@db_name is required."));
        };
        let seq = |v: &Option<Value>| match v {
            Some(Value::Integer(i)) => Some(*i),
            _ => None,
        };
        let (from, to) = (seq(&a[1]), seq(&a[2]));
        let chosen: Vec<LogBackup> = self
            .rds_tasks
            .logs
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.database.eq_ignore_ascii_case(&db))
            .filter(|l| from.is_none_or(|f| l.seq >= f) && to.is_none_or(|t| l.seq <= t))
            .cloned()
            .collect();
        let task = self.new_task("COPY_TLOG_BACKUPS_TO_S3", db.clone(), target.clone(), false);
        let s3 = self
            .instance
            .rds
            .as_ref()
            .map(|r| r.s3_endpoint.clone())
            .unwrap_or_default();
        let copy = move |engine: &Engine| {
            let result = (|| -> Result<usize, String> {
                let object = target.trim_start_matches("arn:aws:s3:::");
                let (bucket, prefix) = object.split_once('/').unwrap_or((object, ""));
                for l in &chosen {
                    let data = std::fs::read(&l.path).map_err(|e| e.to_string())?;
                    let family = format!("{}.{}", l.db_id, l.family_guid);
                    let key = format!("{prefix}/{family}/{family}.{}.{}", l.seq, l.epoch)
                        .trim_start_matches('/')
                        .to_string();
                    device::s3_put(&s3, bucket, &key, &data).map_err(|e| e.text)?;
                }
                Ok(chosen.len())
            })();
            let mut tasks = engine.rds_tasks.tasks.lock().unwrap();
            if let Some(t) = tasks.iter_mut().find(|t| t.id == task.id) {
                t.last_updated = timestamp();
                match result {
                    Ok(n) => {
                        t.lifecycle = "SUCCESS".into();
                        t.percent = 100;
                        t.info = format!(
                            "[{}] {n} transaction log backup(s) copied to S3.\n",
                            timestamp()
                        );
                    }
                    Err(e) => {
                        t.lifecycle = "ERROR".into();
                        t.info = format!(
                            "[{}] Aborted the task because of a task failure. {e}\n",
                            timestamp()
                        );
                    }
                }
            }
        };
        let shown = self.task_rows(&[task], true);
        match self.shared() {
            Some(engine) => {
                std::thread::spawn(move || copy(&engine));
            }
            None => copy(self),
        }
        Ok(vec![shown])
    }

    fn rds_task_status(&self, a: &[Option<Value>]) -> Outcome {
        let db = text(&a[0]);
        let id = match &a[1] {
            Some(Value::Integer(i)) => Some(*i),
            _ => None,
        };
        let tasks: Vec<Task> = self
            .rds_tasks
            .tasks
            .lock()
            .unwrap()
            .iter()
            .filter(|t| id.is_none_or(|i| t.id == i))
            .filter(|t| {
                db.as_deref()
                    .is_none_or(|d| t.database.eq_ignore_ascii_case(d))
            })
            .cloned()
            .collect();
        self.task_rows(&tasks, false)
    }

    /// RDS's task rows: `rds_task_status`'s columns, or the shorter set
    /// `rds_backup_database` answers with.
    fn task_rows(&self, tasks: &[Task], started: bool) -> Outcome {
        let col = |name: &str, ty: ColumnType| ColumnMeta {
            name: name.into(),
            ty,
            nullable: true,
        };
        let text_col = |name: &str| col(name, ColumnType::NVarChar(Some(4000)));
        let mut columns = vec![col("task_id", ColumnType::Int), text_col("task_type")];
        if started {
            columns.extend([
                text_col("lifecycle"),
                text_col("created_at"),
                text_col("last_updated"),
                text_col("database_name"),
            ]);
        } else {
            columns.extend([
                text_col("database_name"),
                col("% complete", ColumnType::Int),
                col("duration(mins)", ColumnType::Int),
                text_col("lifecycle"),
                text_col("task_info"),
                text_col("last_updated"),
                text_col("created_at"),
            ]);
        }
        columns.extend([
            text_col("S3_object_arn"),
            col("overwrite_S3_backup_file", ColumnType::Int),
            text_col("KMS_master_key_arn"),
            text_col("filepath"),
            col("overwrite_file", ColumnType::Int),
        ]);
        let rows = tasks
            .iter()
            .map(|t| {
                let mut row = vec![Value::Integer(t.id), Value::Text(t.task_type.clone())];
                if started {
                    row.extend([
                        Value::Text(t.lifecycle.clone()),
                        Value::Text(t.created_at.clone()),
                        Value::Text(t.last_updated.clone()),
                        Value::Text(t.database.clone()),
                    ]);
                } else {
                    row.extend([
                        Value::Text(t.database.clone()),
                        Value::Integer(t.percent),
                        Value::Integer(0),
                        Value::Text(t.lifecycle.clone()),
                        Value::Text(t.info.clone()),
                        Value::Text(t.last_updated.clone()),
                        Value::Text(t.created_at.clone()),
                    ]);
                }
                row.extend([
                    Value::Text(t.arn.clone()),
                    Value::Integer(i64::from(t.overwrite)),
                    Value::Null,
                    Value::Null,
                    Value::Integer(0),
                ]);
                row
            })
            .collect();
        Outcome::Rows { columns, rows }
    }
}
