//! `sqlmig inventory`: read snapshots offline — a summary, the difference between two, the
//! published JSON Schema.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use sqlmig_protocol::diff::{ChangeKind, diff};
use sqlmig_protocol::{CollectionStatus, Inventory};

use super::output::{Table, write_json};
use super::{Context, Failure, OutputFormat};

#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Summarise an inventory: one line per instance, with what could not be collected.
    ///
    /// Example: sqlmig inventory show inventory.json
    Show {
        /// The inventory (written by `sqlmig discover --out FILE`).
        file: PathBuf,
    },
    /// What changed between two snapshots: instances, databases, files, jobs, logins, …
    ///
    /// Items are matched by name (job steps by id), so an added database is one line. Exit code
    /// 1 when they differ.
    ///
    /// Example: sqlmig inventory diff monday.json friday.json
    Diff {
        /// The older snapshot.
        before: PathBuf,
        /// The newer snapshot.
        after: PathBuf,
    },
    /// Print the JSON Schema of the inventory format (sqlmig.inventory/1).
    Schema,
}

/// Runs an inventory subcommand.
pub fn run(ctx: &Context, cmd: InventoryCommand) -> Result<ExitCode, Failure> {
    match cmd {
        InventoryCommand::Show { file } => show(ctx, &read(&file)?),
        InventoryCommand::Diff { before, after } => changes(ctx, &read(&before)?, &read(&after)?),
        InventoryCommand::Schema => {
            write_json(&sqlmig_protocol::json_schema(), ctx.out.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Reads an inventory; a malformed one is bad input naming the file and the JSON path.
pub fn read(path: &Path) -> Result<Inventory, Failure> {
    sqlmig_protocol::read(path).map_err(|e| {
        Failure::bad_input(e).hint("an inventory is written by `sqlmig discover --out FILE`; its format is `sqlmig inventory schema`")
    })
}

/// The size of an instance's user databases: what moves.
fn user_size_mb(i: &sqlmig_protocol::Instance) -> f64 {
    i.databases
        .iter()
        .filter(|d| d.is_user())
        .map(|d| d.size_mb)
        .sum()
}

fn show(ctx: &Context, inv: &Inventory) -> Result<ExitCode, Failure> {
    if ctx.output == OutputFormat::Json {
        let rows: Vec<serde_json::Value> = inv
            .instances
            .iter()
            .map(|i| {
                serde_json::json!({
                    "name": i.name,
                    "status": i.status,
                    "confidence": i.confidence,
                    "version": i.server.as_ref().map(|s| &s.product_version),
                    "edition": i.server.as_ref().map(|s| &s.edition),
                    "user_databases": i.databases.iter().filter(|d| d.is_user()).count(),
                    "user_size_mb": user_size_mb(i),
                    "jobs": i.jobs.len(),
                    "logins": i.logins.len(),
                    "gaps": i.gaps,
                    "error": i.error,
                })
            })
            .collect();
        write_json(&serde_json::Value::Array(rows), ctx.out.as_deref())?;
        return Ok(ExitCode::SUCCESS);
    }
    print_summary(inv);
    Ok(ExitCode::SUCCESS)
}

/// The summary table and the gaps and failures under it, on stdout.
pub fn print_summary(inv: &Inventory) {
    let mut t = Table::new(&[
        "INSTANCE", "STATUS", "VERSION", "EDITION", "USER DBS", "USER GB", "JOBS", "LOGINS",
    ]);
    for i in &inv.instances {
        let status = match i.status {
            CollectionStatus::Complete => "complete".to_string(),
            CollectionStatus::Partial => format!("partial ({} gaps)", i.gaps.len()),
            CollectionStatus::Failed => "failed".to_string(),
        };
        let size_gb = user_size_mb(i) / 1024.0;
        t.row(vec![
            i.name.clone(),
            status,
            i.server
                .as_ref()
                .map_or("-".into(), |s| s.product_version.clone()),
            i.server.as_ref().map_or("-".into(), |s| s.edition.clone()),
            i.databases
                .iter()
                .filter(|d| d.is_user())
                .count()
                .to_string(),
            format!("{size_gb:.1}"),
            i.jobs.len().to_string(),
            i.logins.len().to_string(),
        ]);
    }
    print!("{}", t.render());
    // What is missing, so nobody assesses a partial snapshot unknowingly.
    for i in &inv.instances {
        if let Some(e) = &i.error {
            println!("\n{}: failed: {e}", i.name);
        }
        if !i.gaps.is_empty() {
            println!("\n{}: not collected:", i.name);
            for g in &i.gaps {
                let number = g
                    .error_number
                    .map(|n| format!(" (error {n})"))
                    .unwrap_or_default();
                println!("  {}: {}{number}", g.what, g.reason);
            }
        }
    }
}

fn changes(ctx: &Context, before: &Inventory, after: &Inventory) -> Result<ExitCode, Failure> {
    let changes = diff(before, after);
    if ctx.output == OutputFormat::Json {
        write_json(
            &serde_json::to_value(&changes).expect("changes serialize"),
            ctx.out.as_deref(),
        )?;
    } else if changes.is_empty() {
        println!("no differences");
    } else {
        let short = |v: &Option<serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
                let text = v.to_string();
                if text.len() > 60 {
                    format!("{}…", &text[..text.floor_char_boundary(60)])
                } else {
                    text
                }
            }
            Some(v) => v.to_string(),
            None => String::new(),
        };
        for c in &changes {
            match c.kind {
                ChangeKind::Added => println!("+ {}", c.path),
                ChangeKind::Removed => println!("- {}", c.path),
                ChangeKind::Changed => {
                    println!("~ {}: {} → {}", c.path, short(&c.before), short(&c.after))
                }
            }
        }
    }
    Ok(if changes.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
