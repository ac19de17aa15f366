//! The words every command uses for a Managed Instance target — service tier, hardware, update
//! policy — as `sqlmig_mi_limits` names them (`mi-gp`, `mi-gp-nextgen`, `mi-bc`): one
//! vocabulary for assess, sku and migrate.

use crate::sizing::limits::{Hardware, Tier, UpdatePolicy};

/// `--target` / `--target-tier` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[allow(clippy::enum_variant_names)] // the names are the ids: mi-gp, mi-gp-nextgen, mi-bc
pub enum TierArg {
    /// General Purpose: remote storage, IO per file, 100 databases, 16 TB.
    MiGp,
    /// Next-gen General Purpose: IOPS bought with reserved storage, 500 databases, 32 TB.
    MiGpNextgen,
    /// Business Critical: local SSD, In-Memory OLTP, a readable replica.
    MiBc,
}

impl From<TierArg> for Tier {
    fn from(t: TierArg) -> Tier {
        match t {
            TierArg::MiGp => Tier::GeneralPurpose,
            TierArg::MiGpNextgen => Tier::NextGenGeneralPurpose,
            TierArg::MiBc => Tier::BusinessCritical,
        }
    }
}

/// `--hardware` / `--target-hardware` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum HardwareArg {
    /// Standard-series (Gen5): 5.1 GB per vCore.
    StandardSeries,
    /// Premium-series: 7 GB per vCore, up to 128 vCores on Next-gen GP and Business Critical.
    PremiumSeries,
    /// Memory optimized premium-series: 13.6 GB per vCore, in some regions only.
    PremiumSeriesMemoryOptimized,
}

impl From<HardwareArg> for Hardware {
    fn from(h: HardwareArg) -> Hardware {
        match h {
            HardwareArg::StandardSeries => Hardware::StandardSeries,
            HardwareArg::PremiumSeries => Hardware::PremiumSeries,
            HardwareArg::PremiumSeriesMemoryOptimized => Hardware::PremiumSeriesMemoryOptimized,
        }
    }
}

/// `--update-policy` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyArg {
    /// The default for new and existing instances: compatibility levels up to 160.
    #[value(name = "sql-server-2022")]
    SqlServer2022,
    /// Database format of SQL Server 2025: compatibility levels up to 170.
    #[value(name = "sql-server-2025")]
    SqlServer2025,
    /// Every feature as soon as Azure has it: compatibility levels up to 170.
    AlwaysUpToDate,
}

impl From<PolicyArg> for UpdatePolicy {
    fn from(p: PolicyArg) -> UpdatePolicy {
        match p {
            PolicyArg::SqlServer2022 => UpdatePolicy::SqlServer2022,
            PolicyArg::SqlServer2025 => UpdatePolicy::SqlServer2025,
            PolicyArg::AlwaysUpToDate => UpdatePolicy::AlwaysUpToDate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// The command line's words are the limits table's ids, so a plan, a report and a rule pack
    /// all say the same.
    #[test]
    fn the_command_line_says_what_the_limits_table_says() {
        for t in TierArg::value_variants() {
            assert_eq!(
                t.to_possible_value().unwrap().get_name(),
                Tier::from(*t).id()
            );
        }
        for p in PolicyArg::value_variants() {
            assert_eq!(
                p.to_possible_value().unwrap().get_name(),
                UpdatePolicy::from(*p).id()
            );
        }
        assert_eq!(TierArg::value_variants().len(), Tier::ALL.len());
        assert_eq!(HardwareArg::value_variants().len(), Hardware::ALL.len());
    }
}
