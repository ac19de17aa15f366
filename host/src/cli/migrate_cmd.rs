//! `sqlmig migrate plan|run|cutover|status`: plan a move from an inventory, run it (journaled,
//! resumable), cut an online one over, see where it stands. A module per subcommand.

mod cutover;
mod plan;
mod run;
mod status;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;

use super::{Context, Failure};
use crate::migrate::journal;

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Plan a move: which databases, how they are backed up, shipped and restored, and how long
    /// it should take. Writes plan.json (--out) for `migrate run`.
    ///
    /// The rule packs assess the planned databases for the target first (or --assessment
    /// FILE): a database an issue blocks is refused, naming each finding and its fix, until it
    /// is left out (--databases), fixed, or accepted (--accept RULE, recorded in the plan).
    ///
    /// Methods: method-backup-restore (offline, the default; --option blob_max_mb=, compression=,
    /// verify=) and method-log-replay (online through MI's Log Replay Service, until `migrate
    /// cutover`; needs --target-resource; --option standby_folder=, base_full=,
    /// log_backup_interval_s=, location=, blob_max_mb=, compression=, collation=; a container
    /// whose name holds "backup" is refused). docs/migrate.md has each.
    ///
    /// Examples:
    ///   sqlmig migrate plan --inventory inventory.json --databases Sales \
    ///       --target mi01.abc.database.windows.net \
    ///       --container-url https://acct.blob.core.windows.net/migration --out plan.json
    ///   sqlmig migrate plan --inventory inv.json --databases Sales,HR --rename HR=People \
    ///       --target mi01,1433 --container-url … --accept XpCmdshell --out plan.json
    ///   sqlmig migrate plan --inventory inv.json --databases Sales --method method-log-replay \
    ///       --target mi01.abc.database.windows.net --container-url … \
    ///       --target-resource /subscriptions/…/managedInstances/mi01 \
    ///       --option standby_folder='D:\Undo' --out online.json
    #[command(verbatim_doc_comment)]
    Plan(Box<plan::PlanArgs>),
    /// Run a plan (or what is left of it after an interruption).
    ///
    /// Each step is recorded in the journal (plan.journal beside the plan) before and after it
    /// runs: a run that was killed or failed is started again with the same command and goes on
    /// where it stopped. Passwords come from SQLMIG_SOURCE_PASSWORD and SQLMIG_TARGET_PASSWORD,
    /// the container's SAS from SQLMIG_SAS (or --secrets FILE). Online plans also need
    /// SQLMIG_AZURE_TOKEN and, for MI's Log Replay Service, a SAS that only reads and lists
    /// (SQLMIG_LRS_SAS), or the storage account's key (SQLMIG_STORAGE_KEY) to make one.
    ///
    /// Example: sqlmig migrate run plan.json --source-user migrator --target-user migrator
    Run(run::RunArgs),
    /// Cut an online migration over: the running `migrate run` takes the tail of each named
    /// database's log (the source stops taking writes), lets MI restore it, brings the database
    /// online and reports the downtime. Stop the application first.
    ///
    /// Records the request in the journal; a `migrate run` of the plan acts on it within a
    /// second (or, if none is running, when you start one).
    ///
    /// Example: sqlmig migrate cutover plan.json Sales   (or --all)
    Cutover {
        /// The plan.
        plan: PathBuf,
        /// Databases to cut over.
        databases: Vec<String>,
        /// Every database of the plan.
        #[arg(long, conflicts_with = "databases")]
        all: bool,
        /// The journal (plan.journal beside the plan unless given).
        #[arg(long)]
        journal: Option<PathBuf>,
    },
    /// Where a migration stands: each step's state, attempts and result, from the journal.
    ///
    /// Example: sqlmig migrate status plan.json
    Status {
        /// The plan.
        plan: PathBuf,
        /// The journal (plan.journal beside the plan unless given).
        #[arg(long)]
        journal: Option<PathBuf>,
    },
}

/// Runs a migrate subcommand.
pub async fn run(ctx: &Context, cmd: MigrateCommand) -> Result<ExitCode, Failure> {
    match cmd {
        MigrateCommand::Plan(args) => plan::plan(ctx, *args).await,
        MigrateCommand::Run(args) => run::run_plan(ctx, args).await,
        MigrateCommand::Status { plan, journal } => {
            status::status(ctx, &plan, journal.as_deref()).await
        }
        MigrateCommand::Cutover {
            plan,
            databases,
            all,
            journal,
        } => cutover::cutover(ctx, &plan, &databases, all, journal.as_deref()).await,
    }
}

/// The journal: `--journal`, or plan.journal beside the plan.
fn journal_path(plan: &Path, journal: Option<&Path>) -> PathBuf {
    journal
        .map(Path::to_path_buf)
        .unwrap_or_else(|| journal::path_for(plan))
}
