//! Azure SQL Managed Instance as Microsoft documents it: its targets (service tier, hardware,
//! update policy) and their limits, as data. This is the one table sqlmig's sizing (the host) and
//! the rule pack (`rules-mi`) read; each row names the page and section it was copied from, and
//! [`sources`] lists them all so a test can hold every row to a page.
//!
//! When Microsoft changes a limit: change the row, the page's `ms_date` in [`PAGES`], and the
//! tests at its boundaries (they read these numbers, not copies).

use serde::Serialize;

/// A page of MicrosoftDocs/sql-docs, as it was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// Its path in MicrosoftDocs/sql-docs.
    pub path: &'static str,
    /// The `ms.date` in its front matter, ISO.
    pub ms_date: &'static str,
}

impl Page {
    /// Where a DBA reads it.
    pub fn url(&self) -> String {
        let path = self.path.trim_end_matches(".md");
        match path.strip_prefix("azure-sql/") {
            Some(rest) => format!("https://learn.microsoft.com/azure/azure-sql/{rest}"),
            None => format!(
                "https://learn.microsoft.com/sql/{}",
                path.trim_start_matches("docs/")
            ),
        }
    }
}

/// "Resource limits for Azure SQL Managed Instance".
pub const RESOURCE_LIMITS: Page = Page {
    path: "azure-sql/managed-instance/resource-limits.md",
    ms_date: "2026-08-10",
};
/// "Next-gen General Purpose service tier".
pub const NEXT_GEN_GP: Page = Page {
    path: "azure-sql/managed-instance/service-tiers-next-gen-general-purpose-use.md",
    ms_date: "2026-08-10",
};
/// "Update policy for Azure SQL Managed Instance".
pub const UPDATE_POLICY: Page = Page {
    path: "azure-sql/managed-instance/update-policy.md",
    ms_date: "2026-08-27",
};
/// The compatibility-level table every compatibility page includes.
pub const COMPATIBILITY_LEVELS: Page = Page {
    path: "docs/includes/compatibility-levels.md",
    ms_date: "2025-09-15",
};

/// Every page a row may cite.
pub const PAGES: &[Page] = &[
    RESOURCE_LIMITS,
    NEXT_GEN_GP,
    UPDATE_POLICY,
    COMPATIBILITY_LEVELS,
];

/// The pages sizing's figures come from, as reports name them.
pub fn taken() -> String {
    let pages: Vec<String> = [RESOURCE_LIMITS, NEXT_GEN_GP]
        .iter()
        .map(|p| format!("{} (ms.date {})", p.url(), p.ms_date))
        .collect();
    format!("Microsoft Learn: {}", pages.join(", "))
}

/// Where a row was copied from: a page and the heading (or table) it sits under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source {
    pub page: Page,
    pub section: &'static str,
}

impl Source {
    /// `resource-limits.md (ms.date 2026-08-10), "Service tier characteristics"`.
    pub fn cite(&self) -> String {
        let file = self.page.path.rsplit('/').next().unwrap_or(self.page.path);
        format!(
            "{file} (ms.date {}), \"{}\"",
            self.page.ms_date, self.section
        )
    }
}

const fn limits(section: &'static str) -> Source {
    Source {
        page: RESOURCE_LIMITS,
        section,
    }
}

const TIERS: Source = limits("Service tier characteristics");
const VCORES: Source = limits("Number of vCores");
const MEMORY: Source = limits("Max memory");
const STORAGE: Source = limits("Max instance storage size (reserved)");
const GP_FILE_IO: Source = limits("File IO characteristics in General Purpose tier");
const NEXT_GEN_IO: Source = Source {
    page: NEXT_GEN_GP,
    section: "IOPS",
};
const BC_IO: Source = limits("Business Critical IOPS");
const IN_MEMORY: Source = limits("In-memory OLTP available space");
const COMPATIBILITY: Source = Source {
    page: COMPATIBILITY_LEVELS,
    section: "Supported compatibility level values",
};
const POLICIES: Source = Source {
    page: UPDATE_POLICY,
    section: "Update policy",
};

/// Managed Instance's service tiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Classic General Purpose: remote premium disks, IO per file.
    GeneralPurpose,
    /// Next-gen General Purpose: IO bought with reserved storage, up to 500 databases and 32 TB.
    NextGenGeneralPurpose,
    /// Business Critical: local SSD, four replicas, In-Memory OLTP.
    BusinessCritical,
}

impl Tier {
    /// Every tier, in the order a recommendation prefers them (the cheapest that fits).
    pub const ALL: [Tier; 3] = [
        Tier::GeneralPurpose,
        Tier::NextGenGeneralPurpose,
        Tier::BusinessCritical,
    ];

    /// The name commands take (`--target mi-gp-nextgen`).
    pub fn id(self) -> &'static str {
        match self {
            Tier::GeneralPurpose => "mi-gp",
            Tier::NextGenGeneralPurpose => "mi-gp-nextgen",
            Tier::BusinessCritical => "mi-bc",
        }
    }

    /// The tier a command names.
    pub fn from_id(id: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.id() == id)
    }

    /// The name the Azure portal shows.
    pub fn label(self) -> &'static str {
        match self {
            Tier::GeneralPurpose => "General Purpose",
            Tier::NextGenGeneralPurpose => "Next-gen General Purpose",
            Tier::BusinessCritical => "Business Critical",
        }
    }
}

/// Managed Instance's hardware configurations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hardware {
    StandardSeries,
    PremiumSeries,
    PremiumSeriesMemoryOptimized,
}

impl Hardware {
    /// Every configuration, cheapest per vCore first.
    pub const ALL: [Hardware; 3] = [
        Hardware::StandardSeries,
        Hardware::PremiumSeries,
        Hardware::PremiumSeriesMemoryOptimized,
    ];

    /// The name the Azure portal shows.
    pub fn label(self) -> &'static str {
        match self {
            Hardware::StandardSeries => "standard-series (Gen5)",
            Hardware::PremiumSeries => "premium-series",
            Hardware::PremiumSeriesMemoryOptimized => "memory optimized premium-series",
        }
    }
}

/// An instance's update policy: which SQL Server its database format follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdatePolicy {
    /// The default for existing and new instances (update-policy.md).
    SqlServer2022,
    SqlServer2025,
    AlwaysUpToDate,
}

impl UpdatePolicy {
    /// Every policy.
    pub const ALL: [UpdatePolicy; 3] = [
        UpdatePolicy::SqlServer2022,
        UpdatePolicy::SqlServer2025,
        UpdatePolicy::AlwaysUpToDate,
    ];
    /// "The SQL Server 2022 update policy is the default update policy for all existing and
    /// newly deployed instances."
    pub const DEFAULT: UpdatePolicy = UpdatePolicy::SqlServer2022;

    /// The name commands take (`--update-policy sql-server-2025`).
    pub fn id(self) -> &'static str {
        match self {
            UpdatePolicy::SqlServer2022 => "sql-server-2022",
            UpdatePolicy::SqlServer2025 => "sql-server-2025",
            UpdatePolicy::AlwaysUpToDate => "always-up-to-date",
        }
    }

    /// The policy a command names.
    pub fn from_id(id: &str) -> Option<UpdatePolicy> {
        UpdatePolicy::ALL.into_iter().find(|p| p.id() == id)
    }

    /// The name the Azure portal shows.
    pub fn label(self) -> &'static str {
        match self {
            UpdatePolicy::SqlServer2022 => "SQL Server 2022 update policy",
            UpdatePolicy::SqlServer2025 => "SQL Server 2025 update policy",
            UpdatePolicy::AlwaysUpToDate => "Always-up-to-date update policy",
        }
    }
}

/// The vCore counts of a tier on a hardware configuration (2-vCore instances exist only in
/// instance pools and are left out).
pub struct VcoreRow {
    pub tier: Tier,
    pub hardware: Hardware,
    pub vcores: &'static [u32],
    pub source: Source,
}

const CLASSIC: &[u32] = &[4, 8, 16, 24, 32, 40, 64, 80];
const PREMIUM: &[u32] = &[4, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 56, 64, 80, 96, 128];

#[rustfmt::skip]
pub const VCORE_ROWS: &[VcoreRow] = &[
    VcoreRow { tier: Tier::GeneralPurpose, hardware: Hardware::StandardSeries, vcores: CLASSIC, source: VCORES },
    VcoreRow { tier: Tier::GeneralPurpose, hardware: Hardware::PremiumSeries, vcores: CLASSIC, source: VCORES },
    VcoreRow { tier: Tier::GeneralPurpose, hardware: Hardware::PremiumSeriesMemoryOptimized, vcores: CLASSIC, source: VCORES },
    VcoreRow { tier: Tier::NextGenGeneralPurpose, hardware: Hardware::StandardSeries, vcores: CLASSIC, source: VCORES },
    VcoreRow { tier: Tier::NextGenGeneralPurpose, hardware: Hardware::PremiumSeries, vcores: PREMIUM, source: VCORES },
    VcoreRow { tier: Tier::NextGenGeneralPurpose, hardware: Hardware::PremiumSeriesMemoryOptimized, vcores: PREMIUM, source: VCORES },
    VcoreRow { tier: Tier::BusinessCritical, hardware: Hardware::StandardSeries, vcores: CLASSIC, source: VCORES },
    VcoreRow { tier: Tier::BusinessCritical, hardware: Hardware::PremiumSeries, vcores: PREMIUM, source: VCORES },
    VcoreRow { tier: Tier::BusinessCritical, hardware: Hardware::PremiumSeriesMemoryOptimized, vcores: PREMIUM, source: VCORES },
];

/// The vCore counts an instance of `tier` on `hardware` can have, ascending.
pub fn vcores(tier: Tier, hardware: Hardware) -> &'static [u32] {
    VCORE_ROWS
        .iter()
        .find(|r| r.tier == tier && r.hardware == hardware)
        .map_or(&[], |r| r.vcores)
}

/// Memory per vCore and its cap, the same on every tier.
pub struct MemoryRow {
    pub hardware: Hardware,
    pub gb_per_vcore: f64,
    pub max_gb: f64,
    pub source: Source,
}

#[rustfmt::skip]
pub const MEMORY_ROWS: &[MemoryRow] = &[
    MemoryRow { hardware: Hardware::StandardSeries, gb_per_vcore: 5.1, max_gb: 408.0, source: MEMORY },
    MemoryRow { hardware: Hardware::PremiumSeries, gb_per_vcore: 7.0, max_gb: 560.0, source: MEMORY },
    MemoryRow { hardware: Hardware::PremiumSeriesMemoryOptimized, gb_per_vcore: 13.6, max_gb: 870.4, source: MEMORY },
];

fn memory_row(hardware: Hardware) -> &'static MemoryRow {
    MEMORY_ROWS
        .iter()
        .find(|r| r.hardware == hardware)
        .expect("a row per hardware")
}

/// Memory per vCore, GB.
pub fn memory_gb_per_vcore(hardware: Hardware) -> f64 {
    memory_row(hardware).gb_per_vcore
}

/// An instance's memory, GB: per vCore up to the hardware's cap ("Maximum memory is capped at
/// 560 GB for premium-series vCores above 80, and 870.4 GB for memory optimized premium-series
/// vCores above 64").
pub fn memory_gb(hardware: Hardware, vcores: u32) -> f64 {
    let r = memory_row(hardware);
    (r.gb_per_vcore * vcores as f64).min(r.max_gb)
}

const TB: f64 = 1024.0;

/// The largest reserved storage of a tier on a hardware configuration at some vCore counts.
pub struct StorageRow {
    pub tier: Tier,
    pub hardware: Hardware,
    pub vcores: &'static [u32],
    /// TB every region offers.
    pub tb: f64,
    /// TB the page's "major regions" offer, where it is more.
    pub major_regions_tb: Option<f64>,
    pub source: Source,
}

const fn storage(tier: Tier, hardware: Hardware, vcores: &'static [u32], tb: f64) -> StorageRow {
    StorageRow {
        tier,
        hardware,
        vcores,
        tb,
        major_regions_tb: None,
        source: STORAGE,
    }
}

use Hardware::{
    PremiumSeries as Premium, PremiumSeriesMemoryOptimized as MemOpt, StandardSeries as Standard,
};
use Tier::{BusinessCritical as Bc, GeneralPurpose as Gp, NextGenGeneralPurpose as NextGen};

const GP_OTHER: &[u32] = &[16, 24, 32, 40, 64, 80];
const BIG: &[u32] = &[32, 40, 48, 56, 64, 80, 96, 128];

#[rustfmt::skip]
pub const STORAGE_ROWS: &[StorageRow] = &[
    // General Purpose: "2 TB for 4 vCores, 8 TB for 8 vCores, 16 TB for other sizes".
    storage(Gp, Standard, &[4], 2.0), storage(Gp, Standard, &[8], 8.0), storage(Gp, Standard, GP_OTHER, 16.0),
    storage(Gp, Premium, &[4], 2.0), storage(Gp, Premium, &[8], 8.0), storage(Gp, Premium, GP_OTHER, 16.0),
    storage(Gp, MemOpt, &[4], 2.0), storage(Gp, MemOpt, &[8], 8.0), storage(Gp, MemOpt, GP_OTHER, 16.0),
    // Next-gen General Purpose.
    storage(NextGen, Standard, &[4], 2.0), storage(NextGen, Standard, &[8], 8.0),
    storage(NextGen, Standard, &[16, 24], 16.0), storage(NextGen, Standard, &[32, 40, 64, 80], 32.0),
    storage(NextGen, Premium, &[4, 6], 2.0), storage(NextGen, Premium, &[8, 10, 12], 8.0),
    storage(NextGen, Premium, &[16, 20, 24], 16.0), storage(NextGen, Premium, BIG, 32.0),
    storage(NextGen, MemOpt, &[4, 6], 2.0), storage(NextGen, MemOpt, &[8, 10, 12], 8.0),
    storage(NextGen, MemOpt, &[16, 20, 24], 16.0), storage(NextGen, MemOpt, BIG, 32.0),
    // Business Critical.
    storage(Bc, Standard, &[4, 8, 16], 1.0), storage(Bc, Standard, &[24], 2.0),
    storage(Bc, Standard, &[32, 40, 64, 80], 4.0),
    storage(Bc, Premium, &[4, 6], 1.0), storage(Bc, Premium, &[8, 10, 12], 2.0),
    storage(Bc, Premium, &[16, 20], 4.0), storage(Bc, Premium, &[24, 32, 40, 48, 56], 5.5),
    StorageRow { major_regions_tb: Some(16.0), ..storage(Bc, Premium, &[64, 80, 96, 128], 5.5) },
    storage(Bc, MemOpt, &[4, 6], 1.0), storage(Bc, MemOpt, &[8, 10, 12], 2.0),
    storage(Bc, MemOpt, &[16, 20], 4.0), storage(Bc, MemOpt, &[24], 5.5),
    StorageRow { major_regions_tb: Some(8.0), ..storage(Bc, MemOpt, &[32, 40], 5.5) },
    storage(Bc, MemOpt, &[48, 56], 12.0), storage(Bc, MemOpt, &[64, 80, 96, 128], 16.0),
];

fn storage_row(tier: Tier, hardware: Hardware, vcores: u32) -> Option<&'static StorageRow> {
    STORAGE_ROWS
        .iter()
        .find(|r| r.tier == tier && r.hardware == hardware && r.vcores.contains(&vcores))
}

/// The largest reserved storage, GB, every region offers for this size (0 for a size that does
/// not exist).
pub fn max_storage_gb(tier: Tier, hardware: Hardware, vcores: u32) -> f64 {
    storage_row(tier, hardware, vcores).map_or(0.0, |r| r.tb * TB)
}

/// The largest reserved storage, GB, of this size in the regions the page calls major, where it
/// is more than [`max_storage_gb`].
pub fn major_regions_storage_gb(tier: Tier, hardware: Hardware, vcores: u32) -> Option<f64> {
    storage_row(tier, hardware, vcores)
        .and_then(|r| r.major_regions_tb)
        .map(|tb| tb * TB)
}

/// The largest instance a tier offers: (GB in the regions that offer the most, the hardware,
/// the fewest vCores that reach it).
pub fn largest_storage(tier: Tier) -> (f64, Hardware, u32) {
    STORAGE_ROWS
        .iter()
        .filter(|r| r.tier == tier)
        .map(|r| {
            (
                r.major_regions_tb.unwrap_or(r.tb) * TB,
                r.hardware,
                r.vcores[0],
            )
        })
        .fold((0.0, Hardware::StandardSeries, 0), |best, r| {
            if r.0 > best.0 { r } else { best }
        })
}

/// One documented figure.
pub struct Figure {
    pub value: f64,
    pub source: Source,
}

/// A limit that differs by tier alone.
pub struct TierRow {
    pub tier: Tier,
    pub value: f64,
    pub source: Source,
}

/// "Max number of databases per instance": user databases.
#[rustfmt::skip]
pub const USER_DATABASE_ROWS: &[TierRow] = &[
    TierRow { tier: Gp, value: 100.0, source: TIERS },
    TierRow { tier: NextGen, value: 500.0, source: TIERS },
    TierRow { tier: Bc, value: 100.0, source: TIERS },
];

fn by_tier(rows: &'static [TierRow], tier: Tier) -> f64 {
    rows.iter()
        .find(|r| r.tier == tier)
        .map_or(0.0, |r| r.value)
}

/// User databases an instance of `tier` holds.
pub fn max_user_databases(tier: Tier) -> u32 {
    by_tier(USER_DATABASE_ROWS, tier) as u32
}

/// What a tier's file limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilesPer {
    Instance,
    Database,
}

/// "Max number of database files".
pub struct FileRow {
    pub tier: Tier,
    pub max: u32,
    pub per: FilesPer,
    pub source: Source,
}

#[rustfmt::skip]
pub const FILE_ROWS: &[FileRow] = &[
    // "280 per instance, unless the instance storage size or Azure Premium Disk storage
    // allocation space limit has been reached."
    FileRow { tier: Gp, max: 280, per: FilesPer::Instance, source: TIERS },
    FileRow { tier: NextGen, max: 4096, per: FilesPer::Database, source: TIERS },
    FileRow { tier: Bc, max: 32_767, per: FilesPer::Database, source: TIERS },
];

/// A tier's file limit and what it counts.
pub fn max_files(tier: Tier) -> (u32, FilesPer) {
    FILE_ROWS
        .iter()
        .find(|r| r.tier == tier)
        .map_or((0, FilesPer::Database), |r| (r.max, r.per))
}

/// "Max data file size" on General Purpose: "Maximum size of each data file is 8 TB."
pub const GP_MAX_DATA_FILE_GB: Figure = Figure {
    value: 8.0 * TB,
    source: TIERS,
};
/// "Max log file size": "Limited to 2 TB and currently available instance storage size", every
/// tier.
pub const MAX_LOG_FILE_GB: Figure = Figure {
    value: 2.0 * TB,
    source: TIERS,
};

/// "Log write throughput limit (per instance)".
pub struct LogRateRow {
    pub tier: Tier,
    /// `None`: every hardware configuration.
    pub hardware: Option<Hardware>,
    pub mib_s_per_vcore: f64,
    pub max_mib_s: f64,
    pub source: Source,
}

#[rustfmt::skip]
pub const LOG_RATE_ROWS: &[LogRateRow] = &[
    LogRateRow { tier: Gp, hardware: None, mib_s_per_vcore: 4.5, max_mib_s: 120.0, source: TIERS },
    LogRateRow { tier: NextGen, hardware: None, mib_s_per_vcore: 4.5, max_mib_s: 192.0, source: TIERS },
    LogRateRow { tier: Bc, hardware: Some(Standard), mib_s_per_vcore: 4.5, max_mib_s: 96.0, source: TIERS },
    LogRateRow { tier: Bc, hardware: Some(Premium), mib_s_per_vcore: 12.0, max_mib_s: 192.0, source: TIERS },
    LogRateRow { tier: Bc, hardware: Some(MemOpt), mib_s_per_vcore: 12.0, max_mib_s: 192.0, source: TIERS },
];

/// An instance's log write throughput limit, MiB/s.
pub fn log_rate_mib_s(tier: Tier, hardware: Hardware, vcores: u32) -> f64 {
    LOG_RATE_ROWS
        .iter()
        .find(|r| r.tier == tier && r.hardware.is_none_or(|h| h == hardware))
        .map_or(0.0, |r| {
            (r.mib_s_per_vcore * vcores as f64).min(r.max_mib_s)
        })
}

/// A General Purpose file's IO by its size class.
pub struct FileIoRow {
    /// The largest size of the class, GiB.
    pub max_gib: f64,
    pub iops: f64,
    pub mib_s: f64,
    pub source: Source,
}

#[rustfmt::skip]
pub const GP_FILE_IO_ROWS: &[FileIoRow] = &[
    FileIoRow { max_gib: 129.0, iops: 500.0, mib_s: 100.0, source: GP_FILE_IO },
    FileIoRow { max_gib: 513.0, iops: 2300.0, mib_s: 150.0, source: GP_FILE_IO },
    FileIoRow { max_gib: 1025.0, iops: 5000.0, mib_s: 200.0, source: GP_FILE_IO },
    FileIoRow { max_gib: 2049.0, iops: 7500.0, mib_s: 250.0, source: GP_FILE_IO },
    FileIoRow { max_gib: 4097.0, iops: 7500.0, mib_s: 250.0, source: GP_FILE_IO },
    FileIoRow { max_gib: 8.0 * TB, iops: 7500.0, mib_s: 250.0, source: GP_FILE_IO },
];

/// A General Purpose file of `size_gib`: its (IOPS, MiB/s).
pub fn gp_file_io(size_gib: f64) -> (f64, f64) {
    let r = GP_FILE_IO_ROWS
        .iter()
        .find(|r| size_gib <= r.max_gib)
        .unwrap_or(&GP_FILE_IO_ROWS[GP_FILE_IO_ROWS.len() - 1]);
    (r.iops, r.mib_s)
}

/// The size (GiB) a General Purpose file must exceed to get `iops` and `mib_s` (0: any size),
/// or `None` beyond the largest class.
pub fn gp_file_size_for(iops: f64, mib_s: f64) -> Option<f64> {
    let mut smallest = 0.0;
    for r in GP_FILE_IO_ROWS {
        if iops <= r.iops && mib_s <= r.mib_s {
            return Some(smallest);
        }
        smallest = r.max_gib;
    }
    None
}

/// Next-gen General Purpose's IO: "For every 1GB of reserved storage, you get 3 built-in IOPS".
pub const NEXT_GEN_IOPS_PER_GB: Figure = Figure {
    value: 3.0,
    source: NEXT_GEN_IO,
};
/// "Every instance is guaranteed a minimum of 300 IOPS, regardless of the reserved storage."
pub const NEXT_GEN_MIN_IOPS: Figure = Figure {
    value: 300.0,
    source: NEXT_GEN_IO,
};
/// "throughput (MB/s) = IOPS / 30".
pub const NEXT_GEN_IOPS_PER_MB_S: Figure = Figure {
    value: 30.0,
    source: NEXT_GEN_IO,
};
/// "Every instance is guaranteed a minimum of 75 MB/s of throughput".
pub const NEXT_GEN_MIN_MB_S: Figure = Figure {
    value: 75.0,
    source: NEXT_GEN_IO,
};

/// Next-gen General Purpose's IO caps from some vCore count up.
pub struct NextGenIoRow {
    pub vcores: u32,
    pub max_iops: f64,
    pub max_mb_s: f64,
    pub source: Source,
}

const fn next_gen_io(vcores: u32, max_iops: f64, max_mb_s: f64) -> NextGenIoRow {
    NextGenIoRow {
        vcores,
        max_iops,
        max_mb_s,
        source: NEXT_GEN_IO,
    }
}

pub const NEXT_GEN_IO_ROWS: &[NextGenIoRow] = &[
    next_gen_io(4, 6400.0, 145.0),
    next_gen_io(6, 9600.0, 217.0),
    next_gen_io(8, 12_800.0, 290.0),
    next_gen_io(10, 16_000.0, 367.0),
    next_gen_io(12, 19_200.0, 445.0),
    next_gen_io(16, 25_600.0, 600.0),
    next_gen_io(20, 32_000.0, 665.0),
    next_gen_io(24, 38_400.0, 730.0),
    next_gen_io(32, 51_200.0, 865.0),
    next_gen_io(40, 64_000.0, 1152.0),
    next_gen_io(48, 76_800.0, 1152.0),
    // "56 - 128".
    next_gen_io(56, 80_000.0, 1200.0),
];

/// Next-gen General Purpose's (most IOPS, most MB/s) at `vcores`.
pub fn next_gen_io_caps(vcores: u32) -> (f64, f64) {
    NEXT_GEN_IO_ROWS
        .iter()
        .rev()
        .find(|r| r.vcores <= vcores)
        .map_or((0.0, 0.0), |r| (r.max_iops, r.max_mb_s))
}

/// The IOPS `storage_gb` of reserved storage brings on Next-gen General Purpose.
pub fn next_gen_builtin_iops(storage_gb: f64) -> f64 {
    (storage_gb * NEXT_GEN_IOPS_PER_GB.value).max(NEXT_GEN_MIN_IOPS.value)
}

/// Business Critical: "available IOPS are dictated by the number of vCores using the formula
/// 4000 IOPS/vCore" up to the table's 320,000.
pub const BC_IOPS_PER_VCORE: Figure = Figure {
    value: 4000.0,
    source: BC_IO,
};
/// The most IOPS a Business Critical instance has (80 vCores and more).
pub const BC_MAX_IOPS: Figure = Figure {
    value: 320_000.0,
    source: BC_IO,
};

/// Business Critical's data and log IOPS at `vcores`.
pub fn bc_iops(vcores: u32) -> f64 {
    (BC_IOPS_PER_VCORE.value * vcores as f64).min(BC_MAX_IOPS.value)
}

/// In-Memory OLTP space on Business Critical, GB, per hardware (`None`: not that size).
pub struct InMemoryRow {
    pub vcores: u32,
    /// Standard-series, premium-series, memory optimized premium-series.
    pub gb: [Option<f64>; 3],
    pub source: Source,
}

const fn in_memory(vcores: u32, gb: [Option<f64>; 3]) -> InMemoryRow {
    InMemoryRow {
        vcores,
        gb,
        source: IN_MEMORY,
    }
}

#[allow(clippy::approx_constant)] // 3.14 and 6.28 GB are Microsoft's figures, not π and τ
pub const IN_MEMORY_ROWS: &[InMemoryRow] = &[
    in_memory(4, [Some(3.14), Some(4.39), Some(8.79)]),
    in_memory(6, [None, Some(6.59), Some(15.32)]),
    in_memory(8, [Some(6.28), Some(8.79), Some(22.06)]),
    in_memory(10, [None, Some(12.11), Some(30.94)]),
    in_memory(12, [None, Some(15.43), Some(39.82)]),
    in_memory(16, [Some(15.77), Some(22.06), Some(57.58)]),
    in_memory(20, [None, Some(28.70), Some(75.34)]),
    in_memory(24, [Some(25.25), Some(35.34), Some(93.09)]),
    in_memory(32, [Some(37.94), Some(53.09), Some(128.61)]),
    in_memory(40, [Some(52.23), Some(73.09), Some(164.13)]),
    in_memory(48, [None, Some(95.34), Some(199.64)]),
    in_memory(56, [None, Some(117.58), Some(244.13)]),
    in_memory(64, [Some(99.9), Some(139.82), Some(288.61)]),
    in_memory(80, [Some(131.68), Some(184.30), Some(288.61)]),
    in_memory(96, [None, Some(184.30), Some(288.61)]),
    in_memory(128, [None, Some(184.30), Some(288.61)]),
];

/// Whether `tier` has memory-optimized tables ("In-memory OLTP | Not supported | Not supported |
/// Available", Service tier characteristics).
pub fn in_memory_oltp(tier: Tier) -> bool {
    tier == Tier::BusinessCritical
}

/// In-Memory OLTP space, GB, on Business Critical (the General Purpose tiers have none).
pub fn in_memory_oltp_gb(hardware: Hardware, vcores: u32) -> Option<f64> {
    let i = Hardware::ALL.iter().position(|h| *h == hardware)?;
    IN_MEMORY_ROWS
        .iter()
        .find(|r| r.vcores == vcores)
        .and_then(|r| r.gb[i])
}

/// "Max tempdb database size" on both General Purpose tiers: "Limited to 24 GB/vCore (96 - 1,920
/// GB)"; Business Critical's is the instance's storage.
pub const TEMPDB_GB_PER_VCORE: Figure = Figure {
    value: 24.0,
    source: TIERS,
};
/// The most tempdb on the General Purpose tiers, GB.
pub const TEMPDB_MAX_GB: Figure = Figure {
    value: 1920.0,
    source: TIERS,
};
/// "Max number of tempdb files": 128 on every tier.
pub const TEMPDB_MAX_FILES: Figure = Figure {
    value: 128.0,
    source: TIERS,
};

/// tempdb's largest size, GB, on a General Purpose tier at `vcores` (`None` on Business
/// Critical, where only the instance's storage limits it).
pub fn tempdb_max_gb(tier: Tier, vcores: u32) -> Option<f64> {
    (tier != Tier::BusinessCritical)
        .then(|| (TEMPDB_GB_PER_VCORE.value * vcores as f64).min(TEMPDB_MAX_GB.value))
}

/// The compatibility levels Managed Instance runs databases at, by update policy.
pub struct CompatibilityRow {
    pub policy: UpdatePolicy,
    pub lowest: u32,
    pub highest: u32,
    pub source: Source,
}

#[rustfmt::skip]
pub const COMPATIBILITY_ROWS: &[CompatibilityRow] = &[
    CompatibilityRow { policy: UpdatePolicy::SqlServer2022, lowest: 100, highest: 160, source: COMPATIBILITY },
    CompatibilityRow { policy: UpdatePolicy::SqlServer2025, lowest: 100, highest: 170, source: COMPATIBILITY },
    CompatibilityRow { policy: UpdatePolicy::AlwaysUpToDate, lowest: 100, highest: 170, source: COMPATIBILITY },
];

/// (lowest, highest) compatibility level under `policy`; a lower level is raised to the lowest
/// on restore.
pub fn compatibility_levels(policy: UpdatePolicy) -> (u32, u32) {
    COMPATIBILITY_ROWS
        .iter()
        .find(|r| r.policy == policy)
        .map_or((100, 160), |r| (r.lowest, r.highest))
}

/// Where each update policy's definition is read.
pub const UPDATE_POLICY_SOURCE: Source = POLICIES;

/// Every row of every table above, named, with its source: what the test holds to a page.
pub fn sources() -> Vec<(String, Source)> {
    let mut all: Vec<(String, Source)> = Vec::new();
    let mut add = |what: String, s: Source| all.push((what, s));
    for r in VCORE_ROWS {
        add(format!("vCores {:?} {:?}", r.tier, r.hardware), r.source);
    }
    for r in MEMORY_ROWS {
        add(format!("memory {:?}", r.hardware), r.source);
    }
    for r in STORAGE_ROWS {
        add(
            format!("storage {:?} {:?} {:?}", r.tier, r.hardware, r.vcores),
            r.source,
        );
    }
    for r in USER_DATABASE_ROWS {
        add(format!("user databases {:?}", r.tier), r.source);
    }
    for r in FILE_ROWS {
        add(format!("files {:?}", r.tier), r.source);
    }
    for r in LOG_RATE_ROWS {
        add(format!("log rate {:?} {:?}", r.tier, r.hardware), r.source);
    }
    for r in GP_FILE_IO_ROWS {
        add(format!("GP file IO to {} GiB", r.max_gib), r.source);
    }
    for r in NEXT_GEN_IO_ROWS {
        add(format!("Next-gen IO from {} vCores", r.vcores), r.source);
    }
    for r in IN_MEMORY_ROWS {
        add(format!("In-Memory OLTP {} vCores", r.vcores), r.source);
    }
    for r in COMPATIBILITY_ROWS {
        add(format!("compatibility {:?}", r.policy), r.source);
    }
    for (what, r) in [
        ("GP data file", &GP_MAX_DATA_FILE_GB),
        ("log file", &MAX_LOG_FILE_GB),
        ("Next-gen IOPS per GB", &NEXT_GEN_IOPS_PER_GB),
        ("Next-gen least IOPS", &NEXT_GEN_MIN_IOPS),
        ("Next-gen IOPS per MB/s", &NEXT_GEN_IOPS_PER_MB_S),
        ("Next-gen least MB/s", &NEXT_GEN_MIN_MB_S),
        ("BC IOPS per vCore", &BC_IOPS_PER_VCORE),
        ("BC most IOPS", &BC_MAX_IOPS),
        ("tempdb per vCore", &TEMPDB_GB_PER_VCORE),
        ("tempdb most", &TEMPDB_MAX_GB),
        ("tempdb files", &TEMPDB_MAX_FILES),
    ] {
        add(what.to_string(), r.source);
    }
    add("update policies".into(), UPDATE_POLICY_SOURCE);
    all
}

#[cfg(test)]
mod tests;
