//! The rules. Each looks at one kind of evidence and says what it found, what it means on MI and
//! what to do.

use sqlmig_mi_limits as mi_limits;
use sqlmig_plugin_sdk::{Finding, FindingLevel, FindingScope};

use crate::limits::Target;
use crate::{catalog_rules, catalog_rules_b, limits, text_sources};
use sqlmig_plugin_sdk::inventory::{Database, Instance, Inventory};

pub const DOCS: &str = "https://learn.microsoft.com/azure/azure-sql/managed-instance/transact-sql-tsql-differences-sql-server";

/// Every rule over every instance and database for the `target` the databases move to.
pub fn run_all(inv: &Inventory, target: &Target) -> Vec<Finding> {
    let mut out = Vec::new();
    for inst in &inv.instances {
        too_many_databases(inst, target, &mut out);
        catalog_rules::job_steps(inst, &mut out);
        catalog_rules::windows_logins(inst, &mut out);
        catalog_rules::linked_servers(inst, &mut out);
        catalog_rules::trace_flags(inst, &mut out);
        catalog_rules::instance_size(inst, target, &mut out);
        catalog_rules_b::instance_files(inst, target, &mut out);
        for db in inst.databases.iter().filter(|d| d.is_user()) {
            compat_level_lower_than_100(inst, db, &mut out);
            multiple_log_files(inst, db, &mut out);
            filestream(inst, db, &mut out);
            catalog_rules::database_size(inst, db, target, &mut out);
            catalog_rules::unsigned_assemblies(inst, db, &mut out);
            catalog_rules::broker_routes(inst, db, &mut out);
            catalog_rules::next_named(inst, db, &mut out);
            catalog_rules_b::database(inst, db, target, &mut out);
        }
        catalog_rules_b::instance(inst, &mut out);
        catalog_rules_b::tempdb(inst, target, &mut out);
        text_sources::run(inst, target, &mut out);
        for db in inst.databases.iter().filter(|d| d.is_user()) {
            recommend_compatibility_level(inst, db, target, &mut out);
        }
    }
    out
}

const COMPAT_RECOMMENDATION: Rule = Rule {
    id: "SQLMIG0401",
    level: FindingLevel::Info,
    title: "Compatibility level to run at on Managed Instance",
    impact: "A restored database keeps its level (raised to 100 if lower); the highest level the code allows gets the newest optimizer and language features.",
    remediation: "Restore, test the application at the recommended level (Query Store helps catch plan regressions), then ALTER DATABASE … SET COMPATIBILITY_LEVEL.",
};

/// The highest level the target's update policy runs that nothing found in the database's code
/// rules out; run after every other rule so their findings pin it.
fn recommend_compatibility_level(
    inst: &Instance,
    db: &Database,
    target: &Target,
    out: &mut Vec<Finding>,
) {
    let here =
        |f: &&Finding| f.instance == inst.name && f.database.as_deref() == Some(db.name.as_str());
    let compute = out
        .iter()
        .filter(here)
        .any(|f| f.rule_id == "ComputeClause");
    let (level, why) = if compute {
        (
            limits::COMPUTE_REMOVED_AT - 10,
            format!("COMPUTE is gone from level {}", limits::COMPUTE_REMOVED_AT),
        )
    } else {
        (
            mi_limits::compatibility_levels(target.policy).1,
            format!(
                "the highest Managed Instance runs under the {}",
                target.policy.label()
            ),
        )
    };
    let now = match db.compatibility_level {
        0 => "not known".to_string(),
        n => format!("now {n}"),
    };
    let msg = format!(
        "run {} at compatibility level {level} ({why}; {now})",
        db.name
    );
    out.push(database_finding(&COMPAT_RECOMMENDATION, inst, db, msg));
}

/// A rule's fixed texts.
pub struct Rule {
    pub id: &'static str,
    pub level: FindingLevel,
    pub title: &'static str,
    pub impact: &'static str,
    pub remediation: &'static str,
}

/// A finding of `rule` on database `db`.
pub fn database_finding(rule: &Rule, inst: &Instance, db: &Database, message: String) -> Finding {
    let mut f = instance_finding(rule, inst, None, message);
    f.scope = FindingScope::Database;
    f.database = Some(db.name.clone());
    f
}

/// A finding of `rule` on the instance itself, optionally naming an object (job step, linked
/// server).
pub fn instance_finding(
    rule: &Rule,
    inst: &Instance,
    object: Option<String>,
    message: String,
) -> Finding {
    Finding {
        rule_id: rule.id.into(),
        level: rule.level,
        scope: FindingScope::Instance,
        instance: inst.name.clone(),
        database: None,
        object,
        file: None,
        line: None,
        title: rule.title.into(),
        message,
        impact: rule.impact.into(),
        remediation: rule.remediation.into(),
        help_url: Some(DOCS.into()),
    }
}

/// Microsoft's id carries the limit: `NumDbExceeds100` (General Purpose, Business Critical) and
/// `NumDbExceeds500` (Next-gen General Purpose, as assessment-rules.md now names it).
const TOO_MANY_100: Rule = Rule {
    id: "NumDbExceeds100",
    level: FindingLevel::Warning,
    title: "More user databases than one managed instance holds",
    impact: "The databases do not fit on one managed instance of this tier.",
    remediation: "Spread the databases over several managed instances, or choose Next-gen \
                  General Purpose (500 databases).",
};

const TOO_MANY_500: Rule = Rule {
    id: "NumDbExceeds500",
    remediation: "Spread the databases over several managed instances.",
    ..TOO_MANY_100
};

fn too_many_databases(inst: &Instance, target: &Target, out: &mut Vec<Finding>) {
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

const COMPAT: Rule = Rule {
    id: "DbCompatLevelLowerThan100",
    level: FindingLevel::Warning,
    title: "Compatibility level below 100",
    impact: "Managed Instance raises the compatibility level to 100 on restore; code relying on \
             older behaviour may change.",
    remediation: "Test the application at compatibility level 100 or above before the move.",
};

fn compat_level_lower_than_100(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
    // 0: not known (scripts), nothing to judge.
    let lowest = mi_limits::compatibility_levels(mi_limits::UpdatePolicy::DEFAULT).0;
    if db.compatibility_level != 0 && db.compatibility_level < lowest {
        let msg = format!(
            "{} runs at compatibility level {}",
            db.name, db.compatibility_level
        );
        out.push(database_finding(&COMPAT, inst, db, msg));
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

fn multiple_log_files(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
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

fn filestream(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
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
