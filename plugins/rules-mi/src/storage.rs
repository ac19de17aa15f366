//! Files, sizes and counts: what the tier holds (databases, storage, files, tempdb), log files
//! and FILESTREAM, file specifications in CREATE DATABASE, attaching files.

use crate::backups::SNAPSHOT;
use crate::limits::{self, Target};
use crate::rule::{Rule, database_finding, database_findings, instance_finding};
use crate::scan::{Scan, find_in_statement};
use crate::tsql::Code;
use sqlmig_mi_limits::{self as mi_limits, FilesPer};
use sqlmig_plugin_sdk::protocol::{Database, Instance};
use sqlmig_plugin_sdk::{Finding, FindingLevel};
use sqlparser::tokenizer::Token;

pub(crate) const INSTANCE_SIZE: Rule = Rule {
    id: "MIInstanceSize",
    level: FindingLevel::Warning,
    title: "Data larger than a managed instance's storage",
    impact: "The user databases together exceed the largest instance storage of the target tier.",
    remediation: "Split the databases over several managed instances, shrink and archive data \
                  first, or choose Next-gen General Purpose (32 TB).",
};

/// The largest instance of the target's tier, as a message says it: "a General Purpose instance
/// holds 16384 GB" (Business Critical names the hardware and vCores that reach it).
pub(crate) fn largest_instance(target: &Target) -> (f64, String) {
    let (gb, hardware, vcores) = mi_limits::largest_storage(target.tier);
    let text = match target.tier {
        limits::Tier::BusinessCritical => format!(
            "a Business Critical instance holds {gb:.0} GB at most ({} from {vcores} vCores, in \
             the regions that offer it; standard-series holds {:.0} GB)",
            hardware.label(),
            mi_limits::max_storage_gb(
                target.tier,
                mi_limits::Hardware::StandardSeries,
                *mi_limits::vcores(target.tier, mi_limits::Hardware::StandardSeries)
                    .last()
                    .unwrap_or(&0)
            )
        ),
        tier => format!("a {} instance holds {gb:.0} GB at most", tier.label()),
    };
    (gb, text)
}

/// User data over the instance storage limit.
pub fn instance_size(inst: &Instance, target: &Target, out: &mut Vec<Finding>) {
    let total: f64 = inst
        .databases
        .iter()
        .filter(|d| d.is_user())
        .map(|d| d.size_mb)
        .sum();
    let (most_gb, limit) = largest_instance(target);
    if total / 1024.0 > most_gb {
        out.push(instance_finding(
            &INSTANCE_SIZE,
            inst,
            None,
            format!("user databases take {:.0} GB; {limit}", total / 1024.0),
        ));
    }
}

pub(crate) const DATABASE_SIZE: Rule = Rule {
    id: "MIDatabaseSize",
    level: FindingLevel::Issue,
    title: "Database larger than Managed Instance allows",
    impact: "The database does not fit on a managed instance of the target tier (a database may \
             fill the instance's storage, no more).",
    remediation: "Archive or split the data before the move, or choose a tier that holds it \
                  (Next-gen General Purpose: 32 TB).",
};

/// A database over the per-database limit.
pub fn database_size(inst: &Instance, db: &Database, target: &Target, out: &mut Vec<Finding>) {
    let (most_gb, limit) = largest_instance(target);
    if db.size_mb / 1024.0 > most_gb {
        out.push(database_finding(
            &DATABASE_SIZE,
            inst,
            db,
            format!("{} takes {:.0} GB; {limit}", db.name, db.size_mb / 1024.0),
        ));
    }
}

/// Files over a tier's per-instance limit (General Purpose: 280 for the whole instance, data and
/// log files of every database).
pub fn instance_files(inst: &Instance, target: &Target, out: &mut Vec<Finding>) {
    let (max, per) = mi_limits::max_files(target.tier);
    let files: usize = inst
        .databases
        .iter()
        .filter(|d| d.is_user())
        .map(|d| d.files.len())
        .sum();
    if per == FilesPer::Instance && files > max as usize {
        out.push(instance_finding(
            &MANY_FILES,
            inst,
            None,
            format!(
                "the user databases have {files} files together; a {} instance holds {max}",
                target.tier.label()
            ),
        ));
    }
}

/// tempdb past what a General Purpose tier gives: its size over 24 GB per vCore of the largest
/// instance (1,920 GB), and how many vCores it needs otherwise; its files over 128.
pub fn tempdb(inst: &Instance, target: &Target, out: &mut Vec<Finding>) {
    let Some(db) = inst.databases.iter().find(|d| d.database_id == 2) else {
        return;
    };
    let per_vcore = mi_limits::TEMPDB_GB_PER_VCORE.value;
    let Some(most) = mi_limits::tempdb_max_gb(target.tier, u32::MAX) else {
        return;
    };
    let gb = db.size_mb / 1024.0;
    let smallest = mi_limits::tempdb_max_gb(target.tier, 4).unwrap_or(most);
    let files = db
        .files
        .iter()
        .filter(|f| !f.type_desc.eq_ignore_ascii_case("LOG"))
        .count();
    let most_files = mi_limits::TEMPDB_MAX_FILES.value as usize;
    let message = if gb > most {
        format!(
            "tempdb is {gb:.0} GB; {} gives at most {most:.0} GB",
            target.tier.label()
        )
    } else if gb > smallest {
        format!(
            "tempdb is {gb:.0} GB; {} gives 24 GB per vCore: at least {} vCores",
            target.tier.label(),
            (gb / per_vcore).ceil()
        )
    } else if files > most_files {
        format!("tempdb has {files} data files; Managed Instance allows {most_files}")
    } else {
        return;
    };
    out.push(instance_finding(
        &TEMPDB,
        inst,
        Some("tempdb".into()),
        message,
    ));
}

pub(crate) const MANY_FILES: Rule = Rule {
    id: "SQLMIG0303",
    level: FindingLevel::Warning,
    title: "More database files than the target tier allows",
    impact: "General Purpose holds 280 files per instance (data and log files of all its \
             databases), Next-gen General Purpose 4,096 and Business Critical 32,767 per \
             database; a restore past the limit fails.",
    remediation: "Merge files (DBCC SHRINKFILE … EMPTYFILE), spread the databases over \
                  instances, or choose Next-gen General Purpose or Business Critical.",
};

pub(crate) const TEMPDB: Rule = Rule {
    id: "SQLMIG0311",
    level: FindingLevel::Warning,
    title: "tempdb larger than General Purpose gives",
    impact: "On both General Purpose tiers tempdb is limited to 24 GB per vCore (96 to 1,920 GB) and 128 files (resource-limits.md); queries needing more fail.",
    remediation: "Size the instance's vCores for tempdb (24 GB each), reduce tempdb use, or choose Business Critical, where tempdb takes the instance's storage.",
};

/// Microsoft's id carries the limit: `NumDbExceeds100` (General Purpose, Business Critical) and
/// `NumDbExceeds500` (Next-gen General Purpose, as assessment-rules.md now names it).
pub(crate) const TOO_MANY_100: Rule = Rule {
    id: "NumDbExceeds100",
    level: FindingLevel::Warning,
    title: "More user databases than one managed instance holds",
    impact: "The databases do not fit on one managed instance of this tier.",
    remediation: "Spread the databases over several managed instances, or choose Next-gen \
                  General Purpose (500 databases).",
};

pub(crate) const TOO_MANY_500: Rule = Rule {
    id: "NumDbExceeds500",
    remediation: "Spread the databases over several managed instances.",
    ..TOO_MANY_100
};

pub(crate) fn too_many_databases(inst: &Instance, target: &Target, out: &mut Vec<Finding>) {
    let user = inst.databases.iter().filter(|d| d.is_user()).count();
    let most = mi_limits::max_user_databases(target.tier) as usize;
    if user > most {
        let rule = if most >= 500 {
            &TOO_MANY_500
        } else {
            &TOO_MANY_100
        };
        let msg = format!(
            "{} has {user} user databases; a {} instance holds at most {most}",
            inst.name,
            target.tier.label()
        );
        out.push(instance_finding(rule, inst, None, msg));
    }
}

pub(crate) const LOGS: Rule = Rule {
    id: "MultipleLogFiles",
    level: FindingLevel::Issue,
    title: "More than one log file",
    impact: "A backup of a database with several log files does not restore on Managed Instance.",
    remediation: "Empty and remove the extra log files (DBCC SHRINKFILE … EMPTYFILE, then ALTER \
                  DATABASE … REMOVE FILE) before taking the backup.",
};

pub(crate) fn multiple_log_files(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
    let logs: Vec<&str> = db
        .files
        .iter()
        .filter(|f| f.type_desc.eq_ignore_ascii_case("LOG"))
        .map(|f| f.name.as_str())
        .collect();
    if logs.len() > limits::MAX_LOG_FILES {
        let msg = format!(
            "{} has {} log files: {}",
            db.name,
            logs.len(),
            logs.join(", ")
        );
        out.push(database_finding(&LOGS, inst, db, msg));
    }
}

pub(crate) const FILESTREAM: Rule = Rule {
    id: "FileStream",
    level: FindingLevel::Issue,
    title: "FILESTREAM or FileTable in use",
    impact: "Managed Instance does not support FILESTREAM; the restore fails.",
    remediation: "Move the FILESTREAM data to Azure Blob Storage (keeping references in the \
                  database) and remove the FILESTREAM filegroup before the move.",
};

pub(crate) fn filestream(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
    let files: Vec<&str> = db
        .files
        .iter()
        .filter(|f| f.type_desc.eq_ignore_ascii_case("FILESTREAM"))
        .map(|f| f.name.as_str())
        .collect();
    if !files.is_empty() {
        let msg = format!("{} has FILESTREAM data in {}", db.name, files.join(", "));
        out.push(database_finding(&FILESTREAM, inst, db, msg));
    }
}

pub(crate) const FILE_SPECS: Rule = Rule {
    id: "SQLMIG0201",
    level: FindingLevel::Warning,
    title: "CREATE DATABASE places its files",
    impact: "Managed Instance places database files itself and refuses file specifications (error 41918).",
    remediation: "Drop the ON / LOG ON clauses (and FILENAME) from CREATE DATABASE; add filegroups with ALTER DATABASE … ADD FILE without paths.",
};

/// CREATE DATABASE … LOG ON (file), (file): more than one log file, as the catalog rule says of
/// a server's database (for scripts).
pub(crate) fn declared_log_files(code: &Code, i: usize, name: &str, scan: &mut Scan) {
    let end = code.statement_end(i);
    let Some(j) = (i + 1..end).find(|&j| code.kws(j, &["LOG", "ON"])) else {
        return;
    };
    // The file specifications, a parenthesis each.
    let mut files = 0;
    let mut k = j + 2;
    while k < end && code.is(k, &Token::LParen) {
        files += 1;
        k = code.close_paren(k) + 1;
        if !code.is(k, &Token::Comma) {
            break;
        }
        k += 1;
    }
    if files > crate::limits::MAX_LOG_FILES {
        scan.hit(
            code,
            &LOGS,
            j,
            format!("CREATE DATABASE {name} declares {files} log files"),
        );
    }
}

/// A FILESTREAM filegroup a CREATE or ALTER DATABASE declares (`CONTAINS FILESTREAM`).
pub(crate) fn declared_filestream(code: &Code, i: usize, name: &str, scan: &mut Scan) {
    if let Some(j) = find_in_statement(code, i, |j| code.kws(j, &["CONTAINS", "FILESTREAM"])) {
        scan.hit(
            code,
            &FILESTREAM,
            j,
            format!("{name} declares a FILESTREAM filegroup"),
        );
    }
}

pub(crate) fn create_database(code: &Code, i: usize, scan: &mut Scan) {
    let name = code.toks_name(i + 1);
    if let Some(j) = find_in_statement(code, i, |j| code.kws(j, &["AS", "SNAPSHOT", "OF"])) {
        scan.hit(
            code,
            &SNAPSHOT,
            j,
            format!("database snapshot {name} of {}", code.toks_name(j + 3)),
        );
        return;
    }
    declared_log_files(code, i, name, scan);
    declared_filestream(code, i, name, scan);
    if let Some(j) = find_in_statement(code, i, |j| {
        code.kws(j, &["FOR", "ATTACH"]) || code.kws(j, &["FOR", "ATTACH_REBUILD_LOG"])
    }) {
        scan.hit(
            code,
            &ATTACH,
            j,
            format!("CREATE DATABASE {name} FOR ATTACH"),
        );
    } else if let Some(j) = find_in_statement(code, i, |j| code.kw(j, "FILENAME")) {
        scan.hit(
            code,
            &FILE_SPECS,
            j,
            format!("CREATE DATABASE {name} places its files"),
        );
    }
}

pub(crate) const ATTACH: Rule = Rule {
    id: "SQLMIG0210",
    level: FindingLevel::Issue,
    title: "Attaching or detaching databases",
    impact: "Managed Instance cannot attach or detach database files.",
    remediation: "Move databases by backup TO URL and RESTORE FROM URL.",
};

/// Files over the tier's per-database limit.
pub(crate) fn database_files(
    inst: &Instance,
    db: &Database,
    target: &Target,
    out: &mut Vec<Finding>,
) {
    let mut push = database_findings(inst, db, out);
    let (max, per) = mi_limits::max_files(target.tier);
    if per == FilesPer::Database && db.files.len() > max as usize {
        push(
            &MANY_FILES,
            format!(
                "{} has {} files; {} allows {max} per database",
                db.name,
                db.files.len(),
                target.tier.label()
            ),
        );
    }
}
