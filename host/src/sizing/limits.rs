//! Azure SQL Managed Instance resource limits, as data: the one table sizing reads.
//!
//! Taken from Microsoft's "Overview of Azure SQL Managed Instance resource limits"
//! (learn.microsoft.com/azure/azure-sql/managed-instance/resource-limits; the page's ms.date
//! 2022-06-02, MicrosoftDocs/sql-docs commit c8c60850). When Microsoft changes a limit, change it
//! here and [`TAKEN`] with it; tests at each boundary read these numbers, not copies.

use serde::Serialize;

/// When and where the limits below were taken.
pub const TAKEN: &str = "Microsoft Learn, \"Overview of Azure SQL Managed Instance resource limits\", ms.date 2022-06-02";

/// MI's service tiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    GeneralPurpose,
    BusinessCritical,
}

impl Tier {
    /// The name the Azure portal shows.
    pub fn label(self) -> &'static str {
        match self {
            Tier::GeneralPurpose => "General Purpose",
            Tier::BusinessCritical => "Business Critical",
        }
    }
}

/// MI's hardware configurations.
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

    /// Memory per vCore, GB.
    pub fn memory_gb_per_vcore(self) -> f64 {
        match self {
            Hardware::StandardSeries => 5.1,
            Hardware::PremiumSeries => 7.0,
            Hardware::PremiumSeriesMemoryOptimized => 13.6,
        }
    }

    /// The vCore counts an instance can have, ascending.
    pub fn vcores(self) -> &'static [u32] {
        match self {
            Hardware::StandardSeries | Hardware::PremiumSeries => &[4, 8, 16, 24, 32, 40, 64, 80],
            Hardware::PremiumSeriesMemoryOptimized => &[4, 8, 16, 24, 32, 40, 64],
        }
    }
}

const TB: f64 = 1024.0;

/// Largest instance storage (reserved), GB.
pub fn max_storage_gb(tier: Tier, hardware: Hardware, vcores: u32) -> f64 {
    match tier {
        Tier::GeneralPurpose => match vcores {
            4 => 2.0 * TB,
            8 => 8.0 * TB,
            _ => 16.0 * TB,
        },
        Tier::BusinessCritical => match hardware {
            Hardware::StandardSeries => match vcores {
                0..=16 => TB,
                24 => 2.0 * TB,
                _ => 4.0 * TB,
            },
            Hardware::PremiumSeries => match vcores {
                0..=8 => TB,
                16 | 24 => 2.0 * TB,
                32 => 4.0 * TB,
                _ => 5.5 * TB,
            },
            Hardware::PremiumSeriesMemoryOptimized => match vcores {
                0..=8 => TB,
                16 | 24 => 2.0 * TB,
                32 => 4.0 * TB,
                40 => 5.5 * TB,
                _ => 16.0 * TB,
            },
        },
    }
}

/// Instance log write throughput limit, MB/s: 3 MB/s per vCore up to 120 on General Purpose,
/// 4 MB/s per vCore up to 96 on Business Critical.
pub fn log_rate_mb_s(tier: Tier, vcores: u32) -> f64 {
    match tier {
        Tier::GeneralPurpose => (3.0 * vcores as f64).min(120.0),
        Tier::BusinessCritical => (4.0 * vcores as f64).min(96.0),
    }
}

/// Business Critical's data and log IOPS: 4,000 per vCore (General Purpose's depend on each
/// file's size, [`gp_file_io`]).
pub fn bc_iops(vcores: u32) -> f64 {
    4000.0 * vcores as f64
}

/// A General Purpose file's IO by its size: (largest size of the class in GiB, IOPS, MiB/s).
pub const GP_FILE_IO: [(f64, f64, f64); 6] = [
    (128.0, 500.0, 100.0),
    (512.0, 2300.0, 150.0),
    (1024.0, 5000.0, 200.0),
    (2048.0, 7500.0, 250.0),
    (4096.0, 7500.0, 250.0),
    (8192.0, 12_500.0, 250.0),
];

/// A General Purpose file of `size_gb`: its (IOPS, MiB/s).
pub fn gp_file_io(size_gb: f64) -> (f64, f64) {
    GP_FILE_IO
        .iter()
        .find(|(max, _, _)| size_gb <= *max)
        .or(GP_FILE_IO.last())
        .map(|(_, iops, mbps)| (*iops, *mbps))
        .expect("the table has rows")
}

/// The size (GiB) a General Purpose file must exceed to get `iops` and `mb_s` (0: any size),
/// or `None` beyond the largest class.
pub fn gp_file_size_for(iops: f64, mb_s: f64) -> Option<f64> {
    let mut smallest = 0.0;
    for (max, class_iops, class_mbps) in GP_FILE_IO {
        if iops <= class_iops && mb_s <= class_mbps {
            return Some(smallest);
        }
        smallest = max;
    }
    None
}

/// In-memory OLTP space on Business Critical, GB (General Purpose has none).
#[allow(clippy::approx_constant)] // 3.14 and 6.28 GB are Microsoft's figures, not π and τ
pub fn in_memory_oltp_gb(hardware: Hardware, vcores: u32) -> Option<f64> {
    let row: [f64; 3] = match vcores {
        4 => [3.14, 4.39, 8.79],
        8 => [6.28, 8.79, 22.06],
        16 => [15.77, 22.06, 57.58],
        24 => [25.25, 35.34, 93.09],
        32 => [37.94, 53.09, 128.61],
        40 => [52.23, 73.09, 164.13],
        64 => [99.9, 139.82, 288.61],
        80 => [131.68, 184.30, f64::NAN],
        _ => return None,
    };
    let gb = match hardware {
        Hardware::StandardSeries => row[0],
        Hardware::PremiumSeries => row[1],
        Hardware::PremiumSeriesMemoryOptimized => row[2],
    };
    (!gb.is_nan()).then_some(gb)
}

/// User databases an instance holds.
pub const MAX_USER_DATABASES: u32 = 100;

/// General Purpose tempdb: 24 GB per vCore.
pub fn gp_tempdb_gb(vcores: u32) -> f64 {
    24.0 * vcores as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::approx_constant)] // Microsoft's 6.28 GB
    fn the_table_reads_as_the_page_says() {
        assert_eq!(
            max_storage_gb(Tier::GeneralPurpose, Hardware::StandardSeries, 4),
            2048.0
        );
        assert_eq!(
            max_storage_gb(Tier::GeneralPurpose, Hardware::StandardSeries, 16),
            16_384.0
        );
        assert_eq!(
            max_storage_gb(Tier::BusinessCritical, Hardware::StandardSeries, 24),
            2048.0
        );
        assert_eq!(
            max_storage_gb(Tier::BusinessCritical, Hardware::PremiumSeries, 40),
            5632.0
        );
        assert_eq!(log_rate_mb_s(Tier::GeneralPurpose, 80), 120.0);
        assert_eq!(log_rate_mb_s(Tier::BusinessCritical, 16), 64.0);
        assert_eq!(gp_file_io(128.0), (500.0, 100.0));
        assert_eq!(gp_file_io(128.5), (2300.0, 150.0));
        assert_eq!(gp_file_size_for(500.0, 100.0), Some(0.0));
        assert_eq!(gp_file_size_for(501.0, 0.0), Some(128.0));
        assert_eq!(
            gp_file_size_for(10.0, 101.0),
            Some(128.0),
            "throughput grows a file too"
        );
        assert_eq!(gp_file_size_for(12_500.0, 250.0), Some(4096.0));
        assert_eq!(gp_file_size_for(12_501.0, 0.0), None);
        assert_eq!(gp_file_size_for(1.0, 251.0), None);
        assert_eq!(
            in_memory_oltp_gb(Hardware::PremiumSeriesMemoryOptimized, 80),
            None
        );
        assert_eq!(in_memory_oltp_gb(Hardware::StandardSeries, 8), Some(6.28));
    }
}
