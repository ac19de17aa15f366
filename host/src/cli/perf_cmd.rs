//! `sqlmig perf collect`: sample what sizing needs from a live instance, for `sqlmig sku
//! recommend --perf FILE`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::discover_cmd::server_flags;
use super::output::write_text;
use super::{Context, Failure};
use crate::discover;
use crate::discover::estate::{self, DiscoverOptions};
use crate::sizing::sampling::{Ended, Sampling, sample};
use crate::sizing::workload;
use crate::sqlserver::Encrypt;
use clap::{Args, Subcommand};

/// Collect performance data.
#[derive(Debug, Subcommand)]
pub enum PerfCommand {
    /// Sample an instance's CPU, memory, batches, log writes per database and IO per file every
    /// --interval for --duration, into a collection for `sqlmig sku recommend --perf FILE`.
    ///
    /// The collection is rewritten whole after every sample, so Ctrl-C (or a lost connection)
    /// keeps what was collected. The login needs VIEW SERVER STATE; the password comes from
    /// SQLMIG_PASSWORD, --secrets FILE or a prompt, never the command line.
    ///
    /// Examples:
    ///   sqlmig perf collect --server 'SQL01\SALES' --user sqlmig_ro --out sql01-perf.json
    ///   sqlmig perf collect --server sql02,14330 --user sa --duration 2h --interval 1m --out perf.json
    #[command(verbatim_doc_comment)]
    Collect(CollectArgs),
    /// Capture the statements that take the instance's time (the plan cache's top statements by
    /// total elapsed time) as a workload file: T-SQL, each query `USE [db];`, the statement and
    /// `GO`, for `sqlmig validate --workload` to replay on source and target.
    ///
    /// The plan cache holds what ran since it was last cleared; capture after a representative
    /// period. Parameterized statements are kept as comments (their values are not cached).
    ///
    /// Examples:
    ///   sqlmig perf baseline --server 'SQL01\SALES' --user sqlmig_ro --out workload.sql
    ///   sqlmig perf baseline --server sql02,14330 --user sa --top 100 > workload.sql
    #[command(verbatim_doc_comment)]
    Baseline(BaselineArgs),
}

/// `sqlmig perf baseline`.
#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// How many statements to keep, the costliest first.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub top: u32,
}

/// `sqlmig perf collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// How long to collect: 40m, 2h, 90s (a number alone is seconds).
    #[arg(long, default_value = "40m", value_parser = duration)]
    pub duration: Duration,
    /// Time between samples: 30s, 1m.
    #[arg(long, default_value = "30s", value_parser = duration)]
    pub interval: Duration,
}

/// The instance and how to log in to it.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// The instance: HOST, HOST,PORT or HOST\INSTANCE.
    #[arg(long, value_name = "SERVER")]
    pub server: String,
    /// The SQL login to sample with.
    #[arg(long, short = 'U')]
    pub user: String,
    /// A TOML file holding `password = "…"` (owner-readable only); instead of SQLMIG_PASSWORD.
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    /// How connections are encrypted.
    #[arg(long, value_enum, default_value_t = Encrypt::Strict)]
    pub encrypt: Encrypt,
    /// Accept the server's self-signed certificate.
    #[arg(long)]
    pub trust_server_certificate: bool,
    /// How long connecting and logging in may take, in seconds.
    #[arg(long, default_value_t = 15, value_name = "SECS")]
    pub connect_timeout: u64,
    /// The platform plugin that reads the instance.
    #[arg(long, default_value = "platform-onprem")]
    pub platform: String,
}

/// A duration (`super::duration`) of at most 31 days: a collection, or its sampling interval.
fn duration(s: &str) -> Result<Duration, String> {
    let d = super::duration::parse(s).map_err(|e| e.to_string())?;
    if d > Duration::from_secs(31 * 86_400) {
        return Err(format!("{s:?} is out of range (up to 31 days)"));
    }
    Ok(d)
}

/// Runs `sqlmig perf …`.
pub async fn run(ctx: &Context, cmd: PerfCommand) -> Result<ExitCode, Failure> {
    match cmd {
        PerfCommand::Collect(args) => collect(ctx, args).await,
        PerfCommand::Baseline(args) => baseline(ctx, args).await,
    }
}

/// What `c` names, as discovery's options.
fn discover_options(c: &ConnectionArgs) -> Result<DiscoverOptions, Failure> {
    Ok(DiscoverOptions {
        servers: server_flags(std::slice::from_ref(&c.server))?,
        platform: c.platform.clone(),
        user: Some(c.user.clone()),
        secrets: c.secrets.clone(),
        encrypt: c.encrypt,
        trust_server_certificate: c.trust_server_certificate,
        connect_timeout: Duration::from_secs(c.connect_timeout),
        concurrency: 1,
        ..DiscoverOptions::default()
    })
}

async fn baseline(ctx: &Context, args: BaselineArgs) -> Result<ExitCode, Failure> {
    // Not collected first: sqlmig's own catalog queries would join the plan cache it reads.
    let (located, target) = estate::find_one(ctx, &discover_options(&args.connection)?).await?;
    let capture = discover::workload_capture(&located.plugin, &target, located.login()?, args.top)
        .await
        .map_err(Failure::io)?;
    let captured_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let sql = workload::to_sql(&capture.queries, &target.name, args.top, &captured_at);
    write_text(&sql, ctx.out.as_deref())?;
    if !ctx.quiet {
        let replayable = workload::parse(&sql).map_or(0, |q| q.len());
        eprintln!(
            "{}: {} statement{} captured, {replayable} replayable{}",
            target.name,
            capture.queries.len(),
            if capture.queries.len() == 1 { "" } else { "s" },
            ctx.out
                .as_ref()
                .map_or(String::new(), |p| format!(", in {}", p.display()))
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn collect(ctx: &Context, args: CollectArgs) -> Result<ExitCode, Failure> {
    let Some(out) = ctx.out.clone() else {
        return Err(Failure::bad_input("a collection is written to a file")
            .hint("give --out perf.json; then `sqlmig sku recommend --perf perf.json`"));
    };
    let (located, target, inst) =
        estate::collect_one(ctx, &discover_options(&args.connection)?).await?;
    let sampling = Sampling {
        interval: args.interval,
        duration: args.duration,
        out: out.clone(),
        quiet: ctx.quiet,
    };
    let (file, ended) =
        sample(&located.plugin, &target, located.login()?, &inst, &sampling).await?;
    if ended == Ended::Failed {
        eprintln!(
            "{}: three samples in a row failed; {} kept in {}",
            inst.name,
            file.samples.len(),
            out.display()
        );
        return Ok(ExitCode::from(3));
    }
    if !ctx.quiet {
        eprintln!(
            "{} {} sample{} in {}; size the target with `sqlmig sku recommend --perf {}`",
            if ended == Ended::Stopped {
                "stopped:"
            } else {
                "collected"
            },
            file.samples.len(),
            if file.samples.len() == 1 { "" } else { "s" },
            out.display(),
            out.display()
        );
        for g in &file.gaps {
            eprintln!("{}: not sampled: {}: {}", inst.name, g.what, g.reason);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::duration;
    use std::time::Duration;

    #[test]
    fn a_collection_lasts_31_days_at_most() {
        assert_eq!(duration("31d").unwrap(), Duration::from_secs(31 * 86_400));
        assert!(duration("40d").unwrap_err().contains("up to 31 days"));
    }
}
