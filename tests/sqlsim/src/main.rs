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
#[derive(Parser)]
#[command(name = "sqlsim", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Instance description (JSON). Default: SQL Server 2022 with login sa and database Sales.
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
        None => Instance::default_with_sa(&args.sa_password),
    };
    if let Some(p) = args.platform {
        instance.platform = p;
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
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
    ExitCode::SUCCESS
}
