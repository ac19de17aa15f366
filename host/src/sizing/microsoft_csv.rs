//! Microsoft's SKU recommender collections (Azure Data Studio's migration extension, `az
//! datamigration performance-data-collection`): a folder with, per instance,
//! `<server>_CommonInstanceLevel_Counters.csv` (the hardware), `<server>_CommonDbLevel_Counters.csv`
//! (the database files) and `<server>_PerformanceAggregated_Counters.csv` (every ten minutes, each
//! counter's Mean, Max, Variance and Occurence), read into what sizing needs.
//!
//! The counters, by their codes: ICP instance CPU %, IM instance memory in use (MB), IMP memory %,
//! DCP database CPU %, DCS database cache (MB), and per file FNR/FNW reads/writes per second,
//! FRM/FWM MB read/written per second, FRL/FWL read/write latency (ms). Each window's Max is a
//! sample, so the percentile is taken over the busiest moments of the windows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{DatabaseNeed, FileNeed, Need};

/// A collection that could not be read: names the file and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ImportError(pub String);

/// One instance's collection, read.
#[derive(Clone, Debug, PartialEq)]
pub struct Collection {
    pub server: String,
    pub logical_cpus: f64,
    pub edition: String,
    pub product_version: String,
    /// Windows the counters cover.
    pub windows: usize,
    /// (database, file) → (type ROWS/LOG, size MB, memory-optimized data).
    files: BTreeMap<(String, String), (String, f64, bool)>,
    /// (database, file, counter) → each window's Max.
    series: BTreeMap<(String, String, String), Vec<f64>>,
    /// (database, file, counter) → each window's Mean.
    means: BTreeMap<(String, String, String), Vec<f64>>,
    user_databases: u32,
}

/// Reads every instance's collection in `dir`, by server name.
pub fn read_dir(dir: &Path) -> Result<Vec<Collection>, ImportError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ImportError(format!("cannot read {}: {e}", dir.display())))?;
    let mut prefixes: Vec<String> = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(prefix) = name.strip_suffix("_PerformanceAggregated_Counters.csv") {
            prefixes.push(prefix.to_string());
        }
    }
    prefixes.sort();
    if prefixes.is_empty() {
        return Err(ImportError(format!(
            "{} holds no *_PerformanceAggregated_Counters.csv: point --perf at the folder Microsoft's \
             data collection wrote",
            dir.display()
        )));
    }
    prefixes.iter().map(|p| read(dir, p)).collect()
}

fn read(dir: &Path, prefix: &str) -> Result<Collection, ImportError> {
    let path = |suffix: &str| dir.join(format!("{prefix}_{suffix}"));
    let instance = table(&path("CommonInstanceLevel_Counters.csv"))?;
    let first = instance.rows.first().ok_or_else(|| {
        ImportError(format!(
            "{}: no row",
            path("CommonInstanceLevel_Counters.csv").display()
        ))
    })?;
    let number = |t: &Table, row: &[String], column: &str| -> Result<f64, ImportError> {
        t.get(row, column)?.trim().parse::<f64>().map_err(|_| {
            ImportError(format!(
                "{}: {column} is {:?}, not a number",
                t.path.display(),
                t.get(row, column).unwrap_or_default()
            ))
        })
    };
    let mut c = Collection {
        server: instance.get(first, "ServerName")?,
        logical_cpus: number(&instance, first, "LogicalCpuCount")?,
        edition: instance.get(first, "Edition")?,
        product_version: instance.get(first, "ProductVersion")?,
        user_databases: number(&instance, first, "NumberOfUserDatabases")? as u32,
        windows: 0,
        files: BTreeMap::new(),
        series: BTreeMap::new(),
        means: BTreeMap::new(),
    };
    let db_level = table(&path("CommonDbLevel_Counters.csv"))?;
    for row in &db_level.rows {
        let database = db_level.get(row, "DatabaseName")?;
        let physical = db_level.get(row, "PhysicalFullName")?;
        let kind = db_level.get(row, "FileType")?.to_ascii_uppercase();
        let size_mb = number(&db_level, row, "SizeMB")?;
        let in_memory = db_level
            .get(row, "IsMemoryOptimizedDataOptionEnabled")?
            .eq_ignore_ascii_case("true");
        c.files
            .insert((database, physical), (kind, size_mb, in_memory));
    }
    let perf = table(&path("PerformanceAggregated_Counters.csv"))?;
    let mut windows = std::collections::BTreeSet::new();
    for row in &perf.rows {
        let aggregate = perf.get(row, "AggregatorType")?;
        let into = if aggregate.eq_ignore_ascii_case("Max") {
            &mut c.series
        } else if aggregate.eq_ignore_ascii_case("Mean") {
            &mut c.means
        } else {
            continue;
        };
        windows.insert(perf.get(row, "TimeDataCollected")?);
        let key = (
            perf.get(row, "DatabaseName")?,
            perf.get(row, "DatabaseFileName")?,
            perf.get(row, "CounterName")?.to_ascii_uppercase(),
        );
        let value = number(&perf, row, "Value")?;
        into.entry(key).or_default().push(value);
    }
    c.windows = windows.len();
    if c.windows == 0 {
        return Err(ImportError(format!(
            "{}: no Max values: the collection ended before its first ten minutes",
            perf.path.display()
        )));
    }
    Ok(c)
}

impl Collection {
    /// What the instance needs at `percentile` (0–100) of the windows, times `scaling` percent.
    pub fn need(&self, percentile: f64, scaling: f64) -> Need {
        let p = |key: (&str, &str, &str)| -> f64 {
            self.series
                .get(&(key.0.to_string(), key.1.to_string(), key.2.to_string()))
                .map_or(0.0, |v| crate::stats::percentile(v, percentile))
        };
        let scale = scaling / 100.0;
        let mut files = Vec::new();
        let mut log_mb_s = 0.0;
        let mut storage_mb = 0.0;
        let mut in_memory = false;
        let mut databases: Vec<DatabaseNeed> = Vec::new();
        for ((database, physical), (kind, size_mb, xtp)) in &self.files {
            let reads = p((database, physical, "FNR"));
            let writes = p((database, physical, "FNW"));
            let read_mb = p((database, physical, "FRM"));
            let write_mb = p((database, physical, "FWM"));
            if kind == "LOG" {
                log_mb_s += write_mb;
            }
            let db = match databases.iter_mut().position(|d| &d.name == database) {
                Some(i) => &mut databases[i],
                None => {
                    databases.push(DatabaseNeed {
                        name: database.clone(),
                        ..Default::default()
                    });
                    databases.last_mut().expect("just pushed")
                }
            };
            if kind == "LOG" {
                db.log_mb_s += write_mb * scale;
            }
            db.in_memory_oltp |= *xtp;
            storage_mb += size_mb;
            in_memory |= *xtp;
            files.push(FileNeed {
                database: database.clone(),
                file: physical
                    .rsplit(['\\', '/'])
                    .next()
                    .unwrap_or(physical)
                    .to_string(),
                size_gb: size_mb / 1024.0,
                iops: (reads + writes) * scale,
                mb_s: (read_mb + write_mb) * scale,
            });
        }
        Need {
            cpu_vcores: p(("", "", "ICP")) / 100.0 * self.logical_cpus * scale,
            memory_gb: p(("", "", "IM")) / 1024.0 * scale,
            log_mb_s: log_mb_s * scale,
            storage_gb: storage_mb / 1024.0,
            files,
            // The size of memory-optimized data is not collected: Business Critical, any size.
            in_memory_oltp_gb: in_memory.then_some(0.0),
            user_databases: self.user_databases,
            databases,
        }
    }
}

impl Collection {
    /// The databases to move: data size, average log rate (the windows' means) and the
    /// `percentile` of the windows' busiest log rates.
    pub fn moving(&self, percentile: f64) -> Vec<super::forecast::Moving> {
        let mut by_db: BTreeMap<&str, super::forecast::Moving> = BTreeMap::new();
        for ((database, physical), (kind, size_mb, _)) in &self.files {
            let m = by_db
                .entry(database)
                .or_insert_with(|| super::forecast::Moving {
                    database: database.clone(),
                    ..Default::default()
                });
            let key = (database.clone(), physical.clone(), "FWM".to_string());
            if kind == "LOG" {
                let means = self.means.get(&key).cloned().unwrap_or_default();
                m.log_avg_mb_s += means.iter().sum::<f64>() / means.len().max(1) as f64;
                m.log_peak_mb_s += self
                    .series
                    .get(&key)
                    .map_or(0.0, |v| crate::stats::percentile(v, percentile));
            } else {
                m.data_mb += size_mb;
            }
        }
        by_db.into_values().collect()
    }
}

/// A CSV file: its header and rows.
struct Table {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn get(&self, row: &[String], column: &str) -> Result<String, ImportError> {
        let i = self
            .header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(column))
            .ok_or_else(|| {
                ImportError(format!(
                    "{}: no column {column}; is this Microsoft's SKU recommender collection?",
                    self.path.display()
                ))
            })?;
        Ok(row.get(i).cloned().unwrap_or_default())
    }
}

fn table(path: &Path) -> Result<Table, ImportError> {
    let bytes = std::fs::read(path).map_err(|e| {
        ImportError(format!(
            "cannot read {}: {e} (a collection has the three CSV files of one instance)",
            path.display()
        ))
    })?;
    let text =
        String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes)).into_owned();
    let mut lines = records(&text).into_iter();
    let header = lines
        .next()
        .ok_or_else(|| ImportError(format!("{}: empty", path.display())))?;
    Ok(Table {
        path: path.to_path_buf(),
        header,
        rows: lines.filter(|r| r.iter().any(|f| !f.is_empty())).collect(),
    })
}

/// CSV records (RFC 4180: quoted fields may hold commas, quotes doubled, line breaks), read by
/// the `csv` crate; records of differing lengths are kept as they are.
fn records(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .filter_map(Result::ok)
        .map(|r| r.iter().map(str::to_string).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_keep_quoted_commas_and_quotes() {
        assert_eq!(
            records("a,\"b,c\",\"d\"\"e\"\r\n1,,3\n"),
            vec![vec!["a", "b,c", "d\"e"], vec!["1", "", "3"]]
        );
    }
}
