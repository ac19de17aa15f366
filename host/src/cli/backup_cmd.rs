//! `sqlmig backup inspect`: what backup files hold and how they chain, read offline from the
//! files themselves (no server needed).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;
use sqlmig_backup_format::chain::{Backup, Chain, chains, group_stripes};
use sqlmig_backup_format::{BackupFile, ReadError, read_backup_file};

use super::output::{Table, write_json};
use super::{Context, Failure, OutputFormat};

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Read .bak/.trn headers offline and order them into restore chains.
    ///
    /// For every backup set: database, server, type (full, differential, log), LSNs, SQL Server
    /// version, compatibility level, start date, database files, and what stops Managed
    /// Instance restoring it (a media password, more than one log file). Compressed backups
    /// are read too. Then, per database: the restore sequence (latest full, its latest
    /// differential, the log backups after it, stripes together) and what is broken or missing —
    /// a gap in the logs is named by its LSN range.
    ///
    /// Folders are read recursively; files in them that are not backups are listed as skipped.
    /// Exit code 0 when every file was read and every chain is whole, 1 otherwise.
    ///
    /// Examples:
    ///   sqlmig backup inspect /backups/Sales
    ///   sqlmig backup inspect full.bak diff.bak log1.trn log2.trn --output json
    Inspect {
        /// Backup files or folders of them.
        #[arg(required = true, value_name = "FILE|DIR")]
        paths: Vec<PathBuf>,
    },
}

/// Runs a backup subcommand.
pub fn run(ctx: &Context, cmd: BackupCommand) -> Result<ExitCode, Failure> {
    match cmd {
        BackupCommand::Inspect { paths } => inspect(ctx, &paths),
    }
}

/// One backup file read, or why it was not.
struct Inspected {
    path: PathBuf,
    result: Result<BackupFile, ReadError>,
}

fn inspect(ctx: &Context, paths: &[PathBuf]) -> Result<ExitCode, Failure> {
    let mut inspected = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| Failure::bad_input(format!("{}: {e}", path.display())))?;
        if meta.is_dir() {
            for file in files_under(path)? {
                match read_backup_file(&file) {
                    Err(ReadError::NotABackup(why)) => skipped.push((file, why)),
                    result => inspected.push(Inspected { path: file, result }),
                }
            }
        } else {
            let result = read_backup_file(path);
            if let Err(e @ ReadError::NotABackup(_)) = &result {
                return Err(Failure::bad_input(format!("{}: {e}", path.display()))
                    .hint("name .bak/.trn files written by BACKUP DATABASE or BACKUP LOG, or a folder of them"));
            }
            inspected.push(Inspected {
                path: path.clone(),
                result,
            });
        }
    }
    let backups = group_stripes(
        inspected
            .iter()
            .filter_map(|i| i.result.as_ref().ok().map(|f| (i, f)))
            .flat_map(|(i, f)| {
                f.sets
                    .iter()
                    .map(move |s| Backup::from_set(s, media_name(&i.path, s.position)))
            })
            .collect(),
    );
    let chains = chains(&backups);
    let unreadable = inspected.iter().filter(|i| i.result.is_err()).count();
    let problems: usize = chains.iter().map(|c| c.problems.len()).sum();
    if ctx.output == OutputFormat::Json {
        write_json(
            &report_json(&inspected, &skipped, &chains),
            ctx.out.as_deref(),
        )?;
    } else {
        print!("{}", report_text(&inspected, &skipped, &chains));
    }
    Ok(if unreadable == 0 && problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Every regular file under `dir`, in name order.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d)
            .map_err(|e| Failure::bad_input(format!("{}: {e}", d.display())))?;
        for entry in entries {
            let entry = entry.map_err(|e| Failure::bad_input(format!("{}: {e}", d.display())))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| Failure::bad_input(format!("{}: {e}", path.display())))?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The file, and `#n` for a set after the first (RESTORE … WITH FILE = n).
fn media_name(path: &Path, position: u32) -> String {
    if position <= 1 {
        path.display().to_string()
    } else {
        format!("{}#{position}", path.display())
    }
}

/// What stops Managed Instance restoring a backup set.
fn mi_blockers(file: &BackupFile, set: &sqlmig_backup_format::BackupSet) -> Vec<String> {
    let mut out = Vec::new();
    if file.has_media_password {
        out.push("the media has a password: Managed Instance cannot restore it".to_string());
    }
    if set.log_file_count() > 1 {
        out.push(format!(
            "{} log files: Managed Instance restores a database with one log file only",
            set.log_file_count()
        ));
    }
    if file.sets.len() > 1 {
        out.push(
            "the file holds several backup sets: Managed Instance restores only files with one"
                .to_string(),
        );
    }
    out
}

fn report_json(
    inspected: &[Inspected],
    skipped: &[(PathBuf, String)],
    chains: &[Chain],
) -> serde_json::Value {
    let mut backups = Vec::new();
    let mut unreadable = Vec::new();
    for i in inspected {
        match &i.result {
            Ok(file) => {
                for set in &file.sets {
                    let mut row = serde_json::to_value(set).expect("backup sets serialize");
                    let obj = row.as_object_mut().expect("a struct is an object");
                    obj.insert("path".into(), json!(i.path));
                    obj.insert("compressed".into(), json!(file.compressed));
                    obj.insert("has_media_password".into(), json!(file.has_media_password));
                    obj.insert("mi_blockers".into(), json!(mi_blockers(file, set)));
                    obj.insert("notes".into(), json!(file.notes));
                    backups.push(row);
                }
            }
            Err(e) => unreadable.push(json!({ "path": i.path, "error": e.to_string() })),
        }
    }
    let chains: Vec<serde_json::Value> = chains
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).expect("chains serialize");
            v["problem_messages"] =
                json!(c.problems.iter().map(|p| p.message()).collect::<Vec<_>>());
            v
        })
        .collect();
    json!({
        "schema": "sqlmig.backup-inspect/1",
        "backups": backups,
        "chains": chains,
        "unreadable": unreadable,
        "skipped": skipped.iter().map(|(p, why)| json!({ "path": p, "reason": why })).collect::<Vec<_>>(),
    })
}

fn report_text(inspected: &[Inspected], skipped: &[(PathBuf, String)], chains: &[Chain]) -> String {
    let mut table = Table::new(&[
        "FILE",
        "DATABASE",
        "TYPE",
        "FIRST LSN",
        "LAST LSN",
        "STARTED",
        "VERSION",
        "SERVER",
    ]);
    let mut notes = String::new();
    for i in inspected {
        let name = i.path.display().to_string();
        match &i.result {
            Ok(file) => {
                for set in &file.sets {
                    let mut kind = set.backup_type.name().to_string();
                    if set.copy_only {
                        kind.push_str(" (copy-only)");
                    }
                    if file.compressed {
                        kind.push_str(", compressed");
                    }
                    table.row(vec![
                        media_name(&i.path, set.position),
                        set.database_name.clone(),
                        kind,
                        set.first_lsn.to_string(),
                        set.last_lsn.to_string(),
                        set.backup_start_date.clone().unwrap_or_default(),
                        set.software_version.clone(),
                        set.server_name.clone(),
                    ]);
                    for b in mi_blockers(file, set) {
                        notes.push_str(&format!("{name}: {b}\n"));
                    }
                }
                for n in &file.notes {
                    notes.push_str(&format!("{name}: {n}\n"));
                }
            }
            Err(e) => notes.push_str(&format!("{name}: {e}\n")),
        }
    }
    let mut out = table.render();
    if !notes.is_empty() {
        out.push('\n');
        out.push_str(&notes);
    }
    // A folder of backups often holds other files too: name a few, count the rest.
    for (path, why) in skipped.iter().take(3) {
        out.push_str(&format!("skipped {}: {why}\n", path.display()));
    }
    if skipped.len() > 3 {
        out.push_str(&format!(
            "skipped {} more files that are not backups (--output json lists them)\n",
            skipped.len() - 3
        ));
    }
    for c in chains {
        out.push_str(&format!("\n{}:\n", c.database_name));
        for (n, b) in c.restore.iter().enumerate() {
            out.push_str(&format!(
                "  {}. RESTORE {} from {}\n",
                n + 1,
                restore_kind(b),
                b.media.join(" + ")
            ));
        }
        if let Some(lsn) = c.restores_to {
            out.push_str(&format!("  restores up to LSN {lsn}"));
            if c.unused > 0 {
                out.push_str(&format!(" ({} backups not needed)", c.unused));
            }
            out.push('\n');
        }
        for p in &c.problems {
            out.push_str(&format!("  problem: {}\n", p.message()));
        }
    }
    out
}

fn restore_kind(b: &Backup) -> &'static str {
    match b.backup_type {
        sqlmig_backup_format::BackupType::Log => "LOG",
        sqlmig_backup_format::BackupType::Differential => "DATABASE (differential)",
        _ => "DATABASE",
    }
}
