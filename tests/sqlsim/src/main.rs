//! `sqlsim`: serves a simulated SQL Server over TDS until killed. A test double for demos and
//! tests, not a database.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use sqlsim::instance::{Instance, Platform};

/// Serve a simulated SQL Server (a test double) over TDS.
///
/// Prints `sqlsim listening on ADDR` as its first line on stdout, then serves until killed.
/// With `--platform mi --lrs ADDR` it plays an empty Azure SQL Managed Instance and its Azure
/// Resource Manager endpoint for the Log Replay Service (second line: `sqlsim LRS listening on
/// http://ADDR`), so an online migration can be tried end to end.
///
/// Examples:
///   sqlsim --listen 127.0.0.1:14330 --fixture tests/fixtures/instances/onprem-2016-estate.json
///   sqlsim --listen 127.0.0.1:14331 --platform mi --lrs 127.0.0.1:14380
#[derive(Parser)]
#[command(name = "sqlsim", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Instance description (JSON). Default: SQL Server 2022 with login sa and database Sales
    /// (no user database with `--platform mi`: a new managed instance).
    #[arg(long, value_name = "FILE")]
    fixture: Option<PathBuf>,
    /// Override the platform the instance claims (onprem, mi, rds, cloudsql).
    #[arg(long, value_parser = parse_platform)]
    platform: Option<Platform>,
    /// Password of the default instance's `sa` login.
    #[arg(
        long,
        env = "SQLSIM_SA_PASSWORD",
        default_value = "sqlsim-Passw0rd",
        hide_env_values = true
    )]
    sa_password: String,
    /// Also answer SQL Server Browser on UDP 1434 of the listen address, so the instance is
    /// found by name (`HOST\\INSTANCE`) as on a Windows host.
    #[arg(long)]
    browser: bool,
    /// Also serve the Log Replay Service's Azure Resource Manager endpoint for this instance
    /// (needs `--platform mi`), on this address; requests must carry the bearer token
    /// `--arm-token`.
    #[arg(long, value_name = "ADDR")]
    lrs: Option<SocketAddr>,
    /// The bearer token the LRS endpoint accepts (give sqlmig the same in SQLMIG_AZURE_TOKEN).
    #[arg(
        long,
        env = "SQLSIM_ARM_TOKEN",
        default_value = "sqlsim-arm-token",
        hide_env_values = true
    )]
    arm_token: String,
}

fn parse_platform(s: &str) -> Result<Platform, String> {
    serde_json::from_value(serde_json::Value::String(s.to_ascii_lowercase()))
        .map_err(|_| format!("'{s}' is not a platform (onprem, mi, rds, cloudsql)"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SQLSIM_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut instance = match &args.fixture {
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            };
            match serde_json::from_str::<Instance>(&text) {
                Ok(i) => i,
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            }
        }
        None => {
            let mut i = Instance::default_with_sa(&args.sa_password);
            // A managed instance starts without user databases: the migration brings them.
            if args.platform == Some(Platform::Mi) {
                i.databases.clear();
            }
            i
        }
    };
    if let Some(p) = args.platform {
        instance.platform = p;
    }
    if args.lrs.is_some() && instance.platform != Platform::Mi {
        eprintln!("error: --lrs plays Managed Instance's Log Replay Service: add --platform mi");
        return ExitCode::from(2);
    }
    let server = match sqlsim::server::start(args.listen, instance).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return ExitCode::from(3);
        }
    };
    let _browser = if args.browser {
        let record = sqlsim::browser::record(&server.engine.instance, server.addr.port());
        match sqlsim::browser::serve(server.addr.ip(), record).await {
            Ok(b) => Some(b),
            Err(e) => {
                eprintln!(
                    "error: cannot answer SQL Server Browser on {}:1434: {e}",
                    server.addr.ip()
                );
                return ExitCode::from(3);
            }
        }
    } else {
        None
    };
    println!("sqlsim listening on {}", server.addr);
    let _lrs = match args.lrs {
        Some(addr) => {
            match sqlsim::lrs::serve(addr, server.engine.clone(), &args.arm_token).await {
                Ok(l) => {
                    println!("sqlsim LRS listening on http://{}", l.addr);
                    Some(l)
                }
                Err(e) => {
                    eprintln!("error: cannot listen on {addr} for LRS: {e}");
                    return ExitCode::from(3);
                }
            }
        }
        None => None,
    };
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
    ExitCode::SUCCESS
}
