//! `sqlmig rules test`: run rule packs over a fixture inventory and compare their findings with
//! the ones expected, so a rule author tests rules without a server.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};

use super::output::write_json;
use super::{Context, Failure, OutputFormat, inventory_cmd};
use crate::assess::findings::place;
use crate::assess::packs::{Evaluated, Probes, evaluate};
use crate::assess::{Finding, Level};

/// Test rule packs offline.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Run rule packs over a fixture inventory and compare the findings with the expected ones.
    ///
    /// The expected file is a JSON array of findings, each with `rule_id`, `level` and `instance`,
    /// and `database`, `object`, `file`, `line` where the finding has them. Exit code 0 when the
    /// findings are exactly those, 1 when not (missing and unexpected ones are listed), 2 for
    /// bad input. --bless writes the current findings as the expected ones.
    ///
    /// Examples:
    ///   sqlmig rules test my-rules --inventory tests/fixture.json --expect tests/expected.json
    ///   sqlmig rules test house-rules.toml --inventory fixture.json --expect expected.json --bless
    #[command(verbatim_doc_comment)]
    Test(TestArgs),
}

/// `sqlmig rules test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Rule packs to run: plugin names or house-rules .toml files.
    #[arg(required = true, value_name = "PLUGIN|FILE")]
    pub rules: Vec<String>,
    /// The fixture inventory.
    #[arg(long, value_name = "FILE")]
    pub inventory: PathBuf,
    /// The expected findings (JSON).
    #[arg(long, value_name = "FILE")]
    pub expect: PathBuf,
    /// Write the current findings to --expect instead of comparing.
    #[arg(long)]
    pub bless: bool,
}

/// What identifies a finding in a test: where it is and what rule at what level.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    rule_id: String,
    level: Level,
    instance: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    database: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
}

impl From<&Finding> for Expected {
    fn from(f: &Finding) -> Expected {
        Expected {
            rule_id: f.rule_id.clone(),
            level: f.level,
            instance: f.instance.clone(),
            database: f.database.clone(),
            object: f.object.clone(),
            file: f.file.clone(),
            line: f.line,
        }
    }
}

/// Runs `sqlmig rules …`.
pub async fn run(ctx: &Context, cmd: RulesCommand) -> Result<ExitCode, Failure> {
    let RulesCommand::Test(args) = cmd;
    let inventory = inventory_cmd::read(&args.inventory)?;
    let Evaluated {
        labels, outcome, ..
    } = evaluate(ctx, &args.rules, "{}", Probes::None, &inventory, 4).await?;
    if let Some(f) = outcome.failures.first() {
        return Err(Failure::io(format!(
            "{} could not assess {}: {}",
            f.rule_pack, f.instance, f.error
        )));
    }
    let found: Vec<Expected> = outcome.findings.iter().map(Expected::from).collect();
    if args.bless {
        let text = serde_json::to_string_pretty(&found).expect("serializes") + "\n";
        std::fs::write(&args.expect, text)
            .map_err(|e| Failure::io(format!("cannot write {}: {e}", args.expect.display())))?;
        eprintln!(
            "wrote {} findings to {}",
            found.len(),
            args.expect.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let text = std::fs::read_to_string(&args.expect).map_err(|e| {
        Failure::bad_input(format!(
            "cannot read expected findings {}: {e}",
            args.expect.display()
        ))
        .hint("create it with --bless, then check it by hand")
    })?;
    let expected: Vec<Expected> = serde_json::from_str(&text).map_err(|e| {
        Failure::bad_input(format!(
            "expected findings {} are not a JSON array of findings: {e}",
            args.expect.display()
        ))
    })?;
    let found_set: BTreeSet<&Expected> = found.iter().collect();
    let expected_set: BTreeSet<&Expected> = expected.iter().collect();
    let missing: Vec<&Expected> = expected_set.difference(&found_set).copied().collect();
    let unexpected: Vec<&Expected> = found_set.difference(&expected_set).copied().collect();
    let passed = missing.is_empty() && unexpected.is_empty();
    match ctx.output {
        OutputFormat::Json => write_json(
            &serde_json::json!({
                "rule_packs": labels, "passed": passed, "findings": found.len(),
                "missing": missing, "unexpected": unexpected,
            }),
            ctx.out.as_deref(),
        )?,
        _ => {
            for m in &missing {
                println!("missing     {}", describe(m));
            }
            for u in &unexpected {
                println!("unexpected  {}", describe(u));
            }
            println!(
                "{}: {} findings from {}; {} missing, {} unexpected",
                if passed { "ok" } else { "FAILED" },
                found.len(),
                labels.join(", "),
                missing.len(),
                unexpected.len()
            );
        }
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn describe(e: &Expected) -> String {
    let level = serde_json::to_value(e.level).expect("serializes");
    let place = place(&e.instance, [&e.database, &e.object, &e.file], e.line, "/");
    format!(
        "{} {} at {place}",
        e.rule_id,
        level.as_str().unwrap_or_default()
    )
}
