//! `sqlmig sku recommend`: the Managed Instance to migrate each instance to, sized from a
//! performance collection against Microsoft's documented limits.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use super::output::{Table, write_report};
use super::target::HardwareArg;
use super::{Context, Failure};
use crate::sizing::forecast::{Assumptions, Moving, forecast};
use crate::sizing::html;
use crate::sizing::limits::{self, Hardware};
use crate::sizing::microsoft_csv;
use crate::sizing::per_database::{DatabaseSizing, per_database};
use crate::sizing::perf_file::PerfFile;
use crate::sizing::report::{InstanceSizing, Report, Source};
use crate::sizing::{Need, Options, Sizing, recommend};

/// Size the target.
#[derive(Debug, Subcommand)]
pub enum SkuCommand {
    /// Recommend a Managed Instance (tier, hardware, vCores, storage) for each instance of a
    /// performance collection, with the dimension that drove it and the headroom left.
    ///
    /// --perf takes a collection `sqlmig perf collect` wrote (a JSON file), or the folder
    /// Microsoft's SKU recommender data collection wrote (Azure Data Studio's migration
    /// extension, `az datamigration performance-data-collection`): the
    /// *_CommonInstanceLevel_Counters.csv, *_CommonDbLevel_Counters.csv and
    /// *_PerformanceAggregated_Counters.csv of each instance. Needs are taken at --percentile of
    /// the samples (of Microsoft's ten-minute windows, each window's busiest value) and scaled
    /// by --scaling-factor.
    /// General Purpose, Next-gen General Purpose (more databases, storage and log rate; IOPS
    /// provisioned) and Business Critical are each tried, and the cheapest that fits is
    /// recommended, with why. The limits are Microsoft's resource-limits page as dated in the
    /// output.
    ///
    /// Exit code 0 when every instance fits, 1 when one does not (why is listed), 2 for bad
    /// input.
    ///
    /// Examples:
    ///   sqlmig sku recommend --perf sql01-perf.json
    ///   sqlmig sku recommend --perf ./perf-data
    ///   sqlmig sku recommend --perf ./perf-data --percentile 99 --scaling-factor 120 -o json
    ///   sqlmig sku recommend --perf ./perf-data --hardware standard-series,premium-series,premium-series-memory-optimized
    #[command(verbatim_doc_comment)]
    Recommend(RecommendArgs),
}

/// `sqlmig sku recommend`.
#[derive(Debug, Args)]
pub struct RecommendArgs {
    /// The collection: sqlmig's (a .json file) or a folder of Microsoft's SKU recommender CSVs.
    #[arg(long, value_name = "FILE|DIR")]
    pub perf: PathBuf,
    /// Percentile of the samples to size for (0–100).
    #[arg(long, default_value_t = 95.0, value_parser = percent)]
    pub percentile: f64,
    /// Scale the measured needs, in percent (120: size for 20% more load).
    #[arg(long, default_value_t = 100.0, value_parser = scaling)]
    pub scaling_factor: f64,
    /// Backup throughput on the source, MB/s (for the move forecast).
    #[arg(long, default_value_t = 200.0, value_parser = rate, value_name = "MB/S")]
    pub backup_mb_s: f64,
    /// Upload throughput to Azure Blob, MB/s.
    #[arg(long, default_value_t = 100.0, value_parser = rate, value_name = "MB/S")]
    pub upload_mb_s: f64,
    /// RESTORE throughput on the target, MB/s.
    #[arg(long, default_value_t = 100.0, value_parser = rate, value_name = "MB/S")]
    pub restore_mb_s: f64,
    /// Backup size ÷ data size (0.3 for a backup compressed to 30%).
    #[arg(long, default_value_t = 1.0, value_parser = ratio)]
    pub compression_ratio: f64,
    /// Hardware configurations that may be recommended (memory optimized premium-series is
    /// offered in some regions only).
    #[arg(long, value_delimiter = ',', value_enum, default_values_t = [HardwareArg::StandardSeries, HardwareArg::PremiumSeries])]
    pub hardware: Vec<HardwareArg>,
}

fn percent(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("{s:?} is not a percentile between 0 and 100")),
    }
}

fn rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r > 0.0 && r.is_finite() => Ok(r),
        _ => Err(format!("{s:?} is not a throughput in MB/s")),
    }
}

fn ratio(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r > 0.0 && r <= 1.0 => Ok(r),
        _ => Err(format!("{s:?} is not a ratio between 0 and 1")),
    }
}

fn scaling(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if p > 0.0 && p <= 1000.0 => Ok(p),
        _ => Err(format!("{s:?} is not a scaling factor in percent (1–1000)")),
    }
}

/// Runs `sqlmig sku …`.
pub fn run(ctx: &Context, cmd: SkuCommand) -> Result<ExitCode, Failure> {
    let SkuCommand::Recommend(args) = cmd;
    let options = Options {
        hardware: args.hardware.iter().map(|h| Hardware::from(*h)).collect(),
    };
    // (server, source, need) of each instance in the collection.
    let measured: Vec<(String, Source, Need, Vec<Moving>)> = if args.perf.is_dir() {
        microsoft_csv::read_dir(&args.perf)
            .map_err(Failure::bad_input)?
            .iter()
            .map(|c| {
                let source = Source {
                    edition: c.edition.clone(),
                    product_version: c.product_version.clone(),
                    logical_cpus: c.logical_cpus,
                    samples: c.windows,
                };
                (
                    c.server.clone(),
                    source,
                    c.need(args.percentile, args.scaling_factor),
                    c.moving(args.percentile),
                )
            })
            .collect()
    } else {
        let f = PerfFile::read(&args.perf).map_err(Failure::bad_input)?;
        if f.samples.is_empty() {
            return Err(Failure::bad_input(format!(
                "{}: no samples yet: collect for at least two intervals",
                args.perf.display()
            )));
        }
        let source = Source {
            edition: f.edition.clone(),
            product_version: f.product_version.clone(),
            logical_cpus: f64::from(f.logical_cpus),
            samples: f.samples.len(),
        };
        vec![(
            f.server.clone(),
            source,
            f.need(args.percentile, args.scaling_factor),
            f.moving(args.percentile),
        )]
    };
    let assumptions = Assumptions {
        backup_mb_s: args.backup_mb_s,
        upload_mb_s: args.upload_mb_s,
        restore_mb_s: args.restore_mb_s,
        compression_ratio: args.compression_ratio,
        ..Assumptions::default()
    };
    let instances: Vec<InstanceSizing> = measured
        .into_iter()
        .map(|(server, source, need, moving)| {
            let sizing = recommend(&need, &options);
            let forecast = match &sizing {
                Sizing::Fits(r) => Some(forecast(
                    &moving,
                    limits::log_rate_mib_s(r.tier, r.hardware, r.vcores),
                    &assumptions,
                )),
                Sizing::DoesNotFit { .. } => None,
            };
            InstanceSizing {
                server,
                source,
                sizing,
                databases: per_database(&need, &options),
                need,
                forecast,
            }
        })
        .collect();
    let all_fit = instances
        .iter()
        .all(|i| matches!(i.sizing, Sizing::Fits(_)));
    let report = Report {
        schema: "sqlmig.sku/1",
        percentile: args.percentile,
        scaling_factor: args.scaling_factor,
        limits_taken: limits::taken(),
        instances,
    };
    write_report(ctx, &report, || html::render(&report), || table(&report))?;
    Ok(ExitCode::from(if all_fit { 0 } else { 1 }))
}

/// One database's share and what would hold it alone.
pub fn database_line(d: &DatabaseSizing) -> String {
    let alone = match &d.alone {
        Sizing::Fits(r) => format!(
            "alone it fits {} {} vCores (driven by {})",
            r.tier.label(),
            r.vcores,
            r.driver.name()
        ),
        Sizing::DoesNotFit { reasons } => {
            format!("alone it fits no instance: {}", reasons.join("; "))
        }
    };
    format!(
        "database {}: {:.1} GB ({:.0}% of storage), {:.0} IOPS, {:.2} MB/s log ({:.0}% of the log){}; {alone}",
        d.database,
        d.storage_gb,
        d.storage_share_pct,
        d.iops,
        d.log_mb_s,
        d.log_share_pct,
        if d.in_memory_oltp {
            ", In-Memory OLTP"
        } else {
            ""
        }
    )
}

/// The console report: one line per instance, then why.
fn table(report: &Report) -> String {
    let mut t = Table::new(&[
        "INSTANCE",
        "TIER",
        "HARDWARE",
        "VCORES",
        "STORAGE",
        "DRIVEN BY",
    ]);
    let mut why = String::new();
    for i in &report.instances {
        match &i.sizing {
            Sizing::Fits(r) => {
                t.row(vec![
                    i.server.clone(),
                    r.tier.label().into(),
                    r.hardware.label().into(),
                    r.vcores.to_string(),
                    match r.iops {
                        Some(iops) => format!("{} GB, {iops} IOPS", r.storage_gb),
                        None => format!("{} GB", r.storage_gb),
                    },
                    r.driver.name().into(),
                ]);
                for line in &r.explanation {
                    why.push_str(&format!("{}: {line}\n", i.server));
                }
                if let Some(f) = &i.forecast {
                    why.push_str(&format!("{}: move: {}\n", i.server, f.summary()));
                }
                for d in &i.databases {
                    why.push_str(&format!("{}: {}\n", i.server, database_line(d)));
                }
            }
            Sizing::DoesNotFit { reasons } => {
                t.row(vec![
                    i.server.clone(),
                    "does not fit".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
                for line in reasons {
                    why.push_str(&format!("{}: {line}\n", i.server));
                }
            }
        }
    }
    format!(
        "{}\n{why}\nAt the {}th percentile, scaled {}%. Limits: {}.\n",
        t.render(),
        report.percentile,
        report.scaling_factor,
        report.limits_taken
    )
}
