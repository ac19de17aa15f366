//! Per database: what each one asks of the target on its own — storage, IO, log rate,
//! In-Memory OLTP — its share of the instance's, and the smallest Managed Instance that would
//! hold it alone (for DBAs splitting an instance over several). CPU and memory are left out:
//! SQL Server measures them per instance, not per database.

use serde::Serialize;

use super::{Need, Options, Sizing, recommend};

/// One database's sizing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatabaseSizing {
    pub database: String,
    pub storage_gb: f64,
    pub iops: f64,
    pub log_mb_s: f64,
    pub in_memory_oltp: bool,
    /// Its share of the instance's storage and log rate, percent.
    pub storage_share_pct: f64,
    pub log_share_pct: f64,
    /// The smallest instance holding this database alone (storage, IO, log, In-Memory OLTP).
    pub alone: Sizing,
}

const SYSTEM: [&str; 4] = ["master", "model", "msdb", "tempdb"];

/// The user databases of `need`, each sized alone.
pub fn per_database(need: &Need, options: &Options) -> Vec<DatabaseSizing> {
    let share = |part: f64, whole: f64| {
        if whole > 0.0 {
            part * 100.0 / whole
        } else {
            0.0
        }
    };
    need.databases
        .iter()
        .filter(|d| !SYSTEM.iter().any(|s| s.eq_ignore_ascii_case(&d.name)))
        .map(|d| {
            let files: Vec<_> = need
                .files
                .iter()
                .filter(|f| f.database == d.name)
                .cloned()
                .collect();
            let storage_gb: f64 = files.iter().map(|f| f.size_gb).sum();
            let iops = files.iter().map(|f| f.iops).sum();
            let alone = Need {
                cpu_vcores: 0.0,
                memory_gb: 0.0,
                log_mb_s: d.log_mb_s,
                storage_gb,
                files,
                in_memory_oltp_gb: d.in_memory_oltp.then_some(0.0),
                user_databases: 1,
                databases: vec![d.clone()],
            };
            DatabaseSizing {
                database: d.name.clone(),
                storage_gb,
                iops,
                log_mb_s: d.log_mb_s,
                in_memory_oltp: d.in_memory_oltp,
                storage_share_pct: share(storage_gb, need.storage_gb),
                log_share_pct: share(d.log_mb_s, need.log_mb_s),
                alone: recommend(&alone, options),
            }
        })
        .collect()
}
