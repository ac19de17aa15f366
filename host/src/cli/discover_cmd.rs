//! `sqlmig discover`: find SQL Servers and snapshot them into an inventory.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use sqlmig_protocol::CollectionStatus;

use super::output::write_json;
use super::{Context, Failure, OutputFormat};
use crate::discover::estate::{self, DiscoverOptions};
use crate::discover::{ConnectTo, Scan};
use crate::sqlserver::{Encrypt, ServerName};

/// Find SQL Server instances and collect what each holds into an inventory
///
/// On your own machines, give ranges to scan, servers by name, or a file of server names. In a
/// cloud, name its platform plugin: `--platform aws-rds` lists the account's RDS SQL Server
/// instances in AWS_REGION, `--platform gcp-cloudsql` the project's Cloud SQL ones; their
/// credentials come from the environment (as the cloud's CLI reads them) or the [cloud] table of
/// the --secrets file, and only the plugin sees them.
///
/// Every instance found is logged in to with --user (password from SQLMIG_PASSWORD, --secrets
/// FILE or a prompt) and collected: configuration, logins, jobs, linked servers, databases,
/// files, objects, module definitions, backup history. What the login may not read is recorded
/// as a gap; an instance that fails is kept with its error and the others are still collected.
/// --list only finds.
///
/// Examples:
///   sqlmig discover --scan 10.0.0.0/24 --user sqlmig_ro --out inventory.json
///   sqlmig discover --server 'SQL01\SALES' --server sql02,14330 --user sa -o json
///   sqlmig discover --servers servers.txt --user sqlmig_ro --trust-server-certificate
///   AWS_REGION=eu-west-1 sqlmig discover --platform aws-rds --list
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DiscoverArgs {
    /// An IPv4 range or host to scan, with ports: 10.0.0.0/24, 10.0.0.0/24:1433,1434, sql01.
    /// Port 1434 asks SQL Server Browser for named instances (the default when no port is
    /// given, with 1433). At most a /16 per range. Repeatable.
    #[arg(long, value_name = "RANGE[:PORTS]")]
    pub scan: Vec<String>,
    /// A server as SQL Server tools name it: HOST, HOST,PORT, HOST\INSTANCE. Repeatable.
    #[arg(long, value_name = "SERVER")]
    pub server: Vec<String>,
    /// A file with one server per line (# starts a comment).
    #[arg(long, value_name = "FILE")]
    pub servers: Option<PathBuf>,
    /// The SQL login to collect with (sysadmin, or VIEW SERVER STATE and VIEW ANY DEFINITION
    /// plus msdb read access for a complete inventory).
    #[arg(long, short = 'U', required_unless_present = "list")]
    pub user: Option<String>,
    /// Only find instances and list them (name, address, version); log in to none.
    #[arg(long)]
    pub list: bool,
    /// A TOML file holding `password = "…"` (owner-readable only); instead of SQLMIG_PASSWORD.
    #[arg(long, value_name = "FILE")]
    pub secrets: Option<PathBuf>,
    /// How connections are encrypted.
    #[arg(long, value_enum, default_value_t = Encrypt::Strict)]
    pub encrypt: Encrypt,
    /// Accept servers' self-signed certificates (most on-prem servers have one).
    #[arg(long)]
    pub trust_server_certificate: bool,
    /// Instances collected at once; network probes run eight times as many at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// How long one network probe may wait, in milliseconds.
    #[arg(long, default_value_t = 1500, value_name = "MS")]
    pub probe_timeout: u32,
    /// How long connecting and logging in may take, in seconds.
    #[arg(long, default_value_t = 15, value_name = "SECS")]
    pub connect_timeout: u64,
    /// Also sample performance counters (batch requests, transactions, log flushes, memory,
    /// page life expectancy) for sizing the target.
    #[arg(long)]
    pub performance: bool,
    /// Seconds between the two counter samples that rates are computed over.
    #[arg(
        long,
        default_value_t = 10,
        value_name = "SECS",
        requires = "performance"
    )]
    pub sample_interval: u64,
    /// Reach an instance found at HOST:PORT at ADDRESS:PORT instead (a tunnel, a bastion's
    /// forwarded port), as curl's --connect-to. Repeatable.
    #[arg(long, value_name = "HOST:PORT=ADDRESS:PORT")]
    pub connect_to: Vec<String>,
    /// The platform plugin that finds and collects instances: onprem, aws-rds, gcp-cloudsql or
    /// one you installed (the `platform-` prefix may be left out).
    #[arg(long, default_value = "platform-onprem")]
    pub platform: String,
}

/// Runs `sqlmig discover`.
pub async fn run(ctx: &Context, args: DiscoverArgs) -> Result<ExitCode, Failure> {
    if args.list {
        return list(ctx, &args).await;
    }
    let (inventory, _) = estate::inventory(ctx, &options(&args)?).await?;
    let failed = inventory
        .instances
        .iter()
        .filter(|i| i.status == CollectionStatus::Failed)
        .count();
    let value = serde_json::to_value(&inventory).expect("an inventory serializes");
    if ctx.out.is_some() || ctx.output == OutputFormat::Json {
        write_json(&value, ctx.out.as_deref())?;
    } else {
        super::inventory_cmd::print_summary(&inventory);
        eprintln!("hint: keep the inventory with --out inventory.json");
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `discover --list`: what the platform plugin finds, as a table or JSON; exit 1 when an instance
/// found cannot be collected as it is (its reason is shown).
async fn list(ctx: &Context, args: &DiscoverArgs) -> Result<ExitCode, Failure> {
    let located = estate::locate(ctx, &options(args)?).await?;
    let found = &located.found;
    if ctx.out.is_some() || ctx.output == OutputFormat::Json {
        let value = serde_json::json!({
            "schema": "sqlmig.discovered/1",
            "platform": located.platform,
            "plugin": located.plugin.label,
            "instances": found,
        });
        write_json(&value, ctx.out.as_deref())?;
    } else {
        let mut t =
            super::output::Table::new(&["INSTANCE", "ADDRESS", "VERSION", "FOUND BY", "NOTE"]);
        for f in found {
            t.row(vec![
                f.name.clone(),
                format!("{},{}", f.address.host, f.address.port),
                f.version.clone().unwrap_or_else(|| "-".into()),
                serde_json::to_value(f.confidence)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                f.error.clone().unwrap_or_default(),
            ]);
        }
        print!("{}", t.render());
    }
    Ok(if found.iter().any(|f| f.error.is_some()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The servers `--server` names (discover, assess --server, perf), parsed.
pub(super) fn server_flags(values: &[String]) -> Result<Vec<ServerName>, Failure> {
    values
        .iter()
        .map(|s| ServerName::parse(s).map_err(|e| Failure::bad_input(format!("--server {e}"))))
        .collect()
}

/// What `args` asks to discover, parsed: ranges, servers (with the --servers file's), logins.
pub(super) fn options(args: &DiscoverArgs) -> Result<DiscoverOptions, Failure> {
    let mut scans = Vec::new();
    for s in &args.scan {
        scans.push(Scan::parse(s).map_err(Failure::bad_input)?);
    }
    let mut servers = server_flags(&args.server)?;
    if let Some(file) = &args.servers {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Failure::bad_input(format!("{}: cannot read it: {e}", file.display())))?;
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            servers.push(ServerName::parse(line).map_err(|e| {
                Failure::bad_input(format!("{}: line {}: {e}", file.display(), i + 1))
            })?);
        }
    }
    Ok(DiscoverOptions {
        scans,
        servers,
        platform: args.platform.clone(),
        user: args.user.clone(),
        secrets: args.secrets.clone(),
        encrypt: args.encrypt,
        trust_server_certificate: args.trust_server_certificate,
        connect_timeout: Duration::from_secs(args.connect_timeout),
        connect_to: args
            .connect_to
            .iter()
            .map(|c| ConnectTo::parse(c))
            .collect::<Result<_, _>>()
            .map_err(Failure::bad_input)?,
        concurrency: args.concurrency.into(),
        probe_timeout: Duration::from_millis(args.probe_timeout.into()),
        performance: args
            .performance
            .then(|| Duration::from_secs(args.sample_interval.max(1))),
    })
}
