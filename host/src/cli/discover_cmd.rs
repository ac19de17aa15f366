//! `sqlmig discover`: find SQL Servers and snapshot them into an inventory.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use sqlmig_inventory::discovery::FoundInstance;
use sqlmig_inventory::{CollectionStatus, Inventory};

use super::output::write_json;
use super::{Context, Failure, OutputFormat, platform};
use crate::capabilities::net::SocketNet;
use crate::capabilities::{CapabilitySet, Services};
use crate::credentials::{SecretFor, secret};
use crate::discover::{self, ConnectTo, INSTANCE_ENDPOINT, LoginSettings, Progress, Scan};
use crate::runtime::LoadedPlugin;
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
    let (inventory, _) = collect_inventory(ctx, &args).await?;
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
    let located = locate(ctx, args).await?;
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

/// The instances `args` names, found by the platform plugin, with the plugin loaded and the
/// login to collect them with (none for `--list`).
pub(super) struct Located {
    pub plugin: LoadedPlugin,
    pub platform: String,
    pub login: Option<LoginSettings>,
    pub found: Vec<FoundInstance>,
}

impl Located {
    /// The login to collect with; `--user` names it.
    pub fn login(&self) -> Result<&LoginSettings, Failure> {
        self.login
            .as_ref()
            .ok_or_else(|| Failure::bad_input("collecting needs --user (the SQL login)"))
    }
}

/// Finds what `args` names (reporting on stderr unless quiet).
pub(super) async fn locate(ctx: &Context, args: &DiscoverArgs) -> Result<Located, Failure> {
    let mut scans = Vec::new();
    for s in &args.scan {
        scans.push(Scan::parse(s).map_err(Failure::bad_input)?);
    }
    let mut servers = Vec::new();
    for s in &args.server {
        servers
            .push(ServerName::parse(s).map_err(|e| Failure::bad_input(format!("--server {e}")))?);
    }
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
    let plugin = platform::find(ctx, &args.platform)?;
    // A plugin that probes the network needs to be told where; a cloud's plugin asks its API.
    let probes = !plugin.manifest.capabilities.net.is_empty();
    if probes && scans.is_empty() && servers.is_empty() {
        return Err(Failure::bad_input("nothing to discover")
            .hint("give --scan RANGE, --server NAME or --servers FILE"));
    }
    let login = match &args.user {
        Some(user) => Some(LoginSettings {
            user: user.clone(),
            password: secret(SecretFor::Login, user, args.secrets.as_deref())
                .map_err(Failure::bad_input)?,
            encrypt: args.encrypt,
            trust_server_certificate: args.trust_server_certificate,
            connect_timeout: Duration::from_secs(args.connect_timeout.max(1)),
            connect_to: args
                .connect_to
                .iter()
                .map(|c| ConnectTo::parse(c))
                .collect::<Result<_, _>>()
                .map_err(Failure::bad_input)?,
        }),
        None => None,
    };

    // The plugin may probe exactly what the operator named, log in to the instance it is
    // collecting, and reach its cloud's API with the credentials it asks for: the operator
    // chose it by name for this.
    let granted = CapabilitySet {
        sql: vec![INSTANCE_ENDPOINT.into()],
        net: scans
            .iter()
            .map(|s| s.grant.clone())
            .chain(servers.iter().map(|s| s.host.clone()))
            .collect(),
        ..Default::default()
    };
    let loaded = platform::load(ctx, &plugin, granted, args.secrets.as_deref())?.plugin;
    let platform = platform::short_name(&plugin.manifest.name);

    let request = discover::request(
        &scans,
        &servers,
        Duration::from_millis(args.probe_timeout.into()),
    );
    if !ctx.quiet && !probes {
        eprintln!("asking {} for its instances…", loaded.label);
    } else if !ctx.quiet {
        eprintln!(
            "probing {} address{} and {} named server{}…",
            request.hosts.len(),
            if request.hosts.len() == 1 { "" } else { "es" },
            servers.len(),
            if servers.len() == 1 { "" } else { "s" }
        );
    }
    let net_services = Services {
        net: Some(Arc::new(SocketNet {
            concurrency: args.concurrency as usize * 8,
        })),
        ..Default::default()
    };
    let found = discover::find(&loaded, &net_services, &request)
        .await
        .map_err(Failure::plugin)?;
    if !ctx.quiet {
        eprintln!(
            "found {} instance{}",
            found.len(),
            if found.len() == 1 { "" } else { "s" }
        );
    }
    Ok(Located {
        plugin: loaded,
        platform,
        login,
        found,
    })
}

/// Finds and collects what `args` names into an inventory, reporting progress and failed
/// instances on stderr (failed instances stay in the inventory with their error). Returns the
/// login too, for callers that go on to query the instances.
pub(super) async fn collect_inventory(
    ctx: &Context,
    args: &DiscoverArgs,
) -> Result<(Inventory, LoginSettings), Failure> {
    let located = locate(ctx, args).await?;
    let login = located.login()?.clone();
    let Located {
        plugin: loaded,
        platform,
        found,
        ..
    } = located;
    let show_progress = !ctx.quiet && std::io::stderr().is_terminal();
    let progress = move |p: Progress| {
        if !show_progress {
            return;
        }
        if let Progress::Finished {
            name,
            ok,
            done,
            total,
        } = p
        {
            eprint!(
                "\r\x1b[2Kcollected {done}/{total}: {name}{}",
                if ok { "" } else { " (failed)" }
            );
            if done == total {
                eprintln!();
            }
        }
    };
    let performance = args
        .performance
        .then(|| Duration::from_secs(args.sample_interval.max(1)));
    let instances = discover::collect(
        &loaded,
        &platform,
        found,
        &login,
        args.concurrency as usize,
        performance,
        &progress,
    )
    .await;

    let mut inventory = Inventory::new();
    inventory.generated_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    inventory.generated_by = format!("sqlmig {} / {}", crate::HOST_VERSION, loaded.label);
    inventory.instances = instances;
    if !ctx.quiet {
        for i in &inventory.instances {
            match (&i.status, &i.error) {
                (CollectionStatus::Failed, Some(e)) => eprintln!("{}: failed: {e}", i.name),
                (CollectionStatus::Partial, _) => eprintln!(
                    "{}: collected with {} gap{} (see `sqlmig inventory show`)",
                    i.name,
                    i.gaps.len(),
                    if i.gaps.len() == 1 { "" } else { "s" }
                ),
                _ => {}
            }
        }
    }
    Ok((inventory, login))
}
