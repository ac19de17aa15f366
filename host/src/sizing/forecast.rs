//! The move forecast: how long copying each database takes, whether log replay keeps up, and how
//! long the application stops at cutover — from the databases' sizes and log rates, the target's
//! log-rate limit, and the throughput of backup, upload and restore.
//!
//! The model, per database (the instance's totals run them `parallel` at a time, each next one
//! starting where a lane frees up — the same for offline, online and the cutover):
//! - full backup: data ÷ backup rate; upload: data × compression ratio ÷ upload rate; restore:
//!   data ÷ restore rate; the initial sync is the three in turn;
//! - offline, the application stops for the whole initial sync and the recovery after it;
//! - online, log replay on the target runs at the smaller of the restore rate and the target's
//!   log write limit; the log written meanwhile (average rate × sync time) is replayed at that
//!   rate less the log still being written (catch-up); replay keeps up at peak when the peak
//!   log rate is below the replay rate;
//! - cutover (online): the tail of the log — peak log rate × the log backup interval — is backed
//!   up, uploaded and replayed, then the database recovers.

use serde::Serialize;

/// Throughputs and intervals the forecast assumes (the DBA's own figures are better).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assumptions {
    /// Backup reading the source, MB/s.
    pub backup_mb_s: f64,
    /// Upload to Azure Blob, MB/s.
    pub upload_mb_s: f64,
    /// RESTORE on the target, MB/s.
    pub restore_mb_s: f64,
    /// Backup size ÷ data size (1: no compression assumed).
    pub compression_ratio: f64,
    /// Time between log backups while replaying, seconds.
    pub log_backup_interval_s: f64,
    /// Recovery of a database at the end of its restore (offline) or cutover, seconds.
    pub recovery_s: f64,
    /// Databases moved at once (`migrate plan --parallel`; 1: one after another).
    pub parallel: u32,
}

impl Default for Assumptions {
    fn default() -> Self {
        Assumptions {
            backup_mb_s: 200.0,
            upload_mb_s: 100.0,
            restore_mb_s: 100.0,
            compression_ratio: 1.0,
            log_backup_interval_s: 300.0,
            recovery_s: 60.0,
            parallel: 1,
        }
    }
}

/// A database to move: its data and its log rates.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Moving {
    pub database: String,
    pub data_mb: f64,
    /// Average log written, MB/s.
    pub log_avg_mb_s: f64,
    /// Log written at the peak (the percentile sized for), MB/s.
    pub log_peak_mb_s: f64,
}

/// One database's forecast, seconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DatabaseForecast {
    pub database: String,
    pub full_backup_s: f64,
    pub upload_s: f64,
    pub restore_s: f64,
    pub initial_sync_s: f64,
    /// Log replay on the target, MB/s.
    pub replay_mb_s: f64,
    /// Replaying the log written during the initial sync; `None` when replay never catches up.
    pub catch_up_s: Option<f64>,
    pub keeps_up_at_peak: bool,
    pub cutover_downtime_s: f64,
}

/// The forecast of an instance's move.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Forecast {
    pub databases: Vec<DatabaseForecast>,
    /// Offline: backup, upload, restore and recovery of every database, the application stopped.
    pub offline_downtime_s: f64,
    /// Online: initial syncs and catch-ups, the application running.
    pub online_sync_s: Option<f64>,
    /// Online: every database's tail log and recovery.
    pub cutover_downtime_s: f64,
    pub assumptions: Assumptions,
    /// The target's log write limit, MB/s.
    pub target_log_mb_s: f64,
}

/// The forecast for moving `databases` to a target whose log write limit is `target_log_mb_s`.
pub fn forecast(databases: &[Moving], target_log_mb_s: f64, a: &Assumptions) -> Forecast {
    let replay = a.restore_mb_s.min(target_log_mb_s);
    let per_db: Vec<DatabaseForecast> = databases
        .iter()
        .map(|d| {
            let full_backup_s = d.data_mb / a.backup_mb_s;
            let upload_s = d.data_mb * a.compression_ratio / a.upload_mb_s;
            let restore_s = d.data_mb / a.restore_mb_s;
            let initial_sync_s = full_backup_s + upload_s + restore_s;
            let backlog_mb = d.log_avg_mb_s * initial_sync_s;
            let net = replay - d.log_avg_mb_s;
            let catch_up_s = (net > 0.0).then(|| backlog_mb / net);
            let tail_mb = d.log_peak_mb_s * a.log_backup_interval_s;
            let cutover_downtime_s = tail_mb / a.backup_mb_s
                + tail_mb * a.compression_ratio / a.upload_mb_s
                + tail_mb / replay
                + a.recovery_s;
            DatabaseForecast {
                database: d.database.clone(),
                full_backup_s,
                upload_s,
                restore_s,
                initial_sync_s,
                replay_mb_s: replay,
                catch_up_s,
                keeps_up_at_peak: d.log_peak_mb_s < replay,
                cutover_downtime_s,
            }
        })
        .collect();
    let lanes = a.parallel.max(1) as usize;
    let offline_downtime_s = makespan(
        per_db.iter().map(|d| d.initial_sync_s + a.recovery_s),
        lanes,
    );
    let online_sync_s = per_db
        .iter()
        .map(|d| d.catch_up_s.map(|c| d.initial_sync_s + c))
        .collect::<Option<Vec<f64>>>()
        .map(|each| makespan(each.into_iter(), lanes));
    Forecast {
        cutover_downtime_s: makespan(per_db.iter().map(|d| d.cutover_downtime_s), lanes),
        databases: per_db,
        offline_downtime_s,
        online_sync_s,
        assumptions: a.clone(),
        target_log_mb_s,
    }
}

/// How long `durations` take run `lanes` at a time, in order, each starting on the lane that
/// frees up first (as `migrate run --parallel` starts the next database).
fn makespan(durations: impl Iterator<Item = f64>, lanes: usize) -> f64 {
    let mut busy = vec![0.0f64; lanes.max(1)];
    for d in durations {
        let next = busy
            .iter_mut()
            .min_by(|a, b| a.total_cmp(b))
            .expect("one lane at least");
        *next += d;
    }
    busy.into_iter().fold(0.0, f64::max)
}

/// A duration as a DBA reads it: `3 h 10 min`, `4 min`, `45 s`.
pub fn approx(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", (s + 30) / 60),
        _ => {
            let minutes = (s + 30) / 60;
            match (minutes / 60, minutes % 60) {
                (h, 0) => format!("{h} h"),
                (h, m) => format!("{h} h {m} min"),
            }
        }
    }
}

impl Forecast {
    /// One line: `≈ 3 h 10 min to sync, ≈ 4 min downtime at cutover (offline: ≈ 2 h downtime)`.
    pub fn summary(&self) -> String {
        let online = match self.online_sync_s {
            Some(s) => format!(
                "≈ {} to sync, ≈ {} downtime at cutover",
                approx(s),
                approx(self.cutover_downtime_s)
            ),
            None => format!(
                "online: log replay ({:.0} MB/s) cannot keep up with the log written",
                self.databases.first().map_or(0.0, |d| d.replay_mb_s)
            ),
        };
        format!(
            "{online} (offline: ≈ {} downtime)",
            approx(self.offline_downtime_s)
        )
    }

    /// The forecast as a plan of one method reads it: its own figures first, the other
    /// method's for comparison.
    pub fn summary_for(&self, online: bool) -> String {
        if online {
            return self.summary().replace("(offline: ", "(offline would be: ");
        }
        let other = match self.online_sync_s {
            Some(s) => format!(
                "online would be ≈ {} to sync, ≈ {} downtime at cutover",
                approx(s),
                approx(self.cutover_downtime_s)
            ),
            None => "online: log replay cannot keep up with the log written".to_string(),
        };
        format!(
            "≈ {} downtime, the databases offline from backup to restored ({other})",
            approx(self.offline_downtime_s)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forecast_matches_the_hand_calculation() {
        // 100 GB of data; 2 MB/s of log on average, 4 MB/s at the peak; General Purpose with
        // 8 vCores writes log at 24 MB/s.
        let sales = Moving {
            database: "Sales".into(),
            data_mb: 102_400.0,
            log_avg_mb_s: 2.0,
            log_peak_mb_s: 4.0,
        };
        let f = forecast(&[sales], 24.0, &Assumptions::default());
        let d = &f.databases[0];
        // Backup 102,400 MB at 200 MB/s = 512 s; upload at 100 MB/s = 1,024 s; restore at
        // 100 MB/s = 1,024 s: 2,560 s of initial sync (42 min 40 s).
        assert_eq!(
            (d.full_backup_s, d.upload_s, d.restore_s),
            (512.0, 1024.0, 1024.0)
        );
        assert_eq!(d.initial_sync_s, 2560.0);
        // Offline the application waits for the recovery too: 2,620 s.
        assert_eq!(f.offline_downtime_s, 2620.0);
        // Replay runs at min(100, 24) = 24 MB/s; the 2 MB/s × 2,560 s = 5,120 MB written during
        // the sync catch up at 24 − 2 = 22 MB/s: 232.7 s.
        assert_eq!(d.replay_mb_s, 24.0);
        assert!((d.catch_up_s.unwrap() - 5120.0 / 22.0).abs() < 1e-9);
        assert!(d.keeps_up_at_peak);
        // Cutover: 4 MB/s × 300 s = 1,200 MB of tail log: backup 6 s + upload 12 s + replay
        // 50 s + recovery 60 s = 128 s.
        assert_eq!(d.cutover_downtime_s, 128.0);
        assert_eq!(
            f.summary(),
            "≈ 47 min to sync, ≈ 2 min downtime at cutover (offline: ≈ 44 min downtime)"
        );
    }

    /// Forty small databases, two at a time: offline and online count the same recoveries the
    /// same way, so the cutover is never the longer wait of the two.
    #[test]
    fn many_small_databases_are_counted_alike_offline_and_online() {
        let small: Vec<Moving> = (0..40)
            .map(|i| Moving {
                database: format!("db{i}"),
                data_mb: 20.0,
                log_avg_mb_s: 0.0,
                log_peak_mb_s: 0.0,
            })
            .collect();
        let two = Assumptions {
            parallel: 2,
            ..Assumptions::default()
        };
        let f = forecast(&small, 24.0, &two);
        // Each: 0.1 s backup, 0.2 s upload, 0.2 s restore, 60 s recovery; 20 per lane.
        assert!((f.offline_downtime_s - 20.0 * 60.5).abs() < 1e-9, "{f:?}");
        assert!((f.cutover_downtime_s - 20.0 * 60.0).abs() < 1e-9, "{f:?}");
        assert!(f.cutover_downtime_s <= f.offline_downtime_s);
        assert!((f.online_sync_s.unwrap() - 20.0 * 0.5).abs() < 1e-9);
        // One at a time, every total doubles.
        let one = forecast(&small, 24.0, &Assumptions::default());
        assert!((one.offline_downtime_s - 2.0 * f.offline_downtime_s).abs() < 1e-9);
        assert!((one.cutover_downtime_s - 2.0 * f.cutover_downtime_s).abs() < 1e-9);
    }

    #[test]
    fn replay_slower_than_the_log_never_catches_up() {
        let busy = Moving {
            database: "Ingest".into(),
            data_mb: 1024.0,
            log_avg_mb_s: 30.0,
            log_peak_mb_s: 40.0,
        };
        let f = forecast(&[busy], 24.0, &Assumptions::default());
        assert_eq!(f.databases[0].catch_up_s, None);
        assert!(!f.databases[0].keeps_up_at_peak);
        assert_eq!(f.online_sync_s, None);
        assert!(
            f.summary()
                .starts_with("online: log replay (24 MB/s) cannot keep up")
        );
    }

    #[test]
    fn durations_read_as_a_dba_says_them() {
        assert_eq!(approx(45.0), "45 s");
        assert_eq!(approx(240.0), "4 min");
        assert_eq!(approx(11_400.0), "3 h 10 min");
        assert_eq!(approx(7200.0), "2 h");
    }
}
