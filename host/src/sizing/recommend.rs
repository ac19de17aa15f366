//! The SKU recommendation: the smallest Managed Instance whose documented limits cover what the
//! source needs, and why.
//!
//! Every tier and allowed hardware configuration is tried; for each, the fewest vCores that cover
//! every dimension. General Purpose is preferred while it fits (it costs less); then the fewest
//! vCores (SQL Server is licensed per vCore); then the cheaper hardware. The dimension that asked
//! for the most vCores drives the recommendation — or, on premium hardware, the dimension that
//! made standard-series larger — and the headroom left in every dimension is reported.

use serde::Serialize;

use std::collections::BTreeMap;

use super::limits::{self, FilesPer, Hardware, Tier};

/// What a source instance needs from its target, already at the chosen percentile and scaled.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Need {
    /// Busy CPU, in cores (logical CPUs × CPU % / 100).
    pub cpu_vcores: f64,
    /// Memory in use, GB.
    pub memory_gb: f64,
    /// Log bytes written, MB/s.
    pub log_mb_s: f64,
    /// Data and log files of the user databases, GB.
    pub storage_gb: f64,
    /// The files and their IO, for General Purpose's per-file limits and Business Critical's
    /// instance IOPS.
    pub files: Vec<FileNeed>,
    /// Memory-optimized data in use, GB, when a database uses In-Memory OLTP (which only
    /// Business Critical has).
    pub in_memory_oltp_gb: Option<f64>,
    pub user_databases: u32,
    /// Per user database: its log rate and whether it uses In-Memory OLTP (its files are in
    /// `files`). CPU and memory are instance-wide: SQL Server does not report them per database.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<DatabaseNeed>,
}

/// What one database asks of the target, besides its files.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DatabaseNeed {
    pub name: String,
    pub log_mb_s: f64,
    pub in_memory_oltp: bool,
}

/// One database file's size and IO.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FileNeed {
    pub database: String,
    pub file: String,
    pub size_gb: f64,
    pub iops: f64,
    pub mb_s: f64,
}

/// What drove a recommendation's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Cpu,
    Memory,
    LogRate,
    Storage,
    Iops,
    InMemoryOltp,
    /// Nothing asks for more than the smallest instance.
    Minimum,
}

impl Dimension {
    /// Its name in reports, as the JSON writes it (`log_rate`).
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Cpu => "cpu",
            Dimension::Memory => "memory",
            Dimension::LogRate => "log_rate",
            Dimension::Storage => "storage",
            Dimension::Iops => "iops",
            Dimension::InMemoryOltp => "in_memory_oltp",
            Dimension::Minimum => "minimum",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Dimension::Cpu => "CPU",
            Dimension::Memory => "memory",
            Dimension::LogRate => "log write rate",
            Dimension::Storage => "storage",
            Dimension::Iops => "IOPS",
            Dimension::InMemoryOltp => "In-Memory OLTP",
            Dimension::Minimum => "the smallest instance",
        }
    }
}

/// One dimension: what is needed, what the recommended instance allows, the headroom left.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Headroom {
    pub dimension: Dimension,
    pub need: f64,
    pub limit: f64,
    /// (limit − need) / limit, 0–1.
    pub headroom: f64,
}

/// A General Purpose file to grow so its size class gives the IOPS it needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileGrowth {
    pub database: String,
    pub file: String,
    pub from_gb: f64,
    pub to_gb: f64,
    pub iops: f64,
}

/// The recommended instance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recommendation {
    pub tier: Tier,
    pub hardware: Hardware,
    pub vcores: u32,
    /// Storage to reserve, GB, in MI's 32 GB steps.
    pub storage_gb: u32,
    /// IOPS to provision on Next-gen General Purpose, where the reserved storage's own (3 per GB)
    /// are fewer than the source needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iops: Option<u32>,
    pub driver: Dimension,
    /// Sentences a DBA reads: what drove the choice, and why the tier.
    pub explanation: Vec<String>,
    pub headroom: Vec<Headroom>,
    pub grow_files: Vec<FileGrowth>,
}

/// The recommendation, or why no Managed Instance fits.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Sizing {
    Fits(Recommendation),
    DoesNotFit { reasons: Vec<String> },
}

/// One tier and hardware configuration, sized, or why it cannot hold the source.
#[derive(Clone)]
struct Candidate {
    tier: Tier,
    hardware: Hardware,
    vcores: u32,
    storage_gb: f64,
    /// IOPS the instance must have (Next-gen General Purpose provisions them).
    iops: f64,
    driver: Dimension,
    grow_files: Vec<FileGrowth>,
}

/// Which hardware configurations may be recommended.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub hardware: Vec<Hardware>,
}

impl Default for Options {
    /// Standard-series and premium-series: memory optimized premium-series is offered in some
    /// regions only, so it is recommended only when asked for.
    fn default() -> Self {
        Options {
            hardware: vec![Hardware::StandardSeries, Hardware::PremiumSeries],
        }
    }
}

/// The recommendation for `need`: the cheapest tier that fits (General Purpose, then Next-gen
/// General Purpose, then Business Critical), with the fewest vCores, on the cheapest hardware.
pub fn recommend(need: &Need, options: &Options) -> Sizing {
    // Why each tier (or tier and hardware) does not hold the source, as the DBA reads it.
    let mut reasons: Vec<(Tier, String)> = Vec::new();
    let mut best: Option<Candidate> = None;
    let mut standard: Vec<Candidate> = Vec::new();
    for tier in Tier::ALL {
        if let Some(why) = tier_problem(need, tier) {
            reasons.push((tier, format!("{}: {why}", tier.label())));
            continue;
        }
        for hardware in Hardware::ALL
            .into_iter()
            .filter(|h| options.hardware.contains(h))
        {
            match size(need, tier, hardware) {
                Ok(c) => {
                    let better = match &best {
                        None => true,
                        Some(b) => (c.tier, c.vcores, c.hardware) < (b.tier, b.vcores, b.hardware),
                    };
                    if hardware == Hardware::StandardSeries {
                        standard.push(c.clone());
                    }
                    if better {
                        best = Some(c);
                    }
                }
                Err(why) => {
                    let line = (
                        tier,
                        format!("{} {}: {why}", tier.label(), hardware.label()),
                    );
                    if !reasons.contains(&line) {
                        reasons.push(line);
                    }
                }
            }
        }
    }
    match best {
        Some(mut c) => {
            // Premium hardware was chosen because standard-series needed more vCores for
            // something: that is what drove the choice (where standard-series has no size
            // at all, the premium size's own driver did).
            if c.hardware != Hardware::StandardSeries {
                let driver = c.driver;
                c.driver = standard
                    .iter()
                    .find(|s| s.tier == c.tier && s.vcores > c.vcores)
                    .map_or(driver, |s| s.driver);
            }
            Sizing::Fits(explain(need, c, &reasons))
        }
        None => Sizing::DoesNotFit {
            reasons: reasons.into_iter().map(|(_, why)| why).collect(),
        },
    }
}

/// Why no size of `tier` holds the source, whatever its hardware: databases, files, features.
fn tier_problem(need: &Need, tier: Tier) -> Option<String> {
    let databases = limits::max_user_databases(tier);
    if need.user_databases > databases {
        return Some(format!(
            "{} user databases, more than the {databases} an instance holds",
            need.user_databases
        ));
    }
    if !limits::in_memory_oltp(tier) && need.in_memory_oltp_gb.is_some() {
        return Some("In-Memory OLTP is not supported".into());
    }
    let (max_files, per) = limits::max_files(tier);
    match per {
        FilesPer::Instance if need.files.len() > max_files as usize => {
            return Some(format!(
                "{} database files, more than the {max_files} an instance holds",
                need.files.len()
            ));
        }
        FilesPer::Database => {
            let mut per_db: BTreeMap<&str, usize> = BTreeMap::new();
            for f in &need.files {
                *per_db.entry(&f.database).or_default() += 1;
            }
            if let Some((db, n)) = per_db.iter().find(|(_, n)| **n > max_files as usize) {
                return Some(format!(
                    "{db} has {n} files, more than the {max_files} a database holds"
                ));
            }
        }
        _ => {}
    }
    if tier == Tier::GeneralPurpose {
        let most = limits::GP_MAX_DATA_FILE_GB.value;
        if let Some(f) = need.files.iter().find(|f| f.size_gb > most) {
            return Some(format!(
                "{}/{} is {:.0} GB, over the {:.0} GB a file holds (split it over two files)",
                f.database, f.file, f.size_gb, most
            ));
        }
    }
    None
}

/// The IOPS Next-gen General Purpose must provision for `need`: what the files do, and what
/// their throughput takes at 30 IOPS per MB/s.
fn next_gen_iops(need: &Need) -> f64 {
    let iops: f64 = need.files.iter().map(|f| f.iops).sum();
    let mb_s: f64 = need.files.iter().map(|f| f.mb_s).sum();
    iops.max(mb_s * limits::NEXT_GEN_IOPS_PER_MB_S.value)
}

/// The fewest vCores of `tier` on `hardware` that cover `need`.
fn size(need: &Need, tier: Tier, hardware: Hardware) -> Result<Candidate, String> {
    let mut storage = need.storage_gb;
    let mut grow_files = Vec::new();
    if tier == Tier::GeneralPurpose {
        // Each file gets the IO of its size class: a file needing more grows into a class that
        // gives it.
        for f in &need.files {
            let Some(smallest) = limits::gp_file_size_for(f.iops, f.mb_s) else {
                let (iops, mbps) = limits::gp_file_io(f64::MAX);
                return Err(format!(
                    "{}/{} needs {:.0} IOPS and {:.0} MB/s, beyond the {iops:.0} IOPS and {mbps:.0} MB/s a file gets",
                    f.database, f.file, f.iops, f.mb_s
                ));
            };
            if f.size_gb <= smallest && smallest > 0.0 {
                let to = smallest + 1.0;
                storage += to - f.size_gb;
                grow_files.push(FileGrowth {
                    database: f.database.clone(),
                    file: f.file.clone(),
                    from_gb: f.size_gb,
                    to_gb: to,
                    iops: f.iops,
                });
            }
        }
    }
    let iops = match tier {
        Tier::NextGenGeneralPurpose => next_gen_iops(need),
        _ => need.files.iter().map(|f| f.iops).sum(),
    };
    let sizes = limits::vcores(tier, hardware);
    // The fewest vCores each dimension asks for; the largest of them is the size.
    let mut asks: Vec<(Dimension, u32)> = Vec::new();
    let mut ask = |d: Dimension, ok: &dyn Fn(u32) -> bool, what: String| -> Result<(), String> {
        match sizes.iter().copied().find(|v| ok(*v)) {
            Some(v) => {
                asks.push((d, v));
                Ok(())
            }
            None => Err(what),
        }
    };
    let largest = sizes.last().copied().unwrap_or(0);
    ask(
        Dimension::Cpu,
        &|v| need.cpu_vcores <= v as f64,
        format!(
            "{:.1} busy cores need more than its largest size",
            need.cpu_vcores
        ),
    )?;
    ask(
        Dimension::Memory,
        &|v| need.memory_gb <= limits::memory_gb(hardware, v) + 1e-9,
        format!(
            "{:.1} GB of memory is more than its largest size has",
            need.memory_gb
        ),
    )?;
    ask(
        Dimension::LogRate,
        &|v| need.log_mb_s <= limits::log_rate_mib_s(tier, hardware, v),
        format!(
            "{:.1} MB/s of log writes is over its limit of {:.0} MB/s",
            need.log_mb_s,
            limits::log_rate_mib_s(tier, hardware, largest)
        ),
    )?;
    ask(
        Dimension::Storage,
        &|v| storage <= limits::max_storage_gb(tier, hardware, v),
        format!("{storage:.0} GB is more storage than its largest size reserves"),
    )?;
    match tier {
        Tier::BusinessCritical => {
            ask(
                Dimension::Iops,
                &|v| iops <= limits::bc_iops(v),
                format!("{iops:.0} IOPS is more than its largest size gives"),
            )?;
            if let Some(gb) = need.in_memory_oltp_gb {
                ask(
                    Dimension::InMemoryOltp,
                    &|v| limits::in_memory_oltp_gb(hardware, v).is_some_and(|max| gb <= max),
                    format!(
                        "{gb:.1} GB of memory-optimized data is more than its largest size holds"
                    ),
                )?;
            }
        }
        Tier::NextGenGeneralPurpose => {
            let mb_s: f64 = need.files.iter().map(|f| f.mb_s).sum();
            ask(
                Dimension::Iops,
                &|v| {
                    let (most_iops, most_mb_s) = limits::next_gen_io_caps(v);
                    iops <= most_iops && mb_s <= most_mb_s
                },
                format!("{iops:.0} IOPS ({mb_s:.0} MB/s) is more than its largest size allows"),
            )?;
        }
        Tier::GeneralPurpose => {}
    }
    let smallest = sizes.first().copied().unwrap_or(0);
    let (driver, vcores) = asks
        .iter()
        .copied()
        .max_by_key(|(_, v)| *v)
        .filter(|(_, v)| *v > smallest)
        .unwrap_or((Dimension::Minimum, smallest));
    Ok(Candidate {
        tier,
        hardware,
        vcores,
        storage_gb: storage,
        iops,
        driver,
        grow_files,
    })
}

/// The recommendation's explanation and headroom.
fn explain(need: &Need, c: Candidate, elsewhere: &[(Tier, String)]) -> Recommendation {
    let storage_gb = ((c.storage_gb / 32.0).ceil().max(1.0) * 32.0) as u32;
    let mut headroom = vec![
        room(Dimension::Cpu, need.cpu_vcores, c.vcores as f64),
        room(
            Dimension::Memory,
            need.memory_gb,
            limits::memory_gb(c.hardware, c.vcores),
        ),
        room(
            Dimension::LogRate,
            need.log_mb_s,
            limits::log_rate_mib_s(c.tier, c.hardware, c.vcores),
        ),
        room(
            Dimension::Storage,
            c.storage_gb,
            limits::max_storage_gb(c.tier, c.hardware, c.vcores),
        ),
    ];
    let mut provision = None;
    let builtin = limits::next_gen_builtin_iops(storage_gb as f64);
    match c.tier {
        Tier::BusinessCritical => {
            headroom.push(room(Dimension::Iops, c.iops, limits::bc_iops(c.vcores)));
            if let (Some(gb), Some(max)) = (
                need.in_memory_oltp_gb,
                limits::in_memory_oltp_gb(c.hardware, c.vcores),
            ) {
                headroom.push(room(Dimension::InMemoryOltp, gb, max));
            }
        }
        Tier::NextGenGeneralPurpose => {
            headroom.push(room(
                Dimension::Iops,
                c.iops,
                limits::next_gen_io_caps(c.vcores).0,
            ));
            if c.iops > builtin {
                provision = Some(c.iops.ceil() as u32);
            }
        }
        Tier::GeneralPurpose => {}
    }
    let mut explanation = vec![match c.driver {
        Dimension::Minimum => format!(
            "{} vCores, the smallest size, cover every dimension",
            c.vcores
        ),
        d => {
            let (need, limit, left) = headroom
                .iter()
                .find(|h| h.dimension == d)
                .map_or((0.0, 0.0, 0.0), |h| (h.need, h.limit, h.headroom));
            format!(
                "{} drives the size: {} asks for {} vCores, which allow {} ({:.0}% headroom)",
                d.label(),
                need_text(d, need),
                c.vcores,
                need_text(d, limit),
                left * 100.0
            )
        }
    }];
    if c.tier != Tier::GeneralPurpose {
        // Why not the cheaper tiers: the first reason each gave.
        let cheaper: Vec<&String> = Tier::ALL
            .iter()
            .take_while(|t| **t != c.tier)
            .filter_map(|t| elsewhere.iter().find(|(at, _)| at == t).map(|(_, why)| why))
            .collect();
        if cheaper.is_empty() {
            explanation.push(c.tier.label().to_string());
        } else {
            let whys: Vec<String> = cheaper.iter().map(|w| format!("on {w}")).collect();
            explanation.push(format!("{} because {}", c.tier.label(), whys.join("; ")));
        }
    }
    if c.hardware != Hardware::StandardSeries {
        explanation.push(format!(
            "{} for its {} GB of memory per vCore",
            c.hardware.label(),
            limits::memory_gb_per_vcore(c.hardware)
        ));
    }
    if let Some(iops) = provision {
        let extra = iops as f64 - builtin;
        // The storage that brings them, where this size can reserve that much.
        let bringing = ((iops as f64 / limits::NEXT_GEN_IOPS_PER_GB.value) / 32.0).ceil() * 32.0;
        let or_storage = if bringing <= limits::max_storage_gb(c.tier, c.hardware, c.vcores) {
            format!(
                ", or reserve {bringing:.0} GB of storage, which brings them (Next-gen General \
                 Purpose bills an IOPS at a third of a GB's price: both cost the same)"
            )
        } else {
            String::new()
        };
        explanation.push(format!(
            "provision {iops} IOPS: the {storage_gb} GB reserved bring {builtin:.0} (3 per GB); \
             buy the other {extra:.0}{or_storage} — no more vCores needed"
        ));
    }
    for g in &c.grow_files {
        explanation.push(format!(
            "grow {}/{} from {:.0} to {:.0} GB: a General Purpose file of that size gets the {:.0} IOPS it needs",
            g.database, g.file, g.from_gb, g.to_gb, g.iops
        ));
    }
    Recommendation {
        tier: c.tier,
        hardware: c.hardware,
        vcores: c.vcores,
        storage_gb,
        iops: provision,
        driver: c.driver,
        explanation,
        headroom,
        grow_files: c.grow_files,
    }
}

fn room(dimension: Dimension, need: f64, limit: f64) -> Headroom {
    Headroom {
        dimension,
        need,
        limit,
        headroom: if limit > 0.0 {
            ((limit - need) / limit).max(0.0)
        } else {
            0.0
        },
    }
}

fn need_text(d: Dimension, x: f64) -> String {
    match d {
        Dimension::Cpu => format!("{x:.2} cores"),
        Dimension::Memory | Dimension::Storage | Dimension::InMemoryOltp => format!("{x:.1} GB"),
        Dimension::LogRate => format!("{x:.1} MB/s"),
        Dimension::Iops => format!("{x:.0} IOPS"),
        Dimension::Minimum => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small quiet source: what any instance covers.
    fn quiet() -> Need {
        Need {
            cpu_vcores: 1.0,
            memory_gb: 8.0,
            log_mb_s: 1.0,
            storage_gb: 100.0,
            files: vec![FileNeed {
                database: "Sales".into(),
                file: "Sales".into(),
                size_gb: 90.0,
                iops: 100.0,
                mb_s: 10.0,
            }],
            in_memory_oltp_gb: None,
            user_databases: 1,
            databases: Vec::new(),
        }
    }

    fn fits(need: &Need) -> Recommendation {
        match recommend(need, &Options::default()) {
            Sizing::Fits(r) => r,
            Sizing::DoesNotFit { reasons } => panic!("does not fit: {reasons:?}"),
        }
    }

    /// (tier, hardware, vCores, driver) of the recommendation for `need`.
    fn pick(need: &Need) -> (Tier, Hardware, u32, Dimension) {
        let r = fits(need);
        (r.tier, r.hardware, r.vcores, r.driver)
    }

    const GP: Tier = Tier::GeneralPurpose;
    const NEXTGEN: Tier = Tier::NextGenGeneralPurpose;
    const BC: Tier = Tier::BusinessCritical;
    const STD: Hardware = Hardware::StandardSeries;
    const PREM: Hardware = Hardware::PremiumSeries;

    #[test]
    fn a_quiet_source_gets_the_smallest_general_purpose_instance() {
        let r = fits(&quiet());
        assert_eq!(
            (r.tier, r.hardware, r.vcores, r.driver),
            (GP, STD, 4, Dimension::Minimum)
        );
        assert_eq!(r.storage_gb, 128, "100 GB in 32 GB steps");
        assert!(
            r.explanation[0].contains("smallest size"),
            "{:?}",
            r.explanation
        );
        let cpu = r
            .headroom
            .iter()
            .find(|h| h.dimension == Dimension::Cpu)
            .unwrap();
        assert_eq!((cpu.need, cpu.limit, cpu.headroom), (1.0, 4.0, 0.75));
    }

    #[test]
    fn cpu_bound_sizes_follow_the_vcore_steps() {
        let cpu = |c: f64| {
            pick(&Need {
                cpu_vcores: c,
                ..quiet()
            })
        };
        assert_eq!(cpu(7.99), (GP, STD, 8, Dimension::Cpu));
        assert_eq!(cpu(8.0), (GP, STD, 8, Dimension::Cpu));
        assert_eq!(cpu(8.01), (GP, STD, 16, Dimension::Cpu));
        assert_eq!(cpu(80.0), (GP, STD, 80, Dimension::Cpu));
        // Past 80: premium-series on Next-gen General Purpose goes to 96 and 128.
        assert_eq!(cpu(80.5), (NEXTGEN, PREM, 96, Dimension::Cpu));
        assert_eq!(cpu(128.0), (NEXTGEN, PREM, 128, Dimension::Cpu));
        assert!(matches!(
            recommend(
                &Need {
                    cpu_vcores: 128.5,
                    ..quiet()
                },
                &Options::default()
            ),
            Sizing::DoesNotFit { .. }
        ));
        let r = fits(&Need {
            cpu_vcores: 6.0,
            ..quiet()
        });
        assert_eq!(
            r.explanation[0],
            "CPU drives the size: 6.00 cores asks for 8 vCores, which allow 8.00 cores (25% headroom)"
        );
    }

    #[test]
    fn memory_per_vcore_picks_the_hardware() {
        let memory = |gb: f64| {
            pick(&Need {
                memory_gb: gb,
                ..quiet()
            })
        };
        // 8 standard-series vCores have 40.8 GB; premium-series 56 GB.
        assert_eq!(memory(40.7), (GP, STD, 8, Dimension::Memory));
        assert_eq!(memory(40.8), (GP, STD, 8, Dimension::Memory));
        assert_eq!(
            memory(40.9),
            (GP, PREM, 8, Dimension::Memory),
            "fewer vCores on premium"
        );
        assert_eq!(memory(56.0), (GP, PREM, 8, Dimension::Memory));
        assert_eq!(
            memory(56.1),
            (GP, STD, 16, Dimension::Memory),
            "81.6 GB on 16 vCores"
        );
        // Memory optimized premium-series, where asked for: 13.6 GB per vCore.
        let all = Options {
            hardware: Hardware::ALL.to_vec(),
        };
        match recommend(
            &Need {
                memory_gb: 56.1,
                ..quiet()
            },
            &all,
        ) {
            Sizing::Fits(r) => assert_eq!(
                (r.hardware, r.vcores, r.driver),
                (Hardware::PremiumSeriesMemoryOptimized, 8, Dimension::Memory)
            ),
            other => panic!("{other:?}"),
        }
        let r = fits(&Need {
            memory_gb: 50.0,
            ..quiet()
        });
        assert!(
            r.explanation
                .iter()
                .any(|e| e.contains("premium-series for its 7 GB")),
            "{:?}",
            r.explanation
        );
    }

    #[test]
    fn log_rate_bound_sizes_follow_four_and_a_half_mib_per_vcore_then_the_cap() {
        let log = |mb: f64| {
            pick(&Need {
                log_mb_s: mb,
                ..quiet()
            })
        };
        assert_eq!(log(35.9), (GP, STD, 8, Dimension::LogRate));
        assert_eq!(log(36.0), (GP, STD, 8, Dimension::LogRate));
        assert_eq!(log(36.1), (GP, STD, 16, Dimension::LogRate));
        assert_eq!(log(108.1), (GP, STD, 32, Dimension::LogRate));
        assert_eq!(log(120.0), (GP, STD, 32, Dimension::LogRate));
        // Over General Purpose's 120 MiB/s: Next-gen General Purpose writes up to 192.
        assert_eq!(log(120.1), (NEXTGEN, STD, 32, Dimension::LogRate));
        assert_eq!(log(180.0), (NEXTGEN, STD, 40, Dimension::LogRate));
        assert_eq!(
            log(180.1),
            (NEXTGEN, PREM, 48, Dimension::LogRate),
            "premium-series has 48 vCores, standard-series goes to 64"
        );
        assert_eq!(log(192.0), (NEXTGEN, PREM, 48, Dimension::LogRate));
        // Over 192 no instance writes faster (Business Critical standard-series stops at 96).
        match recommend(
            &Need {
                log_mb_s: 192.1,
                ..quiet()
            },
            &Options::default(),
        ) {
            Sizing::DoesNotFit { reasons } => {
                assert!(
                    reasons.iter().any(|r| r.contains("120 MB/s")),
                    "{reasons:?}"
                );
                assert!(
                    reasons.iter().any(|r| r.contains("192 MB/s")),
                    "{reasons:?}"
                );
                assert!(reasons.iter().any(|r| r.contains("96 MB/s")), "{reasons:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn storage_bound_sizes_follow_the_reserved_storage_steps() {
        let storage = |gb: f64| {
            pick(&Need {
                storage_gb: gb,
                ..quiet()
            })
        };
        assert_eq!(storage(2047.0), (GP, STD, 4, Dimension::Minimum));
        assert_eq!(storage(2048.0), (GP, STD, 4, Dimension::Minimum));
        assert_eq!(storage(2049.0), (GP, STD, 8, Dimension::Storage));
        assert_eq!(storage(8192.0), (GP, STD, 8, Dimension::Storage));
        assert_eq!(storage(8193.0), (GP, STD, 16, Dimension::Storage));
        assert_eq!(storage(16_384.0), (GP, STD, 16, Dimension::Storage));
        // Past 16 TB: Next-gen General Purpose reserves 32 TB from 32 vCores.
        assert_eq!(storage(16_385.0), (NEXTGEN, STD, 32, Dimension::Storage));
        assert_eq!(storage(32_768.0), (NEXTGEN, STD, 32, Dimension::Storage));
        assert!(matches!(
            recommend(
                &Need {
                    storage_gb: 32_769.0,
                    ..quiet()
                },
                &Options::default()
            ),
            Sizing::DoesNotFit { .. }
        ));
    }

    #[test]
    fn general_purpose_files_grow_for_their_iops_or_next_gen_provisions_them() {
        let file = |iops: f64| Need {
            files: vec![FileNeed {
                database: "Sales".into(),
                file: "Sales".into(),
                size_gb: 100.0,
                iops,
                mb_s: 10.0,
            }],
            ..quiet()
        };
        // 500 IOPS: a file up to 129 GiB gets them.
        let r = fits(&file(500.0));
        assert!(r.grow_files.is_empty());
        // 501: the file grows past 129 GiB, and the storage with it.
        let r = fits(&file(501.0));
        assert_eq!((r.tier, r.vcores), (GP, 4));
        assert_eq!(r.grow_files[0].to_gb, 130.0);
        assert_eq!(r.storage_gb, 160, "100 GB + 30 GB grown, in 32 GB steps");
        assert!(
            r.explanation
                .iter()
                .any(|e| e.starts_with("grow Sales/Sales from 100 to 130 GB"))
        );
        // 7,500 IOPS is the largest file class (over 1,025 GiB).
        let r = fits(&file(7500.0));
        assert_eq!((r.tier, r.vcores, r.grow_files[0].to_gb), (GP, 4, 1026.0));
        // 7,501: no General Purpose file gets them; Next-gen General Purpose provisions them
        // (its 6-vCore premium-series size allows 9,600) on the storage the data needs.
        let r = fits(&file(7501.0));
        assert_eq!(
            (r.tier, r.hardware, r.vcores, r.driver),
            (NEXTGEN, PREM, 6, Dimension::Iops)
        );
        assert_eq!((r.storage_gb, r.iops), (128, Some(7501)));
        assert!(
            r.explanation.iter().any(|e| e.starts_with(
                "Next-gen General Purpose because on General Purpose standard-series (Gen5): Sales/Sales needs 7501 IOPS"
            )),
            "{:?}",
            r.explanation
        );
        assert!(
            r.explanation.iter().any(|e| e.starts_with(
                "provision 7501 IOPS: the 128 GB reserved bring 384 (3 per GB); buy the other 7117 — no more vCores needed"
            )),
            "{:?}",
            r.explanation
        );
        // Next-gen's throughput takes IOPS too: 300 MB/s is 9,000 IOPS at 30 per MB/s, and
        // more than the 290 MB/s 8 vCores allow.
        let r = fits(&Need {
            files: vec![FileNeed {
                mb_s: 300.0,
                ..file(100.0).files[0].clone()
            }],
            ..quiet()
        });
        assert_eq!((r.tier, r.vcores, r.iops), (NEXTGEN, 10, Some(9000)));
        // Storage is offered instead only where the size can reserve it: 10 vCores take 8 TB,
        // 6 vCores (above) only 2 TB, less than the 2,528 GB that would bring 7,501 IOPS.
        assert!(
            r.explanation
                .iter()
                .any(|e| e.contains("or reserve 3008 GB of storage, which brings them")),
            "{:?}",
            r.explanation
        );
        // Business Critical's instance IOPS at the boundary: 16,000 on 4 vCores.
        let bc = |iops: f64| {
            pick(&Need {
                in_memory_oltp_gb: Some(1.0),
                ..file(iops)
            })
        };
        assert_eq!(bc(16_000.0), (BC, STD, 4, Dimension::Minimum));
        assert_eq!(bc(16_001.0), (BC, PREM, 6, Dimension::Iops));
    }

    #[test]
    #[allow(clippy::approx_constant)] // Microsoft's 3.14 GB
    fn in_memory_oltp_needs_business_critical_with_room_for_the_data() {
        let xtp = |gb: f64| {
            pick(&Need {
                in_memory_oltp_gb: Some(gb),
                ..quiet()
            })
        };
        assert_eq!(xtp(3.13), (BC, STD, 4, Dimension::Minimum));
        assert_eq!(xtp(3.14), (BC, STD, 4, Dimension::Minimum));
        assert_eq!(
            xtp(3.15),
            (BC, PREM, 4, Dimension::InMemoryOltp),
            "premium's 4.39 GB on 4 vCores"
        );
        assert_eq!(
            xtp(4.40),
            (BC, PREM, 6, Dimension::InMemoryOltp),
            "premium's 6.59 GB on 6 vCores"
        );
        let r = fits(&Need {
            in_memory_oltp_gb: Some(1.0),
            ..quiet()
        });
        assert!(
            r.explanation
                .iter()
                .any(|e| e.contains("In-Memory OLTP is not supported")),
            "{:?}",
            r.explanation
        );
    }

    #[test]
    fn dimension_names_are_the_json_names() {
        for d in [
            Dimension::Cpu,
            Dimension::Memory,
            Dimension::LogRate,
            Dimension::Storage,
            Dimension::Iops,
            Dimension::InMemoryOltp,
            Dimension::Minimum,
        ] {
            assert_eq!(serde_json::to_value(d).unwrap(), d.name());
        }
    }

    #[test]
    fn more_databases_than_general_purpose_holds_go_next_gen() {
        let tier = |n| match fits_or_not(n) {
            Sizing::Fits(r) => Some(r.tier),
            Sizing::DoesNotFit { .. } => None,
        };
        assert_eq!(tier(100), Some(GP));
        assert_eq!(tier(101), Some(NEXTGEN));
        assert_eq!(tier(500), Some(NEXTGEN));
        assert_eq!(tier(501), None);
        match fits_or_not(150) {
            Sizing::Fits(r) => assert!(
                r.explanation.contains(
                    &"Next-gen General Purpose because on General Purpose: 150 user databases, more than the 100 an instance holds".to_string()
                ),
                "{:?}",
                r.explanation
            ),
            other => panic!("{other:?}"),
        }
    }

    fn fits_or_not(databases: u32) -> Sizing {
        recommend(
            &Need {
                user_databases: databases,
                ..quiet()
            },
            &Options::default(),
        )
    }
}
