//! Restore chains over real backup history (dbatools' test records: tests/fixtures/backup-history).

use sqlmig_backup_format::chain::{Backup, Problem, chains, group_stripes};
use sqlmig_backup_format::{BackupType, Lsn};
use std::path::PathBuf;

/// Reads a dbatools export (UTF-16 or UTF-8 JSON; LSNs as bare 25-digit numbers).
fn history(name: &str) -> Vec<Backup> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/backup-history")
        .join(name);
    let raw = std::fs::read(&path).unwrap();
    let text = if raw.starts_with(&[0xff, 0xfe]) {
        let units: Vec<u16> = raw[2..]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).unwrap()
    } else {
        String::from_utf8(raw)
            .unwrap()
            .trim_start_matches('\u{feff}')
            .to_string()
    };
    // LSNs exceed what a JSON number holds exactly: quote them before parsing.
    let quoted = regex_lite_quote_numbers(&text);
    let value: serde_json::Value = serde_json::from_str(&quoted).unwrap();
    let records = match value {
        serde_json::Value::Array(a) => a,
        other => vec![other],
    };
    records
        .iter()
        .map(|r| {
            let s = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let lsn = |k: &str| s(k).parse::<Lsn>().unwrap_or(Lsn::ZERO);
            let kind = match s("Type").as_str() {
                "Database" => BackupType::Full,
                "Database Differential" => BackupType::Differential,
                "Transaction Log" => BackupType::Log,
                other => panic!("{name}: backup type {other}"),
            };
            let media = r
                .get("FullName")
                .or(r.get("BackupPath"))
                .map(|v| v.to_string())
                .unwrap_or(s("BackupSetGUID"));
            Backup {
                database_name: if s("Database").is_empty() {
                    s("DatabaseName")
                } else {
                    s("Database")
                },
                server_name: s("ServerName"),
                backup_type: kind,
                first_lsn: lsn("FirstLSN"),
                last_lsn: lsn("LastLSN"),
                checkpoint_lsn: lsn("CheckpointLSN"),
                database_backup_lsn: lsn("DatabaseBackupLSN"),
                backup_start_date: Some(s("BackupStartDate")),
                copy_only: false,
                media: vec![media],
            }
        })
        .collect()
}

/// Puts quotes around every bare number of 12 digits or more (the LSNs).
fn regex_lite_quote_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let mut in_string = false;
    let mut prev = ' ';
    for c in text.chars() {
        if !in_string && c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            if digits.len() >= 12 {
                out.push_str(&format!("\"{digits}\""))
            } else {
                out.push_str(&digits)
            }
            digits.clear();
        }
        if c == '"' && prev != '\\' {
            in_string = !in_string;
        }
        out.push(c);
        prev = c;
    }
    out
}

fn lsn(s: &str) -> Lsn {
    s.parse().unwrap()
}

fn sequence(chain: &sqlmig_backup_format::chain::Chain) -> Vec<(BackupType, String)> {
    chain
        .restore
        .iter()
        .map(|b| (b.backup_type, b.last_lsn.to_string()))
        .collect()
}

#[test]
fn full_then_latest_differential_then_the_logs_after_it() {
    // AgDiffRestore: a full, a differential on it, logs _1.._3 before the differential and
    // _21.._25 after it (listed out of order).
    let chain = &chains(&history("AgDiffRestore.json"))[0];
    assert_eq!(chain.database_name, "RestoreTimeDiff");
    assert_eq!(
        sequence(chain),
        [
            (BackupType::Full, "34000000014400001".into()),
            (BackupType::Differential, "34000000022200001".into()),
            (BackupType::Log, "34000000023200001".into()),
            (BackupType::Log, "34000000024800001".into()),
            (BackupType::Log, "34000000026400001".into()),
            (BackupType::Log, "34000000027000001".into()),
            (BackupType::Log, "34000000028400001".into()),
        ]
    );
    assert_eq!(chain.restores_to, Some(lsn("34000000028400001")));
    assert!(chain.problems.is_empty(), "{:?}", chain.problems);
    assert_eq!(
        chain.unused, 3,
        "logs _1.._3 are not needed after the differential"
    );
    // The same chain whatever the database's name holds (a comma, trailing space).
    let comma = &chains(&history("RestoreCommaIssues.json"))[0];
    assert_eq!(comma.database_name, "Test, command and conquer ");
    assert_eq!(sequence(comma), sequence(chain));
}

#[test]
fn a_missing_log_is_named_by_its_lsn_range() {
    let mut backups = history("DiffRestore.json");
    // Without the differential the logs must carry the chain; drop _3 (19700001 → 21300001).
    backups.retain(|b| {
        b.backup_type != BackupType::Differential && b.last_lsn != lsn("34000000021300001")
    });
    let chain = &chains(&backups)[0];
    assert_eq!(chain.restores_to, Some(lsn("34000000019700001")));
    assert_eq!(
        chain.problems,
        [Problem::MissingLogs {
            from_lsn: lsn("34000000019700001"),
            to_lsn: lsn("34000000021300001")
        }]
    );
    assert!(
        chain.problems[0]
            .message()
            .contains("34000000019700001 up to 34000000021300001")
    );
    // With _3 back the chain is whole to the end through the logs alone.
    let mut whole = history("DiffRestore.json");
    whole.retain(|b| b.backup_type != BackupType::Differential);
    let chain = &chains(&whole)[0];
    assert!(chain.problems.is_empty());
    assert_eq!(chain.restore.len(), 9);
    assert_eq!(chain.restores_to, Some(lsn("34000000028400001")));
}

#[test]
fn logs_taken_before_the_full_are_not_used_and_the_first_log_spans_the_full() {
    // TLogBWFirstLastLsn: three logs end before the full; the fourth spans the full's last LSN.
    let chain = &chains(&history("TLogBWFirstLastLsn.json"))[0];
    assert_eq!(
        sequence(chain),
        [
            (BackupType::Full, "14975000000274400001".into()),
            (BackupType::Log, "14975000000281600001".into()),
            (BackupType::Log, "14975000000288000001".into()),
        ]
    );
    assert_eq!(chain.unused, 3);
    assert!(chain.problems.is_empty());
}

#[test]
fn empty_log_backups_do_not_break_or_pad_the_chain() {
    // EmptyTLogData: dozens of log backups with FirstLSN = LastLSN (no activity) around two
    // fulls, and the latest full's logs.
    let chain = &chains(&history("EmptyTLogData.json"))[0];
    assert_eq!(chain.restore[0].backup_type, BackupType::Full);
    assert_eq!(chain.restore[0].last_lsn, lsn("14975000000272400001"));
    assert!(
        chain.restore[1..]
            .iter()
            .all(|b| b.backup_type == BackupType::Log && b.first_lsn < b.last_lsn)
    );
    assert!(chain.problems.is_empty(), "{:?}", chain.problems);
}

#[test]
fn no_full_and_orphaned_differentials_are_problems() {
    let mut logs_only = history("DiffRestore.json");
    logs_only.retain(|b| b.backup_type == BackupType::Log);
    let chain = &chains(&logs_only)[0];
    assert_eq!(chain.problems, [Problem::NoFullBackup]);
    assert!(chain.restore.is_empty());

    let mut no_base = history("DiffRestore.json");
    no_base.retain(|b| b.backup_type != BackupType::Full);
    no_base.push(Backup {
        backup_type: BackupType::Full,
        checkpoint_lsn: lsn("1000"),
        last_lsn: lsn("2000"),
        ..no_base[0].clone()
    });
    let chain = &chains(&no_base)[0];
    assert!(chain.problems.iter().any(|p| matches!(p, Problem::DifferentialWithoutFull { base_checkpoint_lsn, .. } if *base_checkpoint_lsn == lsn("34000000006900179"))), "{:?}", chain.problems);
}

#[test]
fn stripes_of_one_backup_restore_together() {
    let full = history("DiffRestore.json")
        .into_iter()
        .find(|b| b.backup_type == BackupType::Full)
        .unwrap();
    let stripe = |m: &str| Backup {
        media: vec![m.into()],
        ..full.clone()
    };
    let grouped = group_stripes(vec![stripe("b.bak"), stripe("a.bak"), stripe("c.bak")]);
    assert_eq!(grouped.len(), 1);
    assert_eq!(grouped[0].media, ["a.bak", "b.bak", "c.bak"]);
}
