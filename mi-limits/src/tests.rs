//! Each table read at its boundaries, as the pages write them, and every row held to a page.

use super::*;

/// Why a row's source is not one a reader can follow, if it is not.
fn problem(s: &Source) -> Option<String> {
    if !PAGES.contains(&s.page) {
        return Some(format!(
            "{} is not one of the pages read (PAGES)",
            s.page.path
        ));
    }
    let d: Vec<&str> = s.page.ms_date.split('-').collect();
    let valid = d.len() == 3
        && d[0]
            .parse::<u32>()
            .is_ok_and(|y| (2025..=2100).contains(&y))
        && d[1].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        && d[2].parse::<u32>().is_ok_and(|x| (1..=31).contains(&x));
    if !valid {
        return Some(format!(
            "ms.date {:?} is not a date of 2025 or later",
            s.page.ms_date
        ));
    }
    if s.section.trim().is_empty() {
        return Some("names no section".into());
    }
    None
}

#[test]
fn every_row_cites_a_current_page_and_its_section() {
    let all = sources();
    assert!(all.len() > 80, "{} rows", all.len());
    let bad: Vec<String> = all
        .iter()
        .filter_map(|(what, s)| problem(s).map(|p| format!("{what}: {p}")))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    // The check refuses what a row without a real source would carry.
    let unsourced = Source {
        page: Page {
            path: "",
            ms_date: "",
        },
        section: "",
    };
    assert!(problem(&unsourced).is_some());
    let stale = Source {
        page: Page {
            path: RESOURCE_LIMITS.path,
            ms_date: "2022-06-02",
        },
        section: "Max memory",
    };
    assert!(problem(&stale).is_some());
    assert_eq!(
        TIERS.cite(),
        "resource-limits.md (ms.date 2026-08-10), \"Service tier characteristics\""
    );
    assert_eq!(
        RESOURCE_LIMITS.url(),
        "https://learn.microsoft.com/azure/azure-sql/managed-instance/resource-limits"
    );
    assert_eq!(
        COMPATIBILITY_LEVELS.url(),
        "https://learn.microsoft.com/sql/includes/compatibility-levels"
    );
}

#[test]
fn every_size_has_its_storage_and_every_storage_row_a_size() {
    for r in VCORE_ROWS {
        for &v in r.vcores {
            assert!(
                max_storage_gb(r.tier, r.hardware, v) > 0.0,
                "{:?} {:?} {v}",
                r.tier,
                r.hardware
            );
        }
    }
    for r in STORAGE_ROWS {
        for v in r.vcores {
            assert!(
                vcores(r.tier, r.hardware).contains(v),
                "{:?} {:?} {v}",
                r.tier,
                r.hardware
            );
        }
    }
}

#[test]
fn sizes_and_memory() {
    assert_eq!(vcores(Gp, MemOpt), [4, 8, 16, 24, 32, 40, 64, 80]);
    assert_eq!(vcores(NextGen, Standard).last(), Some(&80));
    assert_eq!(vcores(Bc, Premium).last(), Some(&128));
    assert_eq!(vcores(Bc, Premium)[1], 6);
    // Per vCore up to the cap, then the cap.
    assert_eq!(memory_gb(Standard, 80), 408.0);
    assert_eq!(memory_gb(Premium, 80), 560.0);
    assert_eq!(memory_gb(Premium, 96), 560.0);
    assert_eq!(memory_gb(MemOpt, 64), 870.4);
    assert_eq!(memory_gb(MemOpt, 80), 870.4);
    assert_eq!(memory_gb(MemOpt, 56), 13.6 * 56.0);
}

#[test]
fn storage_at_each_step() {
    assert_eq!(max_storage_gb(Gp, Standard, 4), 2048.0);
    assert_eq!(max_storage_gb(Gp, Standard, 8), 8192.0);
    assert_eq!(max_storage_gb(Gp, Standard, 16), 16_384.0);
    assert_eq!(max_storage_gb(NextGen, Standard, 24), 16_384.0);
    assert_eq!(max_storage_gb(NextGen, Standard, 32), 32_768.0);
    assert_eq!(max_storage_gb(NextGen, Premium, 12), 8192.0);
    assert_eq!(max_storage_gb(NextGen, Premium, 16), 16_384.0);
    assert_eq!(max_storage_gb(Bc, Standard, 16), 1024.0);
    assert_eq!(max_storage_gb(Bc, Standard, 24), 2048.0);
    assert_eq!(max_storage_gb(Bc, Premium, 8), 2048.0);
    assert_eq!(max_storage_gb(Bc, Premium, 24), 5632.0);
    assert_eq!(max_storage_gb(Bc, Premium, 64), 5632.0);
    assert_eq!(major_regions_storage_gb(Bc, Premium, 64), Some(16_384.0));
    assert_eq!(major_regions_storage_gb(Bc, Premium, 56), None);
    assert_eq!(major_regions_storage_gb(Bc, MemOpt, 40), Some(8192.0));
    assert_eq!(max_storage_gb(Bc, MemOpt, 48), 12_288.0);
    assert_eq!(max_storage_gb(Bc, MemOpt, 64), 16_384.0);
    // Not a size.
    assert_eq!(max_storage_gb(Gp, Standard, 6), 0.0);
    assert_eq!(largest_storage(Gp).0, 16_384.0);
    assert_eq!(largest_storage(NextGen).0, 32_768.0);
    assert_eq!(largest_storage(Bc), (16_384.0, Premium, 64));
}

#[test]
fn databases_files_and_tempdb() {
    assert_eq!(max_user_databases(Gp), 100);
    assert_eq!(max_user_databases(NextGen), 500);
    assert_eq!(max_user_databases(Bc), 100);
    assert_eq!(max_files(Gp), (280, FilesPer::Instance));
    assert_eq!(max_files(NextGen), (4096, FilesPer::Database));
    assert_eq!(max_files(Bc), (32_767, FilesPer::Database));
    assert_eq!(tempdb_max_gb(Gp, 4), Some(96.0));
    assert_eq!(tempdb_max_gb(NextGen, 80), Some(1920.0));
    assert_eq!(tempdb_max_gb(Gp, 96), Some(1920.0));
    assert_eq!(tempdb_max_gb(Bc, 8), None);
}

#[test]
fn log_rates_by_tier_and_hardware() {
    // General Purpose: 4.5 MiB/s per vCore, 120 at most (reached between 24 and 32 vCores).
    assert_eq!(log_rate_mib_s(Gp, Standard, 24), 108.0);
    assert_eq!(log_rate_mib_s(Gp, Premium, 32), 120.0);
    // Next-gen: 4.5 per vCore, 192 at most (between 40 and 48).
    assert_eq!(log_rate_mib_s(NextGen, Standard, 40), 180.0);
    assert_eq!(log_rate_mib_s(NextGen, Premium, 48), 192.0);
    // Business Critical: standard-series 4.5 up to 96; premium 12 up to 192.
    assert_eq!(log_rate_mib_s(Bc, Standard, 16), 72.0);
    assert_eq!(log_rate_mib_s(Bc, Standard, 24), 96.0);
    assert_eq!(log_rate_mib_s(Bc, Premium, 12), 144.0);
    assert_eq!(log_rate_mib_s(Bc, MemOpt, 16), 192.0);
}

#[test]
fn io_at_each_boundary() {
    // General Purpose file classes: 129, 513, 1025, 2049, 4097 GiB, 8 TiB.
    assert_eq!(gp_file_io(129.0), (500.0, 100.0));
    assert_eq!(gp_file_io(129.5), (2300.0, 150.0));
    assert_eq!(gp_file_io(513.0), (2300.0, 150.0));
    assert_eq!(gp_file_io(513.5), (5000.0, 200.0));
    assert_eq!(gp_file_io(4097.5), (7500.0, 250.0));
    assert_eq!(gp_file_io(8192.0), (7500.0, 250.0));
    assert_eq!(gp_file_size_for(500.0, 100.0), Some(0.0));
    assert_eq!(gp_file_size_for(501.0, 0.0), Some(129.0));
    assert_eq!(gp_file_size_for(10.0, 101.0), Some(129.0));
    assert_eq!(gp_file_size_for(7500.0, 250.0), Some(1025.0));
    assert_eq!(gp_file_size_for(7501.0, 0.0), None);
    assert_eq!(gp_file_size_for(1.0, 251.0), None);
    // Next-gen: 3 IOPS per GB, 300 at least; caps by vCores.
    assert_eq!(next_gen_builtin_iops(99.0), 300.0);
    assert_eq!(next_gen_builtin_iops(100.0), 300.0);
    assert_eq!(next_gen_builtin_iops(101.0), 303.0);
    assert_eq!(next_gen_io_caps(4), (6400.0, 145.0));
    assert_eq!(next_gen_io_caps(48), (76_800.0, 1152.0));
    assert_eq!(next_gen_io_caps(56), (80_000.0, 1200.0));
    assert_eq!(next_gen_io_caps(128), (80_000.0, 1200.0));
    // Business Critical: 4,000 per vCore up to 320,000.
    assert_eq!(bc_iops(64), 256_000.0);
    assert_eq!(bc_iops(80), 320_000.0);
    assert_eq!(bc_iops(96), 320_000.0);
}

#[test]
#[allow(clippy::approx_constant)] // Microsoft's 6.28 GB
fn in_memory_oltp_space() {
    assert!(in_memory_oltp(Bc) && !in_memory_oltp(Gp) && !in_memory_oltp(NextGen));
    assert_eq!(in_memory_oltp_gb(Standard, 8), Some(6.28));
    assert_eq!(in_memory_oltp_gb(Standard, 6), None);
    assert_eq!(in_memory_oltp_gb(Standard, 96), None);
    assert_eq!(in_memory_oltp_gb(Premium, 6), Some(6.59));
    assert_eq!(in_memory_oltp_gb(MemOpt, 80), Some(288.61));
    assert_eq!(in_memory_oltp_gb(MemOpt, 128), Some(288.61));
}

#[test]
fn compatibility_levels_by_policy() {
    assert_eq!(compatibility_levels(UpdatePolicy::DEFAULT), (100, 160));
    assert_eq!(
        compatibility_levels(UpdatePolicy::SqlServer2025),
        (100, 170)
    );
    assert_eq!(
        compatibility_levels(UpdatePolicy::AlwaysUpToDate),
        (100, 170)
    );
    assert_eq!(
        UpdatePolicy::from_id("always-up-to-date"),
        Some(UpdatePolicy::AlwaysUpToDate)
    );
    assert_eq!(Tier::from_id("mi-gp-nextgen"), Some(NextGen));
    assert_eq!(Tier::from_id("gp"), None);
}
