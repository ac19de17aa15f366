//! `sqlmig validate`: prove migrated databases equal to their sources — schema object by object,
//! data by checksums the servers compute (ranges that differ split until the rows are named),
//! and optionally a workload's timings on both.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use sqlmig_protocol::validation::{DataOptions, Hash, Mode};

use super::connect::TlsArgs;
use super::output::write_report;
use super::{Context, Failure};
use crate::sqlserver::source_target::Servers;
use crate::validate::{self, Options, html, workload};

/// The options of `sqlmig validate` (its help text is on `Command::Validate`).
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The source server: HOST[\INSTANCE][,PORT].
    #[arg(long)]
    pub source: String,
    /// The target server (the Managed Instance).
    #[arg(long)]
    pub target: String,
    /// The source login (password from SQLMIG_SOURCE_PASSWORD or --secrets).
    #[arg(long)]
    pub source_user: String,
    /// The target login (password from SQLMIG_TARGET_PASSWORD or --secrets).
    #[arg(long)]
    pub target_user: String,
    /// Source databases to validate (default: every online user database).
    #[arg(long, value_delimiter = ',')]
    pub databases: Vec<String>,
    /// A database with another name on the target, SOURCE=TARGET.
    #[arg(long, value_name = "SOURCE=TARGET")]
    pub rename: Vec<String>,
    /// Tables to compare: dbo.Orders, Orders, sales.*, *.Audit* (default: every table both have).
    #[arg(long, value_delimiter = ',')]
    pub tables: Vec<String>,
    /// counts: row counts only; checksum: checksums of key ranges, split where they differ;
    /// full: every row read and compared (certain, and it moves the tables).
    #[arg(long, value_enum, default_value_t = ModeArg::Checksum)]
    pub mode: ModeArg,
    /// What the range checksums are made of: checksum (BINARY_CHECKSUM, fast) or sha2 (each
    /// column's HASHBYTES('SHA2_256'), near certain; needs SQL Server 2016+ for long values).
    #[arg(long, value_enum, default_value_t = HashArg::Checksum)]
    pub hash: HashArg,
    /// Stop after naming this many differing rows (across all tables).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_diffs: u64,
    /// Stop after this long (90s, 30m, 2h); what was not compared is listed as such.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub time_budget: Option<Duration>,
    /// Tables compared at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallel: u16,
    /// A range of at most this many rows is compared row by row instead of split further.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub leaf_rows: u64,
    /// A workload to time on both servers: T-SQL batches separated by GO, each optionally headed
    /// by `-- name: …` and `-- database: …` comment lines.
    #[arg(long, value_name = "FILE")]
    pub workload: Option<PathBuf>,
    /// Timed runs of each workload query on each side (after one warm-up run).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,
    /// Flag a workload query whose median on the target is this many times the source's.
    #[arg(long, default_value_t = 1.5)]
    pub slower_than: f64,
    /// The validation plugin.
    #[arg(long, default_value = "validate-data")]
    pub plugin: String,
    /// A TOML file with source_password and target_password (owner-readable only).
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// How data is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Counts,
    Checksum,
    Full,
}

/// What range checksums are made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum HashArg {
    Checksum,
    Sha2,
}

/// A time budget (`super::duration`): above zero.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = super::duration::parse(s).map_err(|e| e.to_string())?;
    if d.is_zero() {
        return Err("the budget must be above zero".into());
    }
    Ok(d)
}

/// Runs `sqlmig validate`.
pub async fn run(ctx: &Context, args: ValidateArgs) -> Result<ExitCode, Failure> {
    if args.slower_than.is_nan() || args.slower_than <= 1.0 {
        return Err(Failure::bad_input(format!(
            "--slower-than {}: give a ratio above 1 (1.5 flags a query taking half as long again on the target)",
            args.slower_than
        )));
    }
    let renames = args
        .rename
        .iter()
        .map(|r| {
            r.split_once('=')
                .filter(|(s, t)| !s.trim().is_empty() && !t.trim().is_empty())
                .map(|(s, t)| (s.trim().to_string(), t.trim().to_string()))
                .ok_or_else(|| Failure::bad_input(format!("--rename {r}: write SOURCE=TARGET")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let workload = match &args.workload {
        Some(path) => Some((
            path.display().to_string(),
            workload::read(path).map_err(Failure::bad_input)?,
        )),
        None => None,
    };
    let servers = Servers {
        source: &args.source,
        target: &args.target,
        source_user: &args.source_user,
        target_user: &args.target_user,
        secrets: args.secrets.as_deref(),
        tls: args.tls.settings(),
        origin: "the command line",
    };
    let options = Options {
        databases: args.databases.clone(),
        renames,
        tables: args.tables.clone(),
        data: DataOptions {
            mode: match args.mode {
                ModeArg::Counts => Mode::Counts,
                ModeArg::Checksum => Mode::Checksum,
                ModeArg::Full => Mode::Full,
            },
            hash: match args.hash {
                HashArg::Checksum => Hash::Checksum,
                HashArg::Sha2 => Hash::Sha2,
            },
            max_diffs: args.max_diffs,
            leaf_rows: args.leaf_rows,
            deadline_ms: None,
        },
        time_budget: args.time_budget,
        parallel: args.parallel.into(),
        workload,
        runs: args.runs,
        slower_than: args.slower_than,
        source_label: args.source.clone(),
        target_label: args.target.clone(),
        quiet: ctx.quiet,
    };
    let report = validate::run(ctx, &servers, &args.plugin, &options).await?;
    write_report(ctx, &report, || html::render(&report), || report.console())?;
    // A file was written for scripts or people: the verdict still goes to the terminal.
    if ctx.out.is_some() && !ctx.quiet {
        eprintln!(
            "{}: {} of {} table(s) equal, {} schema difference(s)",
            report.verdict(),
            report.summary.tables_equal,
            report.summary.tables,
            report.summary.schema_differences
        );
    }
    Ok(if report.failed() {
        ExitCode::from(3)
    } else if report.equal {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
