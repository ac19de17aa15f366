//! `sqlmig storage prepare|check`: the migration's blob container and the SAS tokens each party
//! reads or writes it with, made from the storage account's key and checked before a run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use super::output::{Table, write_json};
use super::{Context, Failure, OutputFormat};
use crate::credentials::{SecretFor, optional_secret, write_secrets};
use crate::migrate::authority;
use crate::storage::sas::{self, Party};
use crate::storage::tokens::{self, PrepareError, TokenToCheck};

#[derive(Debug, Subcommand)]
pub enum StorageCommand {
    /// Create the migration's container (when missing) and write the SAS tokens it needs to
    /// the secrets file: `sas` (read, write, delete, list: the source's BACKUP TO URL and
    /// sqlmig's uploads) and `lrs_sas` (read and list only: MI's Log Replay Service).
    ///
    /// Made from the storage account's key, read from SQLMIG_STORAGE_KEY or the secrets
    /// file's `storage_key` (az storage account keys list --account-name ACCOUNT --query
    /// [0].value -o tsv); the key itself is never written anywhere. The tokens are for the
    /// container only and expire after --days. Other keys of the file are kept.
    ///
    /// Example:
    ///   SQLMIG_STORAGE_KEY=… sqlmig storage prepare \
    ///       --container-url https://acct.blob.core.windows.net/migration --secrets secrets.toml
    #[command(verbatim_doc_comment)]
    Prepare(PrepareArgs),
    /// Check the SAS tokens against what a plan needs, before anything runs: permissions,
    /// scope, expiry, length (SQL Server 2019 and earlier take 256 characters), and that they
    /// reach the container. Exit code 1 when one falls short, saying what is missing.
    ///
    /// Examples:
    ///   sqlmig storage check --plan plan.json --secrets secrets.toml
    ///   SQLMIG_SAS=… sqlmig storage check --container-url https://acct.blob.core.windows.net/migration
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// The container to create and make tokens for (https://ACCOUNT.blob.core.windows.net/NAME).
    #[arg(long)]
    pub container_url: String,
    /// The secrets file to write the tokens to (created owner-readable only), the one
    /// `migrate run --secrets` reads.
    #[arg(long, value_name = "FILE")]
    pub secrets: PathBuf,
    /// Days the tokens stay valid: long enough for the whole migration, cutover included.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=365))]
    pub days: u32,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The plan whose container, method and source to check for.
    #[arg(long, value_name = "FILE", required_unless_present = "container_url")]
    pub plan: Option<PathBuf>,
    /// The container, without a plan (checks the source's token).
    #[arg(long, conflicts_with = "plan")]
    pub container_url: Option<String>,
    /// The secrets file with `sas` (and `lrs_sas`); otherwise SQLMIG_SAS and SQLMIG_LRS_SAS.
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    /// Days from now the tokens must stay valid.
    #[arg(long, default_value_t = 1)]
    pub days: u32,
}

/// Runs a storage subcommand.
pub async fn run(ctx: &Context, cmd: StorageCommand) -> Result<ExitCode, Failure> {
    match cmd {
        StorageCommand::Prepare(args) => prepare(ctx, args).await,
        StorageCommand::Check(args) => check(ctx, args).await,
    }
}

/// The account and container of `url`, refused as `migrate plan` refuses it.
fn account_and_container(url: &str) -> Result<(String, String), Failure> {
    if let Some(why) = authority::container_url_problem(url) {
        return Err(Failure::bad_input(format!("--container-url: {why}")));
    }
    sas::account_and_container(url).ok_or_else(|| {
        Failure::bad_input(format!(
            "--container-url {url}: no storage account and container in it (https://ACCOUNT.blob.core.windows.net/CONTAINER)"
        ))
    })
}

async fn prepare(ctx: &Context, args: PrepareArgs) -> Result<ExitCode, Failure> {
    let url = args.container_url.trim_end_matches('/').to_string();
    let (account, container) = account_and_container(&url)?;
    let from_file = if args.secrets.exists() {
        optional_secret(SecretFor::StorageKey, Some(&args.secrets))
            .map_err(|e| Failure::bad_input(e.0))?
    } else {
        None
    };
    let key = match from_file {
        Some(k) => k,
        None => optional_secret(SecretFor::StorageKey, None)
            .map_err(|e| Failure::bad_input(e.0))?
            .ok_or_else(|| {
                Failure::bad_input(format!(
                    "no storage account key: set {} (az storage account keys list --account-name {account} --query [0].value -o tsv), or put storage_key in {}",
                    SecretFor::StorageKey.env_var(),
                    args.secrets.display()
                ))
            })?,
    };
    let key_name = SecretFor::StorageKey.env_var();
    let made = tokens::prepare(&url, &account, &container, &key, args.days)
        .await
        .map_err(|e| match e {
            PrepareError::Key(e) => Failure::bad_input(format!("{key_name}: {e}")),
            // Made from the key here: a refusal is the key's, not a SAS's the DBA gave.
            PrepareError::KeyRefused { url } => Failure::bad_input(format!(
                "the storage account refused the key in {key_name} (or storage_key): creating \
                 {url} was not authorized"
            ))
            .hint("check the key is the account's current one (a rotated key no longer signs: az storage account keys list …) and that the account allows Shared Key authorization"),
            e @ PrepareError::Create { .. } => Failure::io(e),
        })?;
    let (created, expiry) = (made.created, made.expiry.clone());
    let (source, lrs) = (made.source, made.log_replay);
    write_secrets(
        &args.secrets,
        &[(SecretFor::Sas, &source), (SecretFor::LrsSas, &lrs)],
    )
    .map_err(|e| Failure::bad_input(e.0))?;
    let shown = args.secrets.display();
    if ctx.output == OutputFormat::Json {
        write_json(
            &json!({
                "container_url": url,
                "created": created,
                "secrets": shown.to_string(),
                "expires": expiry,
                "sas": { "permissions": "rwdl", "for": "the source's BACKUP TO URL and sqlmig" },
                "lrs_sas": { "permissions": "rl", "for": "MI's Log Replay Service" },
            }),
            ctx.out.as_deref(),
        )?;
    } else if !ctx.quiet {
        println!(
            "{url}: {}",
            if created { "created" } else { "already there" }
        );
        println!(
            "wrote to {shown} (owner-readable only), valid until {expiry}:\n  sas      read, write, delete, list — the source's BACKUP TO URL, sqlmig's uploads and checks\n  lrs_sas  read, list — MI's Log Replay Service (online migrations)"
        );
        if container.to_ascii_lowercase().contains("backup") {
            println!(
                "note: MI's Log Replay Service does not restore from a container whose name holds \"backup\": use another for online migrations"
            );
        }
        println!(
            "next: plan (`sqlmig migrate plan … --container-url {url} --out PLAN`), check (`sqlmig storage check --plan PLAN --secrets {shown}`), run (`sqlmig migrate run PLAN --source-user LOGIN --target-user LOGIN --secrets {shown}`)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn check(ctx: &Context, args: CheckArgs) -> Result<ExitCode, Failure> {
    let (url, online, source_major) = match (&args.plan, &args.container_url) {
        (Some(path), _) => {
            let (plan, _) = crate::migrate::plan_file::read(path)?;
            let major = plan
                .source
                .product_version
                .split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok());
            let online = plan
                .steps
                .iter()
                .any(|s| s.kind == sqlmig_protocol::migration::StepKind::StartLogReplay);
            (plan.storage.container_url, online, major)
        }
        (None, Some(url)) => (url.trim_end_matches('/').to_string(), false, None),
        (None, None) => unreachable!("clap requires one"),
    };
    account_and_container(&url)?;
    let secrets = args.secrets.as_deref();
    let get = |what| optional_secret(what, secrets).map_err(|e| Failure::bad_input(e.0));
    let source = get(SecretFor::Sas)?.ok_or_else(|| {
        Failure::bad_input(match secrets {
            Some(f) => format!("no SAS to check: {} has no `sas`", f.display()),
            None => format!(
                "no SAS to check: set {} or give --secrets FILE (key sas)",
                SecretFor::Sas.env_var()
            ),
        })
        .hint("make them with `sqlmig storage prepare --container-url URL --secrets FILE`")
    })?;
    let lrs = get(SecretFor::LrsSas)?;
    let key = get(SecretFor::StorageKey)?;
    let until = chrono::Utc::now() + chrono::Duration::days(i64::from(args.days));
    let mut to_check = vec![TokenToCheck {
        key: "sas",
        party: Party::Source,
        token: Some(source),
    }];
    if online || lrs.is_some() {
        to_check.push(TokenToCheck {
            key: "lrs_sas",
            party: Party::LogReplay,
            token: lrs,
        });
    }
    let rows: Vec<serde_json::Value> =
        tokens::check(&url, to_check, key.is_some(), until, source_major)
            .await
            .into_iter()
            .map(|c| {
                json!({
                    "key": c.key,
                    "for": match c.party {
                        Party::Source => "the source's BACKUP TO URL and sqlmig",
                        Party::LogReplay => "MI's Log Replay Service",
                    },
                    "needs": c.party.needs(),
                    "grants": c.grants.as_ref().map(|g| g.permissions.clone()),
                    "expires": c.grants.as_ref().and_then(|g| g.expiry.clone()),
                    "made_at_run_from_storage_key": c.made_at_run,
                    "problems": c.problems,
                })
            })
            .collect();
    let ok = rows
        .iter()
        .all(|r| r["problems"].as_array().is_some_and(|p| p.is_empty()));
    if ctx.output == OutputFormat::Json {
        write_json(
            &json!({ "container_url": url, "ok": ok, "tokens": rows }),
            ctx.out.as_deref(),
        )?;
    } else {
        let mut t = Table::new(&["KEY", "FOR", "NEEDS", "GRANTS", "EXPIRES", "RESULT"]);
        let text = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
        for r in &rows {
            let problems = r["problems"].as_array().map_or(0, Vec::len);
            t.row(vec![
                text(&r["key"]),
                text(&r["for"]),
                text(&r["needs"]),
                text(&r["grants"]),
                text(&r["expires"]),
                if problems > 0 {
                    "FAILS".into()
                } else if r["made_at_run_from_storage_key"] == true {
                    "ok (made from the key at run)".into()
                } else {
                    "ok".into()
                },
            ]);
        }
        print!("{}", t.render());
        for r in &rows {
            for p in r["problems"].as_array().into_iter().flatten() {
                println!("{}: {}", text(&r["key"]), text(p));
            }
        }
    }
    if !ok {
        eprintln!(
            "hint: make tokens that serve with `sqlmig storage prepare --container-url {url} --secrets FILE`"
        );
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
