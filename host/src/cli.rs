//! The `sqlmig` command line: parsing, output conventions, exit codes.
//!
//! Exit codes mean one thing each: 0 success, 1 the job ran and found problems, 2 bad input or
//! usage, 3 a failure talking to a server, storage or plugin.

mod assess_cmd;
mod backup_cmd;
mod connect;
mod discover_cmd;
mod duration;
mod inventory_cmd;
mod migrate_cmd;
mod output;
mod perf_cmd;
mod plugin_cmd;
mod rules_cmd;
mod sku_cmd;
mod storage_cmd;
mod target;
mod validate_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub use crate::failure::Failure;

use crate::config::Paths;
use crate::runtime::versions;
use crate::session::Session;

/// The long version line: the host version and the plugin API it speaks.
fn long_version() -> &'static str {
    Box::leak(
        format!(
            "{} (plugin API sqlmig:plugin {})",
            crate::HOST_VERSION,
            versions::supported_range()
        )
        .into_boxed_str(),
    )
}

/// Move SQL Server databases to Azure SQL Managed Instance.
///
/// sqlmig follows the four stages of a migration (discover, assess, migrate, validate). Source
/// platforms, migration methods and rule packs are sandboxed WebAssembly plugins: `sqlmig plugin`
/// manages them.
#[derive(Debug, Parser)]
#[command(name = "sqlmig", version = long_version(), propagate_version = true)]
pub struct Cli {
    /// Output format: a table for people, JSON for scripts.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Write the JSON output to FILE instead of stdout (implies --output json).
    #[arg(long, global = true, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Only errors on stderr.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// More detail on stderr (-v info, -vv debug, -vvv trace).
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The operator's configuration (grants, limits, folders). Default: sqlmig.toml in the
    /// config folder, or $SQLMIG_HOME/sqlmig.toml.
    #[arg(long, global = true, value_name = "FILE", env = "SQLMIG_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    /// One row per finding (reports only: assess).
    Csv,
    /// One self-contained HTML page (reports: assess, sku recommend, validate).
    Html,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Install, list, inspect and remove plugins.
    #[command(subcommand)]
    Plugin(plugin_cmd::PluginCommand),
    // Discover and assess take their help (with examples) from their arguments' docs.
    Discover(discover_cmd::DiscoverArgs),
    Assess(assess_cmd::AssessArgs),
    /// Read inventories offline: summary, differences between snapshots, the format's schema.
    #[command(subcommand)]
    Inventory(inventory_cmd::InventoryCommand),
    /// Test rule packs against a fixture inventory, without a server.
    #[command(subcommand)]
    Rules(rules_cmd::RulesCommand),
    /// Collect performance data from an instance, for sizing.
    #[command(subcommand)]
    Perf(perf_cmd::PerfCommand),
    /// Size the target Managed Instance from a performance collection.
    #[command(subcommand)]
    Sku(sku_cmd::SkuCommand),
    /// Read backup files offline: headers, restore chains, what is missing.
    #[command(subcommand)]
    Backup(backup_cmd::BackupCommand),
    /// Prepare the migration's blob container and the SAS tokens it needs, and check them.
    #[command(subcommand)]
    Storage(storage_cmd::StorageCommand),
    /// Move databases: plan, run (journaled, resumable), status.
    #[command(subcommand)]
    Migrate(migrate_cmd::MigrateCommand),
    /// Prove migrated databases equal to their sources: schema, data, performance.
    ///
    /// Compares each database's schema object by object (tables, columns, keys, indexes,
    /// constraints, modules, users, permissions, compatibility level), then each table's data:
    /// both servers count and checksum key ranges, ranges that differ are split until small, and
    /// their rows are compared to name the keys missing, extra or changed, without moving the
    /// table. With --workload, times each query on both servers and flags the slower ones.
    ///
    /// Exit code 0 when everything compared is equal, 1 when something differs (or was not
    /// compared within the budgets), 2 for bad input, 3 when a server or the plugin failed.
    ///
    ///   sqlmig validate --source sql01 --target mi01.abc.database.windows.net
    ///       --source-user migrator --target-user migrator --databases Sales -o html --out validation.html
    #[command(verbatim_doc_comment)]
    Validate(validate_cmd::ValidateArgs),
}

/// What every command gets: the session its operations run in, and how it prints.
pub struct Context {
    pub session: Session,
    pub output: OutputFormat,
    pub out: Option<PathBuf>,
}

/// A command reads the session's paths, configuration and runtime as its own.
impl std::ops::Deref for Context {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

/// Prints `error: …` (and `hint: …`) to stderr and returns the failure's exit code.
fn report(f: Failure) -> ExitCode {
    eprintln!("error: {}", f.message);
    if let Some(h) = &f.hint {
        eprintln!("hint: {h}");
    }
    ExitCode::from(f.exit_code())
}

/// Parses the command line, runs the command and returns the exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(cli.quiet, cli.verbose);
    let paths = Paths::from_env();
    let config_file = cli
        .config
        .clone()
        .unwrap_or_else(|| paths.config_file.clone());
    let ctx = Context {
        session: Session::new(paths, config_file, cli.quiet),
        // A file is for scripts: --out writes JSON unless a report format was asked for.
        output: if cli.out.is_some() && cli.output == OutputFormat::Table {
            OutputFormat::Json
        } else {
            cli.output
        },
        out: cli.out.clone(),
    };
    let html_report = matches!(
        cli.command,
        Command::Assess(_) | Command::Sku(_) | Command::Validate(_)
    );
    if (ctx.output == OutputFormat::Csv && !matches!(cli.command, Command::Assess(_)))
        || (ctx.output == OutputFormat::Html && !html_report)
    {
        return report(Failure::bad_input(
            "--output csv and html are for reports: csv with `sqlmig assess`, html with `sqlmig assess`, `sqlmig sku recommend` or `sqlmig validate`",
        ));
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return report(Failure::io(format!("cannot start the async runtime: {e}"))),
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Plugin(cmd) => plugin_cmd::run(&ctx, cmd).await,
            Command::Inventory(cmd) => inventory_cmd::run(&ctx, cmd),
            Command::Discover(args) => discover_cmd::run(&ctx, args).await,
            Command::Assess(args) => assess_cmd::run(&ctx, args).await,
            Command::Rules(cmd) => rules_cmd::run(&ctx, cmd).await,
            Command::Perf(cmd) => perf_cmd::run(&ctx, cmd).await,
            Command::Sku(cmd) => sku_cmd::run(&ctx, cmd),
            Command::Backup(cmd) => backup_cmd::run(&ctx, cmd),
            Command::Storage(cmd) => storage_cmd::run(&ctx, cmd).await,
            Command::Migrate(cmd) => migrate_cmd::run(&ctx, cmd).await,
            Command::Validate(args) => validate_cmd::run(&ctx, args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(f) => report(f),
    }
}

fn init_logging(quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    // tiberius logs every server error and its own TLS choices; sqlmig reports what matters in
    // its own words, so tiberius speaks only from -vv on.
    let tiberius = if verbose >= 2 { level } else { "off" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SQLMIG_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},tiberius={tiberius}"))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}
