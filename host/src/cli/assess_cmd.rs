//! `sqlmig assess`: run rule packs over an inventory, offline, and report what blocks or changes
//! on Azure SQL Managed Instance.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::discover_cmd::server_flags;
use super::inventory_cmd;
use super::output::{Table, write_json};
use super::target::{PolicyArg, TierArg};
use super::{Context, Failure, OutputFormat};
use crate::assess::assessment_api::ProbeResults;
use crate::assess::packs::{Evaluated, Probes, evaluate, pack_options};
use crate::assess::sources::{Gathered, Sources, gather};
use crate::assess::{Assessment, html};
use crate::assess::{Finding, Level};
use crate::discover::estate::DiscoverOptions;
use crate::sizing::limits::{Tier, UpdatePolicy};
use crate::sqlserver::Encrypt;

/// Assess what blocks or changes on Azure SQL Managed Instance, and how ready each database is
///
/// Runs offline on an inventory written by `sqlmig discover`, on servers it collects from first
/// (--server, as discover does), on script files (a .sql file, a folder of them, or an SSDT
/// project; sqlcmd :setvar, $(var) and :r are understood), or on several of these at once. Each
/// --scripts path is reported as a database of the instance `scripts`, with file and line for
/// every finding. Every rule pack (plugins of kind `rules`, such as the bundled rules-mi) runs
/// unless --rules names some; --rules also takes house-rules .toml files. Exit code 1 when
/// anything is blocked, 2 for bad input, 3 when a rule pack failed.
///
/// Examples:
///   sqlmig assess --inventory inventory.json
///   sqlmig assess --inventory inventory.json -o csv --out findings.csv
///   sqlmig assess --inventory inventory.json --target mi-bc -o html --out report.html
///   sqlmig assess --inventory inventory.json --target mi-gp-nextgen --update-policy sql-server-2025
///   sqlmig assess --server 'SQL01\SALES' --user sqlmig_ro --trust-server-certificate
///   sqlmig assess --scripts ./Database/ --var Env=prod
///   sqlmig assess --scripts Sales.sqlproj --scripts deploy/post.sql -o json
///   sqlmig assess --inventory inventory.json --rules rules-mi --rules rules-acme -o json
///   sqlmig assess --inventory inventory.json --rules rules-mi --rules house-rules.toml
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct AssessArgs {
    /// The inventory to assess.
    #[arg(long, value_name = "FILE", required_unless_present_any = ["scripts", "server"])]
    pub inventory: Option<PathBuf>,
    /// A server to collect from first, as discover does (HOST, HOST,PORT, HOST\INSTANCE;
    /// repeatable). The password comes from SQLMIG_PASSWORD, --secrets or a prompt.
    #[arg(long, value_name = "SERVER")]
    pub server: Vec<String>,
    /// The SQL login to collect with (with --server).
    #[arg(long, short = 'U', requires = "server")]
    pub user: Option<String>,
    /// A TOML file holding `password = "…"` (owner-readable only), with --server.
    #[arg(long, value_name = "FILE", requires = "server")]
    pub secrets: Option<PathBuf>,
    /// How connections are encrypted (with --server).
    #[arg(long, value_enum, default_value_t = Encrypt::Strict)]
    pub encrypt: Encrypt,
    /// Accept servers' self-signed certificates (with --server).
    #[arg(long)]
    pub trust_server_certificate: bool,
    /// Keep the SQL Assessment API probe results run with --server in this file, to assess
    /// again offline with --probe-results.
    #[arg(long, value_name = "FILE", requires = "server")]
    pub save_probe_results: Option<PathBuf>,
    /// Keep the inventory collected with --server in this file, to assess again offline.
    #[arg(long, value_name = "FILE", requires = "server")]
    pub save_inventory: Option<PathBuf>,
    /// T-SQL to assess (repeatable): a .sql file, a folder of .sql files, or an SSDT project
    /// (.sqlproj, or a folder holding one).
    #[arg(long, value_name = "PATH")]
    pub scripts: Vec<PathBuf>,
    /// A sqlcmd variable for the scripts, NAME=VALUE (repeatable), as `sqlcmd -v`; a :setvar in
    /// a script overrides it from that line on.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// A rule pack to run (repeatable): a rule plugin's name, a house-rules .toml file
    /// (docs/house-rules.md), or a SQL Assessment API ruleset .json (Microsoft's ruleset.json
    /// and custom rulesets over it, in order); default: every plugin of kind `rules`.
    #[arg(long, value_name = "PLUGIN|FILE")]
    pub rules: Vec<String>,
    /// Captured results of SQL Assessment API T-SQL probes (JSON: per instance, `server` and
    /// `databases` probe rows), to run those rules offline.
    #[arg(long, value_name = "FILE")]
    pub probe_results: Option<PathBuf>,
    /// The Managed Instance service tier to assess for (its limits: databases, storage, files,
    /// In-Memory OLTP).
    #[arg(long, value_enum, default_value_t = TierArg::MiGp)]
    pub target: TierArg,
    /// The target instance's update policy (the highest compatibility level it runs).
    #[arg(long, value_enum, default_value_t = PolicyArg::SqlServer2022)]
    pub update_policy: PolicyArg,
    /// Rule-pack calls run at once (one per pack and instance).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

/// Captured SQL Assessment API probe results (`--probe-results`).
fn read_probe_results(path: &Path) -> Result<ProbeResults, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::bad_input(format!("cannot read probe results {}: {e}", path.display()))
    })?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(Failure::bad_input(format!(
            "probe results {} are not a JSON object of instances (docs/assessment.md)",
            path.display()
        ))),
    }
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("expected NAME=VALUE, got {s:?}")),
    }
}

/// What `args` names to assess: the inventory file (read), the servers to collect from, the
/// scripts.
fn sources(args: &AssessArgs) -> Result<Sources, Failure> {
    let collect = if args.server.is_empty() {
        None
    } else {
        let user = args.user.clone().ok_or_else(|| {
            Failure::bad_input("--server needs --user (the SQL login to collect with)")
        })?;
        Some(DiscoverOptions {
            servers: server_flags(&args.server)?,
            user: Some(user),
            secrets: args.secrets.clone(),
            encrypt: args.encrypt,
            trust_server_certificate: args.trust_server_certificate,
            concurrency: args.concurrency.into(),
            ..DiscoverOptions::default()
        })
    };
    Ok(Sources {
        inventory: match &args.inventory {
            Some(path) => Some((path.clone(), inventory_cmd::read(path)?)),
            None => None,
        },
        collect,
        scripts: args.scripts.clone(),
        vars: args.vars.clone(),
    })
}

/// Runs `sqlmig assess`.
pub async fn run(ctx: &Context, args: AssessArgs) -> Result<ExitCode, Failure> {
    let Gathered {
        inventory,
        label,
        login,
    } = gather(ctx, sources(&args)?, |collected| {
        match &args.save_inventory {
            Some(path) => {
                let value = serde_json::to_value(collected).expect("an inventory serializes");
                write_json(&value, Some(path))
            }
            None => Ok(()),
        }
    })
    .await?;
    let (tier, policy) = (
        Tier::from(args.target),
        UpdatePolicy::from(args.update_policy),
    );
    let probes = match (&args.probe_results, login) {
        (Some(path), _) => Probes::Captured(read_probe_results(path)?),
        (None, Some(login)) => Probes::Live(login),
        (None, None) => Probes::None,
    };
    let Evaluated {
        labels,
        outcome,
        captured,
    } = evaluate(
        ctx,
        &args.rules,
        &pack_options(tier, policy),
        probes,
        &inventory,
        args.concurrency as usize,
    )
    .await?;
    if let (Some(rows), Some(path)) = (captured, &args.save_probe_results) {
        write_json(&serde_json::Value::Object(rows), Some(path))?;
    }
    let mut a = Assessment::new(&inventory, &label, labels, outcome);
    a.target = Some(tier.id().into());
    a.update_policy = Some(policy.id().into());
    if ctx.output == OutputFormat::Table && !ctx.quiet {
        eprintln!(
            "assessed for {} under the {} (--target, --update-policy)",
            tier.label(),
            policy.label()
        );
    }
    match ctx.output {
        OutputFormat::Json => write_json(
            &serde_json::to_value(&a).expect("serializes"),
            ctx.out.as_deref(),
        )?,
        OutputFormat::Csv => super::output::write_text(&a.to_csv(), ctx.out.as_deref())?,
        OutputFormat::Html => super::output::write_text(&html::render(&a), ctx.out.as_deref())?,
        OutputFormat::Table => print_console(&a),
    }
    for f in &a.failures {
        eprintln!(
            "error: {} could not assess {}: {}",
            f.rule_pack, f.instance, f.error
        );
    }
    Ok(if !a.failures.is_empty() {
        ExitCode::from(3)
    } else if a.blocked() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_console(a: &Assessment) {
    let s = &a.summary;
    println!(
        "{} instance{}, {} user database{}: {} blocked, {} ready with warnings, {} ready ({} issues, {} warnings)",
        s.instances,
        if s.instances == 1 { "" } else { "s" },
        s.databases,
        if s.databases == 1 { "" } else { "s" },
        s.blocked_databases,
        s.databases_with_warnings,
        s.ready_databases,
        s.issues,
        s.warnings
    );
    println!();
    let mut t = Table::new(&["INSTANCE", "DATABASE", "READINESS", "ISSUES", "WARNINGS"]);
    for i in &a.readiness {
        t.row(vec![
            i.name.clone(),
            "(instance)".into(),
            i.readiness.label().into(),
            i.issues.to_string(),
            i.warnings.to_string(),
        ]);
        for d in &i.databases {
            t.row(vec![
                String::new(),
                d.name.clone(),
                d.readiness.label().into(),
                d.issues.to_string(),
                d.warnings.to_string(),
            ]);
        }
    }
    print!("{}", t.render());
    // Notes (info findings, such as compatibility-level advice) would drown the table on a
    // large estate: they are counted here and listed in the json, csv and html reports.
    let shown: Vec<&Finding> = a
        .findings
        .iter()
        .filter(|f| f.level != Level::Info)
        .collect();
    if !shown.is_empty() {
        println!();
    }
    let mut t = Table::new(&["LEVEL", "RULE", "WHERE", "WHAT"]);
    for f in shown {
        let level = serde_json::to_value(f.level).expect("serializes");
        t.row(vec![
            level.as_str().unwrap_or_default().to_string(),
            f.rule_id.clone(),
            f.place("/"),
            f.message.clone(),
        ]);
    }
    if !t.is_empty() {
        print!("{}", t.render());
    }
    if !a.not_run.is_empty() {
        println!(
            "\n{} rules did not run here (probes sqlmig cannot run, or no probe results); the reports list them with why",
            a.not_run.len()
        );
    }
    if a.summary.infos > 0 {
        println!(
            "\n{} notes (info findings, e.g. the compatibility level to run at) are in the reports",
            a.summary.infos
        );
    }
    println!(
        "\nimpact and remediation for each rule: sqlmig assess … -o html --out report.html (or -o json, -o csv)"
    );
}
