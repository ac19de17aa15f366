//! Catalog rules for MI_RULES.md part B (ids SQLMIG03xx, and the part B statement rules' ids
//! where the catalog shows the same feature): backups, encryption, files, Agent, security and
//! instance features read from the inventory.

use sqlmig_plugin_sdk::inventory::{Database, Instance};
use sqlmig_plugin_sdk::{Finding, FindingLevel};

use crate::catalog_rules::unsigned_assembly_names;
use crate::limits;
use crate::limits::Target;
use crate::rules::{Rule, database_finding, instance_finding};
use crate::text_rules_b::{AUDIT, CONFIGURE, SERVER_TRIGGER, XEVENT_TARGET, in_memory_rule};
use sqlmig_mi_limits::{self as mi_limits, FilesPer};

/// Instance-wide part B rules.
pub fn instance(inst: &Instance, out: &mut Vec<Finding>) {
    let mut push = |rule: &Rule, object: Option<&str>, message: String| {
        out.push(instance_finding(
            rule,
            inst,
            object.map(str::to_string),
            message,
        ))
    };
    let agent = &inst.agent;
    if !agent.alerts.is_empty() {
        push(
            &ALERTS,
            None,
            format!(
                "{} Agent alerts: {}",
                agent.alerts.len(),
                agent.alerts.join(", ")
            ),
        );
    }
    if !agent.proxies.is_empty() {
        push(
            &PROXIES,
            None,
            format!(
                "{} Agent proxies: {}",
                agent.proxies.len(),
                agent.proxies.join(", ")
            ),
        );
    }
    for op in agent
        .operators
        .iter()
        .filter(|o| o.uses_pager || o.uses_netsend)
    {
        let how = match (op.uses_pager, op.uses_netsend) {
            (true, true) => "pager and NET SEND",
            (true, false) => "pager",
            _ => "NET SEND",
        };
        push(
            &NOTIFICATIONS,
            Some(&op.name),
            format!("operator {} is notified by {how}", op.name),
        );
    }
    let other_profiles: Vec<&str> = agent
        .mail_profiles
        .iter()
        .filter(|p| !p.eq_ignore_ascii_case(limits::AGENT_MAIL_PROFILE))
        .map(String::as_str)
        .collect();
    if !other_profiles.is_empty() {
        push(
            &MAIL_PROFILE,
            None,
            format!("Database Mail profiles: {}", other_profiles.join(", ")),
        );
    }
    for audit in inst
        .audits
        .iter()
        .filter(|a| ["FILE", "APPLICATION LOG", "SECURITY LOG"].contains(&a.type_desc.as_str()))
    {
        push(
            &AUDIT,
            Some(&audit.name),
            format!("server audit {} writes to {}", audit.name, audit.type_desc),
        );
    }
    if !inst.credentials.is_empty() {
        push(
            &CREDENTIALS,
            None,
            format!("credentials to recreate: {}", inst.credentials.join(", ")),
        );
    }
    for session in inst
        .xevent_sessions
        .iter()
        .filter(|s| !limits::BUILT_IN_XEVENT_SESSIONS.contains(&s.name.as_str()))
    {
        for target in session
            .targets
            .iter()
            .filter(|t| t.ends_with("event_file") || t.ends_with("etw_classic_sync_target"))
        {
            push(
                &XEVENT_TARGET,
                Some(&session.name),
                format!("event session {} writes to {target}", session.name),
            );
        }
    }
    for (option, default) in limits::REFUSED_OPTION_DEFAULTS {
        if let Some(c) = inst
            .configurations
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(option))
            && c.value_in_use != *default
        {
            push(
                &CONFIGURE,
                Some(&c.name),
                format!(
                    "'{}' is {} here; Managed Instance keeps {default}",
                    c.name, c.value_in_use
                ),
            );
        }
    }
    for e in inst
        .endpoints
        .iter()
        .filter(|e| e.type_desc == "DATABASE_MIRRORING")
    {
        push(
            &HA_ON_SOURCE,
            Some(&e.name),
            format!(
                "database mirroring / availability group endpoint {}",
                e.name
            ),
        );
    }
    if inst.server.as_ref().is_some_and(|s| s.is_hadr_enabled) {
        push(
            &HA_ON_SOURCE,
            None,
            "Always On availability groups are enabled".into(),
        );
    }
    // A trigger whose definition was read is judged by the text rules.
    for t in inst
        .server_triggers
        .iter()
        .filter(|t| t.definition.trim().is_empty())
    {
        push(
            &SERVER_TRIGGER,
            Some(&t.name),
            format!("server-level trigger {}", t.name),
        );
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

/// Per-database part B rules.
pub fn database(inst: &Instance, db: &Database, target: &Target, out: &mut Vec<Finding>) {
    let mut push =
        |rule: &Rule, message: String| out.push(database_finding(rule, inst, db, message));
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
    if db.features.transparent_data_encryption {
        push(&TDE, format!("{} is encrypted with TDE", db.name));
    }
    if db.features.in_memory_oltp {
        push(
            in_memory_rule(target),
            format!("{} has memory-optimized data", db.name),
        );
    }
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
    if db.is_db_chaining_on {
        push(
            &CHAINING,
            format!("{} has cross-database ownership chaining on", db.name),
        );
    }
    let unsigned = unsigned_assembly_names(db);
    if db.is_trustworthy_on && !unsigned.is_empty() {
        push(
            &TRUSTWORTHY,
            format!(
                "{} is TRUSTWORTHY for unsigned assemblies {}",
                db.name,
                unsigned.join(", ")
            ),
        );
    }
}

const NO_CHECKSUM: Rule = Rule {
    id: "SQLMIG0301",
    level: FindingLevel::Warning,
    title: "Backups without CHECKSUM",
    impact: "A backup without checksums restores on Managed Instance, but more slowly and without a check of its pages.",
    remediation: "Take the migration backups WITH CHECKSUM (sqlmig does).",
};

const TDE: Rule = Rule {
    id: "SQLMIG0302",
    level: FindingLevel::Warning,
    title: "Transparent data encryption",
    impact: "A TDE-protected backup restores only once the certificate that protects it is on the managed instance.",
    remediation: "Migrate the TDE certificate first (Add-AzSqlManagedInstanceTransparentDataEncryptionCertificate), or decrypt before the backup.",
};

const MANY_FILES: Rule = Rule {
    id: "SQLMIG0303",
    level: FindingLevel::Warning,
    title: "More database files than the target tier allows",
    impact: "General Purpose holds 280 files per instance (data and log files of all its \
             databases), Next-gen General Purpose 4,096 and Business Critical 32,767 per \
             database; a restore past the limit fails.",
    remediation: "Merge files (DBCC SHRINKFILE … EMPTYFILE), spread the databases over \
                  instances, or choose Next-gen General Purpose or Business Critical.",
};

const ALERTS: Rule = Rule {
    id: "SQLMIG0304",
    level: FindingLevel::Warning,
    title: "SQL Agent alerts",
    impact: "Managed Instance's Agent has no alerts (\"Alerts aren't supported\", job-automation-managed-instance.md, ms.date 2026-07-07); none of them moves or fires there.",
    remediation: "Move the monitoring to Azure Monitor alerts on the managed instance's metrics and logs.",
};

/// The catalog half of high availability: a source set up for mirroring or availability groups
/// is information (Managed Instance has its own; the MI link even uses the source's
/// availability groups), unlike the statements that set it up (SQLMIG0207).
const HA_ON_SOURCE: Rule = Rule {
    id: "SQLMIG0223",
    level: FindingLevel::Info,
    title: "High availability set up on the source",
    impact: "The mirroring endpoint or availability groups do not move: Managed Instance provides high availability itself, and failover groups give disaster recovery; the Managed Instance link uses the source's Always On feature to replicate.",
    remediation: "Plan disaster recovery with failover groups; keep the source's availability groups if you migrate with the Managed Instance link.",
};

const TEMPDB: Rule = Rule {
    id: "SQLMIG0311",
    level: FindingLevel::Warning,
    title: "tempdb larger than General Purpose gives",
    impact: "On both General Purpose tiers tempdb is limited to 24 GB per vCore (96 to 1,920 GB) and 128 files (resource-limits.md); queries needing more fail.",
    remediation: "Size the instance's vCores for tempdb (24 GB each), reduce tempdb use, or choose Business Critical, where tempdb takes the instance's storage.",
};

const PROXIES: Rule = Rule {
    id: "SQLMIG0305",
    level: FindingLevel::Warning,
    title: "SQL Agent proxies",
    impact: "Managed Instance's Agent does not support proxies.",
    remediation: "Run the steps as the Agent's own identity, or move them to Azure Automation.",
};

const NOTIFICATIONS: Rule = Rule {
    id: "SQLMIG0306",
    level: FindingLevel::Warning,
    title: "Operator notified by pager or NET SEND",
    impact: "Managed Instance's Agent notifies operators by e-mail only.",
    remediation: "Give the operator an e-mail address (a pager gateway's address works).",
};

const MAIL_PROFILE: Rule = Rule {
    id: "SQLMIG0307",
    level: FindingLevel::Info,
    title: "Database Mail profiles",
    impact: "Managed Instance's Agent sends mail only through the profile AzureManagedInstance_dbmail_profile.",
    remediation: "Create that profile on the managed instance for Agent notifications; other profiles serve sp_send_dbmail.",
};

const CREDENTIALS: Rule = Rule {
    id: "SQLMIG0308",
    level: FindingLevel::Info,
    title: "Server credentials",
    impact: "Credentials do not move with database backups; on Managed Instance they hold a SAS or use the managed identity.",
    remediation: "Recreate each credential on the managed instance with a SAS or the managed identity.",
};

const CHAINING: Rule = Rule {
    id: "SQLMIG0309",
    level: FindingLevel::Info,
    title: "Cross-database ownership chaining",
    impact: "Works on Managed Instance between databases of one instance; not across instances.",
    remediation: "Keep the chained databases on the same managed instance.",
};

const TRUSTWORTHY: Rule = Rule {
    id: "SQLMIG0310",
    level: FindingLevel::Warning,
    title: "TRUSTWORTHY database with unsigned assemblies",
    impact: "Restored databases are not TRUSTWORTHY on Managed Instance; unsigned assemblies that relied on it fail to load.",
    remediation: "Sign the assemblies (or add them with sp_add_trusted_assembly) instead of relying on TRUSTWORTHY.",
};
