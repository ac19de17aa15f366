//! Sampling a live instance's performance for sizing: a snapshot every interval for a duration,
//! each pair of snapshots a sample in a [`PerfFile`] that is rewritten whole after every sample,
//! so Ctrl-C or a lost connection keeps what was taken.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sqlmig_protocol::Instance;
use sqlmig_protocol::discovery::FoundInstance;

use super::perf_file::PerfFile;
use crate::discover::{LoginSettings, perf_snapshot};
use crate::failure::Failure;
use crate::runtime::LoadedPlugin;
use crate::terminal;

/// How long to sample, how often, and where the collection goes.
pub struct Sampling {
    pub interval: Duration,
    pub duration: Duration,
    pub out: PathBuf,
    /// No progress on stderr.
    pub quiet: bool,
}

/// How a collection ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The duration was sampled.
    Completed,
    /// Ctrl-C stopped it.
    Stopped,
    /// Three samples in a row failed.
    Failed,
}

/// Samples `inst` (found as `target`, read through `plugin` logged in as `login`) as `s` asks;
/// returns the collection as written and how it ended. A file that cannot be written is bad
/// input naming it.
pub async fn sample(
    plugin: &LoadedPlugin,
    target: &FoundInstance,
    login: &LoginSettings,
    inst: &Instance,
    s: &Sampling,
) -> Result<(PerfFile, Ended), Failure> {
    if s.interval < Duration::from_secs(1) {
        return Err(Failure::bad_input("--interval is at least 1s"));
    }
    if s.duration < s.interval {
        return Err(Failure::bad_input(
            "--duration is shorter than one --interval: no sample would be taken",
        ));
    }
    let now = || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut file = PerfFile::new(
        inst,
        s.interval.as_secs_f64(),
        &format!("sqlmig {} / {}", crate::HOST_VERSION, plugin.label),
        &now(),
    );
    let write = |file: &PerfFile| {
        file.write(&s.out)
            .map_err(|e| Failure::bad_input(format!("{}: {e}", s.out.display())))
    };
    let mut previous = perf_snapshot(plugin, target, login)
        .await
        .map_err(Failure::io)?;
    write(&file)?;
    let expected = (s.duration.as_secs_f64() / s.interval.as_secs_f64()).floor() as usize;
    let started = Instant::now();
    let bar = terminal::bar(expected as u64, terminal::SAMPLE, s.quiet);
    bar.set_message("waiting for the first interval");
    if !s.quiet {
        eprintln!(
            "sampling {} every {:?} for {:?} into {} (Ctrl-C stops and keeps what was collected)",
            inst.name,
            s.interval,
            s.duration,
            s.out.display()
        );
    }
    let mut failures = 0;
    let mut ended = Ended::Completed;
    while started.elapsed() + s.interval <= s.duration + Duration::from_millis(500) {
        tokio::select! {
            _ = tokio::time::sleep(s.interval) => {}
            _ = tokio::signal::ctrl_c() => {
                ended = Ended::Stopped;
                break;
            }
        }
        match perf_snapshot(plugin, target, login).await {
            Ok(snap) => {
                failures = 0;
                file.add(&previous, &snap, &now());
                previous = snap;
                write(&file)?;
                let last = file.samples.last();
                bar.set_position(file.samples.len() as u64);
                bar.set_message(format!(
                    "CPU {}, log {:.2} MB/s",
                    last.and_then(|s| s.cpu_pct)
                        .map_or("?".into(), |c| format!("{c:.1}%")),
                    last.map_or(0.0, |s| s.log_mb_s.values().sum::<f64>())
                ));
            }
            Err(e) => {
                failures += 1;
                bar.suspend(|| eprintln!("{}: sample failed: {e}", inst.name));
                if failures >= 3 {
                    ended = Ended::Failed;
                    break;
                }
            }
        }
    }
    bar.finish_and_clear();
    Ok((file, ended))
}
