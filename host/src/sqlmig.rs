//! sqlmig moves SQL Server databases to Azure SQL Managed Instance: discover, assess, migrate,
//! validate. Sources, methods and rule packs are sandboxed WebAssembly plugins; this crate is the
//! host that runs them, and the `sqlmig` command line.

pub mod assess;
pub mod capabilities;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod credentials;
pub mod discover;
pub mod durable_sqlite;
pub mod failure;
pub mod migrate;
pub mod plugins;
pub mod private_files;
pub mod runtime;
pub mod secret;
pub mod session;
pub mod sizing;
pub mod sqlserver;
pub mod stats;
pub mod storage;
pub mod terminal;
pub mod validate;

/// The host's own version (the `sqlmig` package version).
pub const HOST_VERSION: &str = env!("CARGO_PKG_VERSION");
