//! `sqlmig migrate run`: its flags, parsed into the run's options; the run (or its dry run)
//! and its summary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::json;

use super::journal_path;
use crate::cli::connect::TlsArgs;
use crate::cli::output::{write_json, write_text};
use crate::cli::{Context, Failure, OutputFormat};
use crate::migrate::launch::{self, RunOptions};
use crate::migrate::run::Retry;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The plan (sqlmig migrate plan --out FILE).
    pub plan: PathBuf,
    /// The source login.
    #[arg(long)]
    pub source_user: Option<String>,
    /// The target login.
    #[arg(long)]
    pub target_user: Option<String>,
    /// A TOML file with source_password, target_password, sas and, online, azure_token and
    /// lrs_sas or storage_key (owner-readable only; `sqlmig storage prepare` writes the SAS).
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    #[command(flatten)]
    pub tls: TlsArgs,
    /// The journal (plan.journal beside the plan unless given).
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Print the T-SQL and blob operations of the steps left, run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run STEP again, and the steps after it for its database, even when the journal says done
    /// (a backup whose blobs were lost: --redo Sales/backup). Repeatable.
    #[arg(long, value_name = "STEP")]
    pub redo: Vec<String>,
    /// Tries for a step that fails transiently (a dropped connection, a failover, storage 5xx).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub tries: u32,
    /// The first wait before a retry, in milliseconds (doubling each time).
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    pub retry_wait: u64,
    /// Blocks uploaded at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub upload_concurrency: u16,
}

pub(super) async fn run_plan(ctx: &Context, args: RunArgs) -> Result<ExitCode, Failure> {
    let runnable = launch::prepare(&args.plan, &args.redo)?;
    let journal = journal_path(&args.plan, args.journal.as_deref());
    if args.dry_run {
        write_text(&launch::preview(&runnable, &journal)?, None)?;
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(source_user), Some(target_user)) = (&args.source_user, &args.target_user) else {
        return Err(Failure::bad_input(
            "migrate run needs --source-user and --target-user (or --dry-run)",
        ));
    };
    let options = RunOptions {
        plan_file: args.plan.clone(),
        journal,
        source_user: source_user.clone(),
        target_user: target_user.clone(),
        secrets: args.secrets.clone(),
        tls: args.tls.settings(),
        retry: Retry {
            attempts: args.tries,
            base: Duration::from_millis(args.retry_wait),
        },
        upload_concurrency: args.upload_concurrency.into(),
        run_command: rerun_command(&args),
    };
    let summary = launch::run(ctx, runnable, &options).await?;
    if ctx.output == OutputFormat::Json {
        write_json(
            &json!({
                "done": summary.done,
                "already_done": summary.already_done,
                "failed": summary.failed.iter().map(|(s, why)| json!({ "step": s, "error": why })).collect::<Vec<_>>(),
                "not_run": summary.not_run,
            }),
            ctx.out.as_deref(),
        )?;
    }
    if summary.failed.is_empty() {
        if !ctx.quiet {
            eprintln!(
                "migration complete: {} step(s) run, {} done earlier",
                summary.done.len(),
                summary.already_done.len()
            );
        }
        Ok(ExitCode::SUCCESS)
    } else {
        if !ctx.quiet {
            eprintln!(
                "{} step(s) failed, {} not run; fix the cause and run the same command again to go on",
                summary.failed.len(),
                summary.not_run.len()
            );
        }
        Ok(ExitCode::from(3))
    }
}

/// `sqlmig migrate run …` as `args` started it, without `--redo` (done once) or `--dry-run`;
/// it holds no secret, only logins, file names and flags.
fn rerun_command(args: &RunArgs) -> String {
    let quote = |s: &str| {
        if s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,:=@".contains(c))
        {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    let mut words = vec![
        "sqlmig migrate run".to_string(),
        quote(&args.plan.display().to_string()),
    ];
    for (flag, value) in [
        ("--source-user", args.source_user.clone()),
        ("--target-user", args.target_user.clone()),
        (
            "--secrets",
            args.secrets.as_ref().map(|p| p.display().to_string()),
        ),
        (
            "--journal",
            args.journal.as_ref().map(|p| p.display().to_string()),
        ),
    ] {
        if let Some(v) = value {
            words.push(format!("{flag} {}", quote(&v)));
        }
    }
    if args.tls.trust_server_certificate {
        words.push("--trust-server-certificate".into());
    }
    if args.tls.encrypt != crate::sqlserver::Encrypt::Strict {
        words.push(format!(
            "--encrypt {}",
            clap::ValueEnum::to_possible_value(&args.tls.encrypt)
                .map(|v| v.get_name().to_string())
                .unwrap_or_default()
        ));
    }
    words.join(" ")
}
