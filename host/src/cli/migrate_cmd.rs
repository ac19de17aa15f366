//! `sqlmig migrate plan|run|status`: plan a move from an inventory, run it (journaled,
//! resumable), see where it stands.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlmig_inventory::migration::{
    CONTAINER, PLAN, Plan, Runner, SOURCE, Side, StepKind, Storage, TARGET,
};

use super::connect::{Login, TlsArgs, source_and_target};
use super::output::{Table, write_json, write_text};
use super::target::{HardwareArg, PolicyArg, TierArg};
use super::{Context, Failure, OutputFormat, platform};
use crate::capabilities::credentials::CloudValues;
use crate::capabilities::state::SqliteStateStore;
use crate::capabilities::{CapabilitySet, Services};
use crate::cloud::CloudHttp;
use crate::credentials::{SecretFor, secret};
use crate::migrate::HostContext;
use crate::migrate::authority;
use crate::migrate::gate::{self, AssessmentFile};
use crate::migrate::journal::{self, Journal, StepState};
use crate::migrate::plan::{
    PlanError, PlanInputs, ask_backup_offer, ask_plugin, attach_forecast, moving_from_inventory,
    pick_instance, render, request,
};
use crate::migrate::run::{Executor, Retry};
use crate::migrate::upload::UploadOptions;
use crate::plugins::load_plugin;
use crate::plugins::manifest::PluginKind;
use crate::plugins::store::PluginStore;
use crate::private_files;
use crate::runtime::LoadedPlugin;
use crate::sizing::forecast::Assumptions;
use crate::sizing::limits::{self, Hardware, Tier, UpdatePolicy};
use crate::sizing::perf_file::PerfFile;
use crate::sqlserver::ServerName;
use crate::storage::azure_blob::{AzureBlobBackend, AzureContainer, ContainerAccess};

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
    Plan(Box<PlanArgs>),
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
    Run(RunArgs),
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

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The inventory to move from (sqlmig discover --out FILE).
    #[arg(long)]
    pub inventory: PathBuf,
    /// The instance, when the inventory holds several.
    #[arg(long)]
    pub instance: Option<String>,
    /// Databases to move, comma-separated; every user database when not given.
    #[arg(long, value_delimiter = ',')]
    pub databases: Vec<String>,
    /// Restore a database under another name: SOURCE=TARGET. Repeatable.
    #[arg(long, value_name = "SOURCE=TARGET")]
    pub rename: Vec<String>,
    /// The source as SQL Server tools name it (HOST[\INSTANCE][,PORT]); the inventory's address
    /// when not given.
    #[arg(long)]
    pub source: Option<String>,
    /// The target Managed Instance (HOST[,PORT]).
    #[arg(long)]
    pub target: String,
    /// The target's platform.
    #[arg(long, default_value = "mi")]
    pub target_platform: String,
    /// The target Managed Instance's Azure resource id, for methods that call Azure Resource
    /// Manager (method-log-replay): /subscriptions/ID/resourceGroups/GROUP/providers/
    /// Microsoft.Sql/managedInstances/NAME (az sql mi show --query id). The ARM token is used
    /// for this resource and its databases only.
    #[arg(long, value_name = "ID")]
    pub target_resource: Option<String>,
    /// Azure Resource Manager's endpoint, when not Azure's public cloud
    /// (https://management.usgovcloudapi.net, or a test double's).
    #[arg(long, value_name = "URL", requires = "target_resource")]
    pub management_url: Option<String>,
    /// The blob container backups go to (no SAS in it: the SAS comes from SQLMIG_SAS or the
    /// secrets file; `sqlmig storage prepare` makes both).
    #[arg(long)]
    pub container_url: String,
    /// For sources older than SQL Server 2012 SP1 CU2: a folder the source backs up to, as the
    /// source names it (D:\Backups, \\share\backups).
    #[arg(long)]
    pub source_folder: Option<String>,
    /// The same folder as this machine reads it (uploaded from here).
    #[arg(long)]
    pub local_folder: Option<String>,
    /// The method plugin: method-backup-restore (offline) or method-log-replay (online).
    #[arg(long, default_value = "method-backup-restore")]
    pub method: String,
    /// Databases moved at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub parallel: u32,
    /// A method option, KEY=VALUE (repeatable; each method's are listed above).
    #[arg(long = "option", value_name = "KEY=VALUE")]
    pub options: Vec<String>,
    /// The target's service tier, for the forecast's log-rate limit.
    #[arg(long, value_enum, default_value_t = TierArg::MiGp)]
    pub target_tier: TierArg,
    /// The target's hardware, for the forecast's log-rate limit (Business Critical writes log
    /// 12 MiB/s per vCore on premium-series, 4.5 on standard-series).
    #[arg(long, value_enum, default_value_t = HardwareArg::StandardSeries)]
    pub target_hardware: HardwareArg,
    /// The target's vCores, for the forecast's log-rate limit.
    #[arg(long, default_value_t = 8)]
    pub target_vcores: u32,
    /// The target instance's update policy, for the assessment.
    #[arg(long, value_enum, default_value_t = PolicyArg::SqlServer2022)]
    pub update_policy: PolicyArg,
    /// An assessment of the inventory for the target tier (sqlmig assess --target TIER -o json
    /// --out FILE); otherwise every rule pack runs over the inventory now. A database an issue
    /// blocks is refused.
    #[arg(long, value_name = "FILE")]
    pub assessment: Option<PathBuf>,
    /// Rules whose issues and warnings you have dealt with, comma-separated (their ids, as
    /// assess shows them): the planned databases they concern are let through, and the plan
    /// records it.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub accept: Vec<String>,
    /// An option for the source's platform plugin, when the source runs in a cloud that backs
    /// it up by its own route (RDS: `s3_bucket=NAME`, `s3_prefix=PATH`). Repeatable.
    #[arg(long = "source-option", value_name = "KEY=VALUE")]
    pub source_options: Vec<String>,
    /// A secrets file whose [cloud] table holds the cloud credentials the source's platform
    /// plugin asks for (otherwise they come from the environment).
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    /// A performance collection (sqlmig perf collect) for log-rate peaks; the inventory's backup
    /// history gives daily averages otherwise.
    #[arg(long)]
    pub perf: Option<PathBuf>,
}

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

/// Runs a migrate subcommand.
pub async fn run(ctx: &Context, cmd: MigrateCommand) -> Result<ExitCode, Failure> {
    match cmd {
        MigrateCommand::Plan(args) => plan(ctx, *args).await,
        MigrateCommand::Run(args) => run_plan(ctx, args).await,
        MigrateCommand::Status { plan, journal } => status(ctx, &plan, journal.as_deref()).await,
        MigrateCommand::Cutover {
            plan,
            databases,
            all,
            journal,
        } => cutover(ctx, &plan, &databases, all, journal.as_deref()).await,
    }
}

fn load_method(
    ctx: &Context,
    name: &str,
    granted: &CapabilitySet,
) -> Result<LoadedPlugin, Failure> {
    let config = ctx.config()?;
    let store = PluginStore::new(ctx.paths.plugins_dir());
    let plugin = store
        .find(name)
        .map_err(|e| Failure::bad_input(e).hint("list method plugins with `sqlmig plugin list`"))?;
    if plugin.manifest.kind != PluginKind::Method {
        return Err(Failure::bad_input(format!(
            "{name} is a {} plugin, not a migration method",
            plugin.manifest.kind
        )));
    }
    let runtime = ctx.runtime()?;
    load_plugin(runtime, &plugin, &config, granted).map_err(|e| Failure::io(e.to_string()))
}

fn pairs(values: &[String], flag: &str) -> Result<Vec<(String, String)>, Failure> {
    values
        .iter()
        .map(|v| {
            v.split_once('=')
                .filter(|(k, _)| !k.trim().is_empty())
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| Failure::bad_input(format!("{flag} {v}: write KEY=VALUE")))
        })
        .collect()
}

async fn plan(ctx: &Context, args: PlanArgs) -> Result<ExitCode, Failure> {
    let inventory = super::inventory_cmd::read(&args.inventory)?;
    let renames = pairs(&args.rename, "--rename")?;
    let mut options = serde_json::Map::new();
    for (k, v) in pairs(&args.options, "--option")? {
        let value = serde_json::from_str(&v).unwrap_or(serde_json::Value::String(v));
        options.insert(k, value);
    }
    let container_url = args.container_url.trim_end_matches('/').to_string();
    if let Some(why) = authority::container_url_problem(&container_url) {
        return Err(Failure::bad_input(format!("--container-url: {why}")));
    }
    if let Some(why) = args
        .target_resource
        .as_deref()
        .and_then(authority::resource_id_problem)
    {
        return Err(Failure::bad_input(format!("--target-resource: {why}")));
    }
    let management_url = args.target_resource.as_ref().map(|_| {
        args.management_url
            .as_deref()
            .unwrap_or(authority::AZURE_MANAGEMENT_URL)
            .trim_end_matches('/')
            .to_string()
    });
    if let Some(why) = management_url
        .as_deref()
        .and_then(authority::management_url_problem)
    {
        return Err(Failure::bad_input(format!("--management-url: {why}")));
    }
    // Recorded as an absolute path: the host reads uploads from it whatever the run's folder.
    let local_folder = match (&args.local_folder, &args.source_folder) {
        (Some(folder), _) => Some(
            std::path::absolute(folder)
                .map_err(|e| Failure::bad_input(format!("--local-folder {folder}: {e}")))?
                .display()
                .to_string(),
        ),
        // The source's folder, when this machine reads it at the same path (a share mounted
        // alike); `D:\Backups` is no path here.
        (None, Some(folder)) if Path::new(folder).is_absolute() => Some(folder.clone()),
        (None, _) => None,
    };
    let target =
        ServerName::parse(&args.target).map_err(|e| Failure::bad_input(format!("--target {e}")))?;
    if let Some(s) = &args.source {
        ServerName::parse(s).map_err(|e| Failure::bad_input(format!("--source {e}")))?;
    }
    let inputs = PlanInputs {
        inventory: &inventory,
        instance: args.instance.as_deref(),
        databases: &args.databases,
        renames: &renames,
        source_server: args.source.clone(),
        target: Side {
            server: target.to_string(),
            platform: args.target_platform.clone(),
            resource_id: args.target_resource.clone(),
            management_url,
            ..Default::default()
        },
        storage: Storage {
            container_url,
            source_folder: args.source_folder.clone(),
            local_folder,
        },
        parallelism: args.parallel,
        options,
    };
    let mut req = request(&inputs)
        .map_err(|e| Failure::bad_input(format!("{}: {e}", args.inventory.display())))?;
    let inst = pick_instance(&inventory, args.instance.as_deref()).map_err(Failure::bad_input)?;
    req.source_backup = source_backup_offer(ctx, &args, inst, &req).await?;
    let plugin = load_method(ctx, &args.method, &CapabilitySet::default())?;
    let mut plan = ask_plugin(&plugin, &req).await.map_err(|e| match e {
        PlanError::Plugin(e) => Failure::plugin(e),
        e if e.is_bad_input() => Failure::bad_input(e),
        e => Failure::io(e),
    })?;
    // The plugin planned; what the host will do with the operator's authority is the host's.
    plan.method = args.method.clone();
    authority::check_answer(&req, &plan)
        .and_then(|()| authority::check_plan(&plan))
        .and_then(|()| authority::with_host_previews(&mut plan))
        .map_err(|e| {
            Failure::bad_input(format!("{}: {e}", args.method))
                .hint("nothing was written: a method plugin that plans outside what you gave is faulty or hostile; update or remove it (sqlmig plugin remove NAME)")
        })?;
    let (tier, hardware) = (
        Tier::from(args.target_tier),
        Hardware::from(args.target_hardware),
    );
    plan.assessment = Some(assessment_gate(ctx, &args, &inventory, &inst.name, &plan, tier).await?);
    let moving = match &args.perf {
        Some(p) => {
            let f = PerfFile::read(p).map_err(Failure::bad_input)?;
            let all = f.moving(95.0);
            plan.databases
                .iter()
                .filter_map(|d| all.iter().find(|m| m.database == d.name).cloned())
                .collect()
        }
        None => moving_from_inventory(inst, &plan),
    };
    if !limits::vcores(tier, hardware).contains(&args.target_vcores) {
        return Err(Failure::bad_input(format!(
            "--target-vcores {}: {} on {} comes with {:?} vCores",
            args.target_vcores,
            tier.label(),
            hardware.label(),
            limits::vcores(tier, hardware)
        )));
    }
    let forecast = attach_forecast(
        &mut plan,
        &moving,
        limits::log_rate_mib_s(tier, hardware, args.target_vcores),
        // The run moves `--parallel` databases at once: so does the forecast.
        &Assumptions {
            parallel: args.parallel,
            ..Assumptions::default()
        },
    );
    let value = serde_json::to_value(&plan).expect("a plan serializes");
    if let Some(out) = &ctx.out {
        write_json(&value, Some(out))?;
        if !ctx.quiet {
            eprint!("{}", render(&plan, Some(&forecast)));
            eprintln!(
                "\nwrote {0}; next: `sqlmig storage check --plan {0} --secrets FILE` (its SAS tokens), then `sqlmig migrate run {0} --source-user LOGIN --target-user LOGIN --secrets FILE`",
                out.display()
            );
        }
    } else if ctx.output == OutputFormat::Json {
        write_json(&value, None)?;
    } else {
        print!("{}", render(&plan, Some(&forecast)));
        eprintln!("hint: keep the plan with --out plan.json, then `sqlmig migrate run plan.json`");
    }
    Ok(ExitCode::SUCCESS)
}

/// The assessment of the planned databases for `tier`: the file's (--assessment) or the rule
/// packs' run now. Refuses the plan when an issue no `--accept` names blocks a database, naming
/// each finding and its fix; shows the warnings.
async fn assessment_gate(
    ctx: &Context,
    args: &PlanArgs,
    inventory: &sqlmig_inventory::Inventory,
    instance: &str,
    plan: &Plan,
    tier: Tier,
) -> Result<sqlmig_inventory::migration::PlanAssessment, Failure> {
    let databases: Vec<String> = plan.databases.iter().map(|d| d.name.clone()).collect();
    let (by, findings) = match &args.assessment {
        Some(path) => {
            let a = AssessmentFile::read(path, tier.id(), instance, &databases)
                .map_err(Failure::bad_input)?;
            (vec![path.display().to_string()], a.findings)
        }
        None => {
            let options = super::assess_cmd::pack_options(args.target_tier, args.update_policy);
            // Only the planned instance: an estate's other instances are not this plan's.
            let mut planned = inventory.clone();
            planned
                .instances
                .retain(|i| i.name.eq_ignore_ascii_case(instance));
            let (labels, outcome) = super::assess_cmd::evaluate(
                ctx,
                &[],
                &options,
                super::assess_cmd::Probes::None,
                &planned,
                4,
            )
            .await?;
            if let Some(f) = outcome
                .failures
                .iter()
                .find(|f| f.instance.eq_ignore_ascii_case(instance))
            {
                return Err(Failure::bad_input(format!(
                    "rule pack {} could not assess {instance}: {}",
                    f.rule_pack, f.error
                ))
                .hint("nothing was written: fix or remove the rule pack, or plan from an assessment file (--assessment)"));
            }
            (labels, outcome.findings)
        }
    };
    let target = format!("{} ({})", tier.label(), tier.id());
    let verdict =
        gate::judge(&findings, instance, &databases, &args.accept).map_err(Failure::bad_input)?;
    if !verdict.blocking.is_empty() {
        return Err(Failure::bad_input(verdict.refusal(&target)).hint(
            "nothing was written: fix each and plan again, leave a database out with --databases, or --accept RULE[,…] what you have dealt with another way (the plan records it)",
        ));
    }
    if !ctx.quiet {
        let policy = UpdatePolicy::from(args.update_policy);
        eprintln!(
            "assessed by {} for {target} under the {}: {} warning(s){}",
            by.join(", "),
            policy.label(),
            verdict.warnings.len(),
            if verdict.accepted.is_empty() {
                String::new()
            } else {
                format!(", {} accepted (--accept)", verdict.accepted.len())
            }
        );
        for f in &verdict.warnings {
            eprintln!("warning: {} [{}]: {}", f.place("/"), f.rule_id, f.message);
        }
    }
    Ok(verdict.record(by, tier.id(), &args.accept))
}

/// The backup route of the source's platform, when its plugin offers one (its `plan` hook): a
/// cloud whose instances cannot write to the container themselves.
async fn source_backup_offer(
    ctx: &Context,
    args: &PlanArgs,
    inst: &sqlmig_inventory::Instance,
    req: &sqlmig_inventory::migration::PlanRequest,
) -> Result<Option<sqlmig_inventory::migration::BackupOffer>, Failure> {
    let mut options = serde_json::Map::new();
    for (k, v) in pairs(&args.source_options, "--source-option")? {
        options.insert(k, serde_json::Value::String(v));
    }
    let platform_name = if inst.platform.is_empty() {
        "onprem"
    } else {
        inst.platform.as_str()
    };
    // A platform whose plugin offers no route (on-prem; one not installed here) backs up to
    // the container itself.
    let installed = match platform::find(ctx, platform_name) {
        Ok(p) if p.manifest.offers_backup() => p,
        _ if options.is_empty() => return Ok(None),
        _ => {
            return Err(Failure::bad_input(format!(
                "--source-option: the source's platform ({platform_name}) takes no options: its \
                 instances back up to the container themselves"
            )));
        }
    };
    let loaded = platform::load(
        ctx,
        &installed,
        CapabilitySet::default(),
        args.secrets.as_deref(),
    )?;
    let offer = ask_backup_offer(&loaded.plugin, &installed.manifest.name, inst, req, options)
        .await
        .map_err(Failure::plugin)?;
    Ok(Some(offer))
}

/// Reads a plan file; returns it and its SHA-256 (the journal is tied to it). The plan says where
/// the operator's logins, SAS and token go, so only a plan no other user could have written is
/// read (as [`private_files::read`] checks it).
pub(super) fn read_plan(path: &Path) -> Result<(Plan, String), Failure> {
    let bytes = match private_files::read(path) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err(
                Failure::bad_input(format!("{}: no such file", path.display()))
                    .hint("a plan is written by `sqlmig migrate plan --out FILE`"),
            );
        }
        Err(why) => {
            return Err(Failure::bad_input(format!(
                "{}: {why}: a plan directs where your logins, SAS and token are sent, so sqlmig \
                 runs only a plan no other user could have written",
                path.display()
            ))
            .hint(format!(
                "if the plan is as you wrote it, make it yours alone (chmod go-w {}); a \
                 colleague's plan: read it (`sqlmig migrate run {} --dry-run` once it is yours) \
                 and copy it with cp, which makes the copy yours; otherwise plan again",
                path.display(),
                path.display()
            )));
        }
    };
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let plan: Plan = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        Failure::bad_input(format!(
            "{}: not a plan: at {}: {}",
            path.display(),
            e.path(),
            e.inner()
        ))
        .hint("a plan is written by `sqlmig migrate plan --out FILE`")
    })?;
    if plan.schema != PLAN {
        return Err(Failure::bad_input(format!(
            "{}: schema {:?}, expected {PLAN:?}",
            path.display(),
            plan.schema
        )));
    }
    Ok((plan, hex::encode(Sha256::digest(&bytes))))
}

async fn run_plan(ctx: &Context, args: RunArgs) -> Result<ExitCode, Failure> {
    let (plan, sha) = read_plan(&args.plan)?;
    // Nothing connects before every step is known to stay within the plan's recorded inputs.
    authority::check_plan(&plan).map_err(|e| {
        Failure::bad_input(format!("{}: {e}", args.plan.display())).hint(
            "the plan was edited or written by a faulty or hostile plugin: plan again with `sqlmig migrate plan`",
        )
    })?;
    let journal_path = args
        .journal
        .clone()
        .unwrap_or_else(|| journal::path_for(&args.plan));
    let redo = steps_to_redo(&plan, &args.redo)
        .map_err(|e| Failure::bad_input(format!("{}: {e}", args.plan.display())))?;
    if args.dry_run {
        return dry_run(&plan, &journal_path, &sha, &redo);
    }
    let (Some(source_user), Some(target_user)) = (&args.source_user, &args.target_user) else {
        return Err(Failure::bad_input(
            "migrate run needs --source-user and --target-user (or --dry-run)",
        ));
    };
    let secrets = args.secrets.as_deref();
    let source_password =
        secret(SecretFor::Source, source_user, secrets).map_err(Failure::bad_input)?;
    let target_password =
        secret(SecretFor::Target, target_user, secrets).map_err(Failure::bad_input)?;
    let sas =
        secret(SecretFor::Sas, "the container's SAS token", secrets).map_err(Failure::bad_input)?;
    // A SAS that cannot serve is named now, not as a backup's "operating system error 86".
    let now = chrono::Utc::now();
    let source_major = plan
        .source
        .product_version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok());
    let lacks = crate::storage::sas::shortfall(
        crate::storage::sas::Party::Source,
        sas.expose(),
        now,
        now,
        source_major,
    );
    if !lacks.is_empty() {
        return Err(Failure::bad_input(format!(
            "the container's SAS ({}, or `{}` in the secrets file): {}",
            SecretFor::Sas.env_var(),
            SecretFor::Sas.file_key(),
            lacks.join("; ")
        ))
        .hint(format!(
            "make new ones with `sqlmig storage prepare --container-url {} --secrets FILE`; `sqlmig storage check --plan {}` checks them",
            plan.storage.container_url,
            args.plan.display()
        )));
    }
    // MI's Log Replay Service reads with a SAS of its own (read and list only): had before
    // anything runs, so a missing or writing one stops the run before anything moves.
    let lrs_sas = if plan
        .steps
        .iter()
        .any(|s| s.runner == Runner::Host && s.kind == StepKind::StartLogReplay)
    {
        Some(
            crate::cloud::lrs_sas(&plan.storage.container_url, secrets)
                .map_err(|e| Failure::bad_input(format!("{}: {e}", args.plan.display())))?,
        )
    } else {
        None
    };
    let sql = Arc::new(source_and_target(
        Login {
            server: &plan.source.server,
            user: source_user,
            password: source_password.clone(),
        },
        Login {
            server: &plan.target.server,
            user: target_user,
            password: target_password.clone(),
        },
        &args.tls,
        &args.plan.display().to_string(),
    )?);
    super::connect::check_logins(&*sql, source_user, target_user, secrets).await?;
    let access = ContainerAccess {
        url: plan.storage.container_url.clone(),
        sas: sas.clone(),
    };
    let container = AzureContainer::connect(&access)
        .map_err(|e| Failure::bad_input(format!("{}: {e}", args.plan.display())))?;
    // Held until this run ends, however it ends: `migrate status` tells a running step from an
    // interrupted one by it, and a second run of the plan waits its turn.
    let _run = journal::RunLock::acquire(&journal_path).map_err(Failure::bad_input)?;
    let journal = Journal::open(&journal_path, &sha).map_err(Failure::bad_input)?;
    for id in &redo {
        journal.reset(id).map_err(Failure::io)?;
    }
    // How this run was started (no secret: logins, files and flags), for `migrate status` to
    // give the exact command that resumes it.
    journal
        .set_meta("run_command", &rerun_command(&args))
        .map_err(Failure::io)?;
    let journal = Arc::new(Mutex::new(journal));
    // A plan for a target resource talks to Azure Resource Manager: the token stays in the
    // host, and goes only to that resource and its databases.
    let management = plan.target.management_url.clone();
    let (cloud, token) = match (&management, &plan.target.resource_id) {
        (Some(origin), Some(resource)) => {
            let token = secret(SecretFor::AzureToken, "Azure Resource Manager", secrets)
                .map_err(Failure::bad_input)?;
            let http =
                CloudHttp::for_resource(origin, token.clone(), resource).map_err(Failure::io)?;
            (Some(Arc::new(http)), Some(token))
        }
        _ => (None, None),
    };
    let granted = CapabilitySet {
        sql: vec![SOURCE.into(), TARGET.into()],
        blob: vec![CONTAINER.into()],
        http: management.iter().cloned().collect(),
        state: true,
        ..Default::default()
    };
    let plugin = load_method(ctx, &plan.method, &granted)?;
    let state: Arc<SqliteStateStore> =
        Arc::new(SqliteStateStore::open(&journal_path).map_err(|e| Failure::io(e.to_string()))?);
    // A source in a cloud backs up by its platform plugin's route: it reads the source, writes
    // the container (copies from its cloud's storage) and keeps its own state in the journal.
    let platform = match &plan.source_platform {
        Some(name) => {
            let installed = platform::find(ctx, name)?;
            let loaded = platform::load(
                ctx,
                &installed,
                CapabilitySet {
                    sql: vec![SOURCE.into()],
                    blob: vec![CONTAINER.into()],
                    state: true,
                    ..Default::default()
                },
                secrets,
            )?;
            let services = Services {
                sql: Some(sql.clone()),
                blob: Some(Arc::new(AzureBlobBackend::new(BTreeMap::from([(
                    CONTAINER.to_string(),
                    access.clone(),
                )])))),
                state: Some(state.clone()),
                ..loaded.cloud.clone()
            };
            Some((Arc::new(loaded.plugin), services))
        }
        None => None,
    };
    let services = Services {
        sql: Some(sql.clone()),
        // Plugins read backup headers back through it; the SAS stays here.
        blob: Some(Arc::new(AzureBlobBackend::new(BTreeMap::from([(
            CONTAINER.to_string(),
            access,
        )])))),
        http: cloud
            .clone()
            .map(|c| c as Arc<dyn crate::capabilities::http::HttpBackend>),
        state: Some(state),
        // The management endpoint the plan was made for, which the method's manifest asks for
        // as `$MANAGEMENT_URL`.
        cloud: management.as_deref().map(|origin| {
            Arc::new(CloudValues::settings([(
                authority::MANAGEMENT_URL_SETTING,
                origin,
            )]))
        }),
        ..Default::default()
    };
    let mut secrets_kept = vec![
        source_password.clone(),
        target_password.clone(),
        sas.clone(),
    ];
    secrets_kept.extend(token);
    secrets_kept.extend(lrs_sas.clone());
    let executor = Executor {
        host: HostContext {
            sql,
            cloud,
            container: Some(Arc::new(container)),
            sas: sas.clone(),
            lrs_sas,
            mi_location: Default::default(),
            journal: journal.clone(),
            upload: UploadOptions {
                concurrency: args.upload_concurrency.into(),
                ..Default::default()
            },
            // The upload's progress line rewrites itself: only on a terminal.
            progress: !ctx.quiet && std::io::stderr().is_terminal(),
        },
        plan,
        plugin: Arc::new(plugin),
        services,
        platform,
        journal,
        retry: Retry {
            attempts: args.tries,
            base: Duration::from_millis(args.retry_wait),
        },
        quiet: ctx.quiet,
        secrets: secrets_kept,
    };
    let summary = executor.run().await.map_err(Failure::io)?;
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

async fn cutover(
    ctx: &Context,
    plan_path: &Path,
    databases: &[String],
    all: bool,
    journal: Option<&Path>,
) -> Result<ExitCode, Failure> {
    use crate::capabilities::state::StateStore;
    let (plan, sha) = read_plan(plan_path)?;
    if !plan.steps.iter().any(|s| s.kind == StepKind::Cutover) {
        return Err(Failure::bad_input(format!(
            "{}: a {} plan is offline: its databases come online when restored, there is nothing to cut over",
            plan_path.display(),
            plan.method
        )));
    }
    let chosen: Vec<String> = if all {
        plan.databases.iter().map(|d| d.name.clone()).collect()
    } else if databases.is_empty() {
        return Err(Failure::bad_input(
            "name the databases to cut over, or --all",
        ));
    } else {
        databases.to_vec()
    };
    for d in &chosen {
        if !plan.databases.iter().any(|p| &p.name == d) {
            return Err(Failure::bad_input(format!(
                "{}: no database {d} in the plan (it moves: {})",
                plan_path.display(),
                plan.databases
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let path = journal
        .map(Path::to_path_buf)
        .unwrap_or_else(|| journal::path_for(plan_path));
    let not_begun = || {
        Failure::bad_input(format!(
            "{}: the migration has not begun, so there is nothing to cut over yet",
            plan_path.display()
        ))
        .hint(format!(
            "start it with `sqlmig migrate run {}` (with its logins), and ask for the cutover once `sqlmig migrate status {}` shows each database replicating",
            plan_path.display(),
            plan_path.display()
        ))
    };
    if !path.exists() {
        return Err(not_begun());
    }
    // Opening checks the journal belongs to this plan.
    let j = Journal::open(&path, &sha).map_err(Failure::bad_input)?;
    // A database is cut over once: asked again, it is said so. One whose replication has not
    // begun would have its tail taken right after its full backup: refused.
    let mut asked = Vec::new();
    for d in &chosen {
        let steps: Vec<&sqlmig_inventory::migration::Step> =
            plan.steps.iter().filter(|s| &s.database == d).collect();
        let Some(at) = steps.iter().position(|s| s.kind == StepKind::Cutover) else {
            continue;
        };
        let cut = j.step(&steps[at].id).map_err(Failure::io)?;
        if cut.state == StepState::Done {
            eprintln!(
                "{d} is cut over already: {}",
                cut.message.unwrap_or_default()
            );
            continue;
        }
        let mut begun = false;
        for s in &steps[..at] {
            begun |= j.step(&s.id).map_err(Failure::io)?.state != StepState::Pending;
        }
        if !begun {
            return Err(Failure::bad_input(format!(
                "{d}: its migration has not begun, so there is nothing to cut over yet"
            ))
            .hint(format!(
                "run the plan (`sqlmig migrate run {}`) and ask for the cutover once `sqlmig migrate status {}` shows {d} replicating",
                plan_path.display(),
                plan_path.display()
            )));
        }
        asked.push(d.clone());
    }
    if asked.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let chosen = asked;
    let state = SqliteStateStore::open(&path).map_err(|e| Failure::io(e.to_string()))?;
    // The request carries its time (ms since the epoch): a source platform that ships its own
    // log backups waits for one taken after it. Both the method and that platform see it.
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        .to_string();
    let scopes: Vec<&str> = std::iter::once(plan.method.as_str())
        .chain(plan.source_platform.as_deref())
        .collect();
    for d in &chosen {
        for scope in &scopes {
            state
                .set(scope, &format!("cutover/{d}"), at.as_bytes().to_vec())
                .await
                .map_err(|e| Failure::io(e.to_string()))?;
        }
    }
    if !ctx.quiet {
        eprintln!(
            "cutover asked for {}: the running `sqlmig migrate run {}` takes it from here (start it again if it is not running)",
            chosen.join(", "),
            plan_path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
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

/// When the cutover of `database` was asked for (`migrate cutover` records it in the journal's
/// plugin state), if it was.
async fn cutover_asked(
    state: &SqliteStateStore,
    method: &str,
    database: &str,
) -> Result<Option<String>, Failure> {
    use crate::capabilities::state::StateStore;
    let asked = state
        .get(method, &format!("cutover/{database}"))
        .await
        .map_err(|e| Failure::io(e.to_string()))?;
    Ok(asked
        .and_then(|ms| String::from_utf8(ms).ok()?.parse::<i64>().ok())
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
}

/// The steps `--redo` names, each with the steps after it in its sequence (its database's, or
/// the instance-wide ones); an id the plan does not hold is an error listing those it does.
fn steps_to_redo(plan: &Plan, redo: &[String]) -> Result<Vec<String>, String> {
    let mut ids: Vec<String> = Vec::new();
    for wanted in redo {
        let Some(at) = plan.steps.iter().position(|s| &s.id == wanted) else {
            let known: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
            return Err(format!(
                "--redo {wanted}: the plan has no such step; its steps are {}",
                known.join(", ")
            ));
        };
        let database = &plan.steps[at].database;
        for s in plan.steps[at..].iter().filter(|s| &s.database == database) {
            if !ids.contains(&s.id) {
                ids.push(s.id.clone());
            }
        }
    }
    Ok(ids)
}

/// The steps left and what they would run, without connecting to anything.
fn dry_run(
    plan: &Plan,
    journal_path: &Path,
    sha: &str,
    redo: &[String],
) -> Result<ExitCode, Failure> {
    let journal = if journal_path.exists() {
        Some(Journal::open(journal_path, sha).map_err(Failure::bad_input)?)
    } else {
        None
    };
    let mut out = String::from("# the host reaches, with your credentials:\n");
    for line in authority::reach(plan) {
        out.push_str(&format!("#   {line}\n"));
    }
    for s in &plan.steps {
        let state = match &journal {
            Some(j) => j.step(&s.id).map_err(Failure::io)?.state.as_str(),
            None => "pending",
        };
        if state == "done" && !redo.contains(&s.id) {
            out.push_str(&format!("# {} (done)\n", s.id));
            continue;
        }
        out.push_str(&format!("# {}: {}\n", s.id, s.description));
        // A host step shows what the host runs, resolved now; a plugin's step what it wrote.
        let preview = match s.runner {
            Runner::Host => authority::resolve(plan, s)
                .map(|a| authority::preview(&a))
                .map_err(Failure::bad_input)?,
            _ => s.preview.clone(),
        };
        for p in &preview {
            out.push_str(&format!("{p}\n"));
        }
    }
    write_text(&out, None)?;
    Ok(ExitCode::SUCCESS)
}

async fn status(
    ctx: &Context,
    plan_path: &Path,
    journal: Option<&Path>,
) -> Result<ExitCode, Failure> {
    let (plan, sha) = read_plan(plan_path)?;
    let path = journal
        .map(Path::to_path_buf)
        .unwrap_or_else(|| journal::path_for(plan_path));
    let j = if path.exists() {
        Some(Journal::open(&path, &sha).map_err(Failure::bad_input)?)
    } else {
        None
    };
    // A step recorded as running while no run holds the journal was cut short.
    let alive = journal::RunLock::held(&path);
    let mut rows = Vec::new();
    let mut interrupted = false;
    // The journal's plugin state, opened once when a cutover step asks about it.
    let mut state: Option<SqliteStateStore> = None;
    for s in &plan.steps {
        let rec = match &j {
            Some(j) => {
                let mut r = j.step(&s.id).map_err(Failure::io)?;
                if r.state == StepState::Running && !alive {
                    r.state = StepState::Interrupted;
                    interrupted = true;
                }
                // A step under way shows its latest progress (a replication's lag); a cutover
                // asked for and not yet done, when it was asked.
                let progress = match r.state {
                    StepState::Running | StepState::Interrupted => {
                        j.last_progress(&s.id).map_err(Failure::io)?
                    }
                    StepState::Done => None,
                    _ if s.kind == StepKind::Cutover => {
                        if state.is_none() {
                            state = Some(
                                SqliteStateStore::open(&path)
                                    .map_err(|e| Failure::io(e.to_string()))?,
                            );
                        }
                        let state = state.as_ref().expect("opened above");
                        cutover_asked(state, &plan.method, &s.database)
                            .await?
                            .map(|at| {
                                (
                                    at,
                                    "cutover asked for; the running `migrate run` acts on it"
                                        .to_string(),
                                )
                            })
                    }
                    _ => None,
                };
                Some((r, progress))
            }
            None => None,
        };
        rows.push((s, rec));
    }
    let rerun = match &j {
        Some(j) => j.meta("run_command").map_err(Failure::io)?,
        None => None,
    }
    .unwrap_or_else(|| format!("sqlmig migrate run {} …", plan_path.display()));
    let resume = format!("interrupted: the run stopped mid-step; rerun `{rerun}` to resume");
    if ctx.output == OutputFormat::Json {
        let steps: Vec<serde_json::Value> = rows
            .iter()
            .map(|(s, rec)| {
                let r = rec.as_ref().map(|(r, _)| r);
                let progress = rec.as_ref().and_then(|(_, p)| p.as_ref());
                json!({
                    "step": s.id,
                    "database": s.database,
                    "kind": s.kind,
                    "state": r.map_or("pending", |r| r.state.as_str()),
                    "attempts": r.map_or(0, |r| r.attempts),
                    "finished_at": r.and_then(|r| r.finished_at.clone()),
                    "message": r.and_then(|r| r.message.clone()),
                    "progress": progress.map(|(at, message)| json!({ "at": at, "message": message })),
                    "error": r.and_then(|r| r.error.clone()),
                    "output": r.and_then(|r| r.output.clone()),
                })
            })
            .collect();
        write_json(
            &json!({ "plan": plan_path, "journal": path, "running": alive, "steps": steps }),
            ctx.out.as_deref(),
        )?;
        if interrupted && !ctx.quiet {
            eprintln!("{resume}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(&["STEP", "STATE", "TRIES", "FINISHED", "RESULT"]);
    for (s, rec) in &rows {
        let (state, tries, finished, result) = match rec {
            Some((r, progress)) => (
                r.state.as_str(),
                r.attempts.to_string(),
                r.finished_at.clone().unwrap_or_default(),
                r.error
                    .clone()
                    .or_else(|| progress.as_ref().map(|(at, m)| format!("{m} (at {at})")))
                    .or_else(|| r.message.clone())
                    .unwrap_or_default(),
            ),
            None => ("pending", "0".into(), String::new(), String::new()),
        };
        t.row(vec![s.id.clone(), state.into(), tries, finished, result]);
    }
    print!("{}", t.render());
    if interrupted {
        eprintln!("{resume}");
    }
    if j.is_none() {
        eprintln!(
            "(no journal yet: {} — the plan has not been run)",
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
