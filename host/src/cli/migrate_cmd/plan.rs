//! `sqlmig migrate plan`: its flags, parsed into the plan's options; the plan made, shown and
//! written.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::cli::output::write_json;
use crate::cli::target::{HardwareArg, PolicyArg, TierArg};
use crate::cli::{Context, Failure, OutputFormat};
use crate::migrate::plan::{PlanOptions, Planned, make, render};
use crate::sizing::limits::{Hardware, Tier, UpdatePolicy};

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

pub(super) async fn plan(ctx: &Context, args: PlanArgs) -> Result<ExitCode, Failure> {
    let inventory = crate::cli::inventory_cmd::read(&args.inventory)?;
    // A method option is JSON when it reads as JSON (a number, true), text otherwise.
    let options = pairs(&args.options, "--option")?
        .into_iter()
        .map(|(k, v)| {
            let value = serde_json::from_str(&v).unwrap_or(serde_json::Value::String(v));
            (k, value)
        })
        .collect();
    let source_options = pairs(&args.source_options, "--source-option")?
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    let options = PlanOptions {
        inventory_file: args.inventory.clone(),
        instance: args.instance,
        databases: args.databases,
        renames: pairs(&args.rename, "--rename")?,
        source: args.source,
        target: args.target,
        target_platform: args.target_platform,
        target_resource: args.target_resource,
        management_url: args.management_url,
        container_url: args.container_url,
        source_folder: args.source_folder,
        local_folder: args.local_folder,
        method: args.method,
        parallel: args.parallel,
        options,
        source_options,
        tier: Tier::from(args.target_tier),
        hardware: Hardware::from(args.target_hardware),
        vcores: args.target_vcores,
        update_policy: UpdatePolicy::from(args.update_policy),
        assessment: args.assessment,
        accept: args.accept,
        secrets: args.secrets,
        perf: args.perf,
    };
    let Planned {
        plan,
        forecast,
        assessed,
    } = make(ctx, &inventory, &options).await?;
    if !ctx.quiet {
        eprintln!(
            "assessed by {} for {} under the {}: {} warning(s){}",
            assessed.record.by.join(", "),
            assessed.target,
            options.update_policy.label(),
            assessed.warnings.len(),
            if assessed.accepted == 0 {
                String::new()
            } else {
                format!(", {} accepted (--accept)", assessed.accepted)
            }
        );
        for f in &assessed.warnings {
            eprintln!("warning: {} [{}]: {}", f.place("/"), f.rule_id, f.message);
        }
    }
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
