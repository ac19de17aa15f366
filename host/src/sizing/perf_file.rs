//! sqlmig's own performance collection (`sqlmig perf collect`, schema `sqlmig.perf/1`): the
//! instance as collected, its files, and one sample per interval — rates computed from two
//! consecutive cumulative snapshots of the platform plugin.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sqlmig_protocol::discovery::PerfSnapshot;
use sqlmig_protocol::{Gap, Instance};

use super::{DatabaseNeed, FileNeed, Need};
use crate::stats::percentile;

/// The `schema` of a collection.
pub const SCHEMA: &str = "sqlmig.perf/1";

/// A performance collection of one instance.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PerfFile {
    pub schema: String,
    pub generated_by: String,
    pub server: String,
    pub product_version: String,
    pub edition: String,
    pub logical_cpus: u32,
    pub interval_s: f64,
    pub started_at: String,
    pub databases: Vec<PerfDatabase>,
    /// The database files, as last read.
    pub files: Vec<PerfFileInfo>,
    pub samples: Vec<Sample>,
    /// What could not be read, once each.
    #[serde(default)]
    pub gaps: Vec<Gap>,
}

/// A database of the instance.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PerfDatabase {
    pub name: String,
    pub user: bool,
    pub in_memory_oltp: bool,
}

/// A database file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PerfFileInfo {
    pub database: String,
    pub file: String,
    pub physical_name: String,
    pub type_desc: String,
    pub size_mb: f64,
}

/// One interval's rates.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The end of the interval, RFC 3339.
    pub at: String,
    pub seconds: f64,
    /// SQL Server's CPU use, percent of all logical CPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_requests_s: Option<f64>,
    /// Log MB flushed per second, per database.
    pub log_mb_s: BTreeMap<String, f64>,
    /// Per file of `files` (same order): IO per second and latency.
    pub files: Vec<FileRate>,
}

/// A file's IO over an interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FileRate {
    pub iops: f64,
    pub mb_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_latency_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_latency_ms: Option<f64>,
}

const MB: f64 = 1024.0 * 1024.0;

/// Why a performance collection cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PerfFileError {
    #[error("cannot read {}: {error}", path.display())]
    Unreadable {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("{} is not a sqlmig performance collection: {error} at {at}", path.display())]
    Malformed {
        path: std::path::PathBuf,
        at: String,
        error: serde_json::Error,
    },
    #[error("{}: schema {schema:?}; this sqlmig reads {SCHEMA:?}", path.display())]
    OtherSchema {
        path: std::path::PathBuf,
        schema: String,
    },
}

impl PerfFile {
    /// A collection of `inst` (as discover collected it), started now.
    pub fn new(inst: &Instance, interval_s: f64, generated_by: &str, started_at: &str) -> Self {
        let server = inst.server.clone().unwrap_or_default();
        PerfFile {
            schema: SCHEMA.into(),
            generated_by: generated_by.into(),
            server: inst.name.clone(),
            product_version: server.product_version,
            edition: server.edition,
            logical_cpus: server.cpu_count.unwrap_or(0),
            interval_s,
            started_at: started_at.into(),
            databases: inst
                .databases
                .iter()
                .map(|d| PerfDatabase {
                    name: d.name.clone(),
                    user: d.is_user(),
                    in_memory_oltp: d.features.in_memory_oltp,
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Adds the interval between snapshots `a` and `b` (a restart in between, which makes the
    /// cumulative counts go down, gives no sample); the files take `b`'s sizes.
    pub fn add(&mut self, a: &PerfSnapshot, b: &PerfSnapshot, at: &str) -> bool {
        for g in a.gaps.iter().chain(&b.gaps) {
            if !self.gaps.iter().any(|x| x.what == g.what) {
                self.gaps.push(g.clone());
            }
        }
        if b.logical_cpus > 0 {
            self.logical_cpus = b.logical_cpus;
        }
        self.files = b
            .files
            .iter()
            .map(|f| PerfFileInfo {
                database: f.database.clone(),
                file: f.file.clone(),
                physical_name: f.physical_name.clone(),
                type_desc: f.type_desc.clone(),
                size_mb: f.size_mb,
            })
            .collect();
        let seconds = (b.at_ms.saturating_sub(a.at_ms)) as f64 / 1000.0;
        if seconds <= 0.0 {
            return false;
        }
        let delta = |x: Option<f64>, y: Option<f64>| match (x, y) {
            (Some(x), Some(y)) if y >= x => Some(y - x),
            _ => None,
        };
        let restarted = matches!((a.cpu_busy_ms, b.cpu_busy_ms), (Some(x), Some(y)) if y < x);
        if restarted {
            return false;
        }
        let cpus = f64::from(self.logical_cpus.max(1));
        let mut sample = Sample {
            at: at.into(),
            seconds,
            cpu_pct: delta(a.cpu_busy_ms, b.cpu_busy_ms)
                .map(|ms| (ms / (seconds * 1000.0 * cpus) * 100.0).min(100.0)),
            memory_mb: b.memory_kb.map(|kb| kb / 1024.0),
            batch_requests_s: delta(a.batch_requests, b.batch_requests).map(|n| n / seconds),
            ..Default::default()
        };
        for l in &b.log_bytes_flushed {
            let before = a
                .log_bytes_flushed
                .iter()
                .find(|x| x.database == l.database);
            if let Some(d) = delta(before.map(|x| x.value), Some(l.value)) {
                sample.log_mb_s.insert(l.database.clone(), d / seconds / MB);
            }
        }
        for f in &b.files {
            let before = a
                .files
                .iter()
                .find(|x| x.database == f.database && x.file == f.file);
            let rate = match before {
                Some(p) if f.reads >= p.reads && f.writes >= p.writes => {
                    let (reads, writes) = (f.reads - p.reads, f.writes - p.writes);
                    let latency = |stall: f64, n: f64| (n > 0.0).then(|| stall / n);
                    FileRate {
                        iops: (reads + writes) / seconds,
                        mb_s: ((f.bytes_read - p.bytes_read) + (f.bytes_written - p.bytes_written))
                            .max(0.0)
                            / seconds
                            / MB,
                        read_latency_ms: latency(f.io_stall_read_ms - p.io_stall_read_ms, reads),
                        write_latency_ms: latency(
                            f.io_stall_write_ms - p.io_stall_write_ms,
                            writes,
                        ),
                    }
                }
                _ => FileRate::default(),
            };
            sample.files.push(rate);
        }
        self.samples.push(sample);
        true
    }

    /// What the instance needs at `percentile` of the samples, times `scaling` percent.
    pub fn need(&self, pct: f64, scaling: f64) -> Need {
        let scale = scaling / 100.0;
        let p = |values: Vec<f64>| percentile(&values, pct);
        let user = |db: &str| {
            self.databases
                .iter()
                .find(|d| d.name.eq_ignore_ascii_case(db))
                .is_none_or(|d| d.user)
        };
        let cpu = p(self.samples.iter().filter_map(|s| s.cpu_pct).collect());
        let memory_mb = p(self.samples.iter().filter_map(|s| s.memory_mb).collect());
        let log = p(self
            .samples
            .iter()
            .map(|s| s.log_mb_s.values().sum())
            .collect());
        let files = self
            .files
            .iter()
            .enumerate()
            .filter(|(_, f)| user(&f.database))
            .map(|(i, f)| {
                let rates: Vec<&FileRate> =
                    self.samples.iter().filter_map(|s| s.files.get(i)).collect();
                FileNeed {
                    database: f.database.clone(),
                    file: f.file.clone(),
                    size_gb: f.size_mb / 1024.0,
                    iops: p(rates.iter().map(|r| r.iops).collect()) * scale,
                    mb_s: p(rates.iter().map(|r| r.mb_s).collect()) * scale,
                }
            })
            .collect::<Vec<_>>();
        Need {
            cpu_vcores: cpu / 100.0 * f64::from(self.logical_cpus) * scale,
            memory_gb: memory_mb / 1024.0 * scale,
            log_mb_s: log * scale,
            storage_gb: files.iter().map(|f| f.size_gb).sum(),
            files,
            in_memory_oltp_gb: self
                .databases
                .iter()
                .any(|d| d.in_memory_oltp)
                .then_some(0.0),
            user_databases: self.databases.iter().filter(|d| d.user).count() as u32,
            databases: self
                .databases
                .iter()
                .filter(|d| d.user)
                .map(|d| DatabaseNeed {
                    name: d.name.clone(),
                    log_mb_s: p(self
                        .samples
                        .iter()
                        .map(|s| s.log_mb_s.get(&d.name).copied().unwrap_or(0.0))
                        .collect())
                        * scale,
                    in_memory_oltp: d.in_memory_oltp,
                })
                .collect(),
        }
    }

    /// The user databases to move: data size, average and `pct` percentile log rate.
    pub fn moving(&self, pct: f64) -> Vec<super::forecast::Moving> {
        self.databases
            .iter()
            .filter(|d| d.user)
            .map(|d| {
                let rates: Vec<f64> = self
                    .samples
                    .iter()
                    .map(|s| s.log_mb_s.get(&d.name).copied().unwrap_or(0.0))
                    .collect();
                super::forecast::Moving {
                    database: d.name.clone(),
                    data_mb: self
                        .files
                        .iter()
                        .filter(|f| f.database == d.name && f.type_desc == "ROWS")
                        .map(|f| f.size_mb)
                        .sum(),
                    log_avg_mb_s: rates.iter().sum::<f64>() / rates.len().max(1) as f64,
                    log_peak_mb_s: percentile(&rates, pct),
                }
            })
            .collect()
    }

    /// Writes the collection to `path` whole (a reader never sees half a file).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        serde_json::to_writer_pretty(&mut tmp, self)?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    /// Reads a collection; a malformed one names the file and where.
    pub fn read(path: &Path) -> Result<PerfFile, PerfFileError> {
        let bytes = std::fs::read(path).map_err(|error| PerfFileError::Unreadable {
            path: path.to_path_buf(),
            error,
        })?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        let file: PerfFile =
            serde_path_to_error::deserialize(de).map_err(|e| PerfFileError::Malformed {
                path: path.to_path_buf(),
                at: e.path().to_string(),
                error: e.into_inner(),
            })?;
        if file.schema != SCHEMA {
            return Err(PerfFileError::OtherSchema {
                path: path.to_path_buf(),
                schema: file.schema,
            });
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlmig_protocol::discovery::{DatabaseCount, FileIo};

    fn snapshot(at_ms: u64, cpu_ms: f64, log: f64, writes: f64) -> PerfSnapshot {
        PerfSnapshot {
            at_ms,
            logical_cpus: 4,
            cpu_busy_ms: Some(cpu_ms),
            memory_kb: Some(8.0 * 1024.0 * 1024.0),
            batch_requests: Some(at_ms as f64 / 10.0),
            log_bytes_flushed: vec![DatabaseCount {
                database: "Sales".into(),
                value: log,
            }],
            files: vec![FileIo {
                database: "Sales".into(),
                file: "Sales_log".into(),
                type_desc: "LOG".into(),
                size_mb: 1024.0,
                writes,
                bytes_written: writes * 65536.0,
                io_stall_write_ms: writes * 2.0,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn rates_come_from_consecutive_snapshots() {
        let mut f = PerfFile {
            schema: SCHEMA.into(),
            logical_cpus: 4,
            databases: vec![PerfDatabase {
                name: "Sales".into(),
                user: true,
                in_memory_oltp: false,
            }],
            ..Default::default()
        };
        // 10 s apart: 20 s of CPU on 4 CPUs is 50%; 20 MiB of log is 2 MiB/s; 1,000 writes of
        // 64 KiB are 100 IOPS and 6.25 MiB/s at 2 ms each.
        let a = snapshot(1_000_000, 100_000.0, 0.0, 0.0);
        let b = snapshot(1_010_000, 120_000.0, 20.0 * MB, 1000.0);
        assert!(f.add(&a, &b, "2026-11-28T00:00:10Z"));
        let s = &f.samples[0];
        assert_eq!(s.cpu_pct, Some(50.0));
        assert_eq!(s.log_mb_s["Sales"], 2.0);
        assert_eq!(s.memory_mb, Some(8192.0));
        assert_eq!(s.files[0].iops, 100.0);
        assert_eq!(s.files[0].mb_s, 6.25);
        assert_eq!(s.files[0].write_latency_ms, Some(2.0));
        // A restart (CPU time goes back) gives no sample.
        let c = snapshot(1_020_000, 5.0, 0.0, 0.0);
        assert!(!f.add(&b, &c, "2026-11-28T00:00:20Z"));
        let need = f.need(95.0, 100.0);
        assert_eq!(need.cpu_vcores, 2.0, "50% of 4 CPUs");
        assert_eq!(need.log_mb_s, 2.0);
        assert_eq!(need.memory_gb, 8.0);
        assert_eq!(need.files[0].iops, 100.0);
        assert_eq!(need.user_databases, 1);
    }
}
