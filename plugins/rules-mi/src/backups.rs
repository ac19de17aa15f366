//! Backups and restores: checksums of the last full backup, the BACKUP and RESTORE statements
//! Managed Instance refuses or treats differently, database snapshots.

use crate::rule::{Rule, database_findings};
use crate::scan::{Scan, find_in_statement};
use crate::security::{KEY_FILES, SERVICE_MASTER_KEY};
use crate::tsql::Code;
use sqlmig_plugin_sdk::protocol::{Database, Instance};
use sqlmig_plugin_sdk::{Finding, FindingLevel};

pub(crate) const NO_CHECKSUM: Rule = Rule {
    id: "SQLMIG0301",
    level: FindingLevel::Warning,
    title: "Backups without CHECKSUM",
    impact: "A backup without checksums restores on Managed Instance, but more slowly and without a check of its pages.",
    remediation: "Take the migration backups WITH CHECKSUM (sqlmig does).",
};

pub(crate) const DISK_BACKUP: Rule = Rule {
    id: "SQLMIG0202",
    level: FindingLevel::Issue,
    title: "Backup or restore to disk or tape",
    impact: "Managed Instance backs up only TO URL (COPY_ONLY) and restores only FROM URL; disk and tape devices fail.",
    remediation: "Back up TO URL with COPY_ONLY (automated backups cover the rest) and restore FROM URL.",
};

/// Statements Managed Instance refuses that T-SQL differences lists (ms.date 2025-04-23) and the
/// features comparison page (`features-comparison.md`, ms.date 2026-05-26) confirms.
pub(crate) const COPY_ONLY: Rule = Rule {
    id: "SQLMIG0224",
    level: FindingLevel::Issue,
    title: "BACKUP without COPY_ONLY, or with options Managed Instance refuses",
    impact: "Managed Instance takes its own backups; a user backup must be a full COPY_ONLY backup to URL, and FILE_SNAPSHOT and CREDENTIAL are not supported (T-SQL differences, Backup).",
    remediation: "Add WITH COPY_ONLY (and drop FILE_SNAPSHOT, CREDENTIAL), or rely on the instance's automated backups and point-in-time restore.",
};

pub(crate) const BACKUP_KIND: Rule = Rule {
    id: "SQLMIG0225",
    level: FindingLevel::Issue,
    title: "Log or differential backup",
    impact: "\"Differential, log, and file snapshot backups aren't supported\" on Managed Instance: the statement fails (T-SQL differences, Backup).",
    remediation: "Remove the job or code; Managed Instance's automated backups (full, differential and log) give point-in-time restore.",
};

pub(crate) const RESTORE_OPTIONS: Rule = Rule {
    id: "SQLMIG0226",
    level: FindingLevel::Issue,
    title: "RESTORE LOG or RESTORE … WITH",
    impact: "Managed Instance restores a full backup FROM URL without WITH options (\"WITH options aren't supported\"), and no log backup (T-SQL differences, RESTORE statement).",
    remediation: "Restore full backups FROM URL with no options, or use point-in-time restore or the Log Replay Service for a chain.",
};

pub(crate) const SNAPSHOT: Rule = Rule {
    id: "SQLMIG0232",
    level: FindingLevel::Issue,
    title: "Database snapshot",
    impact: "\"The AS SNAPSHOT OF option isn't supported\" on Managed Instance (T-SQL differences, CREATE DATABASE statement).",
    remediation: "Use point-in-time restore to a new database, or a COPY_ONLY backup, where the code took a snapshot.",
};

pub(crate) fn backup_or_restore(code: &Code, i: usize, scan: &mut Scan) {
    let what = code.toks_name(i + 1).to_ascii_uppercase();
    match what.as_str() {
        "DATABASE" | "LOG" => {
            let device = |j: usize| {
                (code.kw(j, "TO") || code.kw(j, "FROM"))
                    && (code.kw(j + 1, "DISK") || code.kw(j + 1, "TAPE"))
            };
            let backup = code.kw(i, "BACKUP");
            let option = |kw: &str| find_in_statement(code, i, |j| code.kw(j, kw));
            let with = option("WITH");
            if find_in_statement(code, i, device).is_none() {
                // TO/FROM URL: what Managed Instance takes, with its own limits.
                if backup && what == "LOG" {
                    scan.hit(code, &BACKUP_KIND, i, "BACKUP LOG");
                } else if backup && with.is_some() && option("DIFFERENTIAL").is_some() {
                    scan.hit(code, &BACKUP_KIND, i, "BACKUP DATABASE WITH DIFFERENTIAL");
                } else if backup && option("COPY_ONLY").is_none() {
                    scan.hit(code, &COPY_ONLY, i, "BACKUP DATABASE without COPY_ONLY");
                } else if backup
                    && let Some(j) = ["FILE_SNAPSHOT", "CREDENTIAL"]
                        .iter()
                        .find_map(|kw| option(kw))
                {
                    scan.hit(
                        code,
                        &COPY_ONLY,
                        j,
                        format!("BACKUP DATABASE WITH {}", code.toks_name(j)),
                    );
                } else if !backup && what == "LOG" {
                    scan.hit(code, &RESTORE_OPTIONS, i, "RESTORE LOG");
                } else if !backup && let Some(j) = with {
                    scan.hit(
                        code,
                        &RESTORE_OPTIONS,
                        j,
                        format!("RESTORE DATABASE WITH {}", code.toks_name(j + 1)),
                    );
                }
            }
            if let Some(j) = find_in_statement(code, i, device) {
                let (verb, dev) = (
                    code.toks_name(i).to_ascii_uppercase(),
                    code.toks_name(j + 1).to_ascii_uppercase(),
                );
                scan.hit(
                    code,
                    &DISK_BACKUP,
                    i,
                    format!(
                        "{verb} {what} {} {dev}",
                        code.toks_name(j).to_ascii_uppercase()
                    ),
                );
            }
        }
        "CERTIFICATE" | "MASTER" => {
            if let Some(j) = find_in_statement(code, i, |j| {
                (code.kw(j, "TO") || code.kw(j, "FROM")) && code.kw(j + 1, "FILE")
            }) {
                scan.hit(
                    code,
                    &KEY_FILES,
                    j,
                    format!(
                        "{} {what} {} FILE",
                        code.toks_name(i).to_ascii_uppercase(),
                        code.toks_name(j).to_ascii_uppercase()
                    ),
                );
            }
        }
        "SERVICE" if code.kws(i + 2, &["MASTER", "KEY"]) => scan.hit(
            code,
            &SERVICE_MASTER_KEY,
            i,
            format!(
                "{} SERVICE MASTER KEY",
                code.toks_name(i).to_ascii_uppercase()
            ),
        ),
        _ => {}
    }
}

/// The last full backup taken without checksums.
pub(crate) fn database(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
    let mut push = database_findings(inst, db, out);
    if let Some(full) = &db.backups.last_full
        && !full.has_checksum
    {
        push(
            &NO_CHECKSUM,
            format!(
                "the last full backup of {} ({}) has no checksums",
                db.name, full.finish_date
            ),
        );
    }
}
