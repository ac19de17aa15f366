//! Rules over the instance's catalog data in the inventory: Agent job subsystems, logins, linked
//! servers, trace flags, sizes, CLR assemblies and Service Broker routes.

use sqlmig_plugin_sdk::inventory::{Database, Instance};
use sqlmig_plugin_sdk::{Finding, FindingLevel, FindingScope};

use crate::limits::{self, Target};
use crate::rules::{Rule, database_finding, instance_finding};
use crate::text_rules::NEXT_COLUMN;
use sqlmig_mi_limits as mi_limits;

/// Job step subsystems MI runs differently or not at all, with the rule for each.
pub(crate) const JOB_RULES: &[(&str, Rule)] = &[
    (
        "ANALYSISCOMMAND",
        Rule {
            id: "AnalysisCommandJob",
            level: FindingLevel::Warning,
            title: "Analysis Services command job step",
            impact: "Managed Instance's Agent does not run SSAS command steps.",
            remediation: "Run the step from Azure Data Factory or an Azure Automation runbook against Azure Analysis Services.",
        },
    ),
    (
        "ANALYSISQUERY",
        Rule {
            id: "AnalysisQueryJob",
            level: FindingLevel::Warning,
            title: "Analysis Services query job step",
            impact: "Managed Instance's Agent does not run SSAS query steps.",
            remediation: "Run the query from Azure Data Factory or an Azure Automation runbook.",
        },
    ),
    (
        "POWERSHELL",
        Rule {
            id: "PowerShellJob",
            level: FindingLevel::Warning,
            title: "PowerShell job step",
            impact: "Managed Instance's Agent does not run PowerShell steps.",
            remediation: "Move the script to Azure Automation or an Azure Function, scheduled there.",
        },
    ),
    (
        "MERGE",
        Rule {
            id: "MergeJob",
            level: FindingLevel::Warning,
            title: "Merge replication agent job step",
            impact: "Managed Instance does not support merge replication.",
            remediation: "Replace merge replication (transactional replication or another sync method).",
        },
    ),
    (
        "QUEUEREADER",
        Rule {
            id: "QueueReaderJob",
            level: FindingLevel::Warning,
            title: "Queue reader agent job step",
            impact: "Managed Instance does not support updatable subscriptions (queue reader agent).",
            remediation: "Replace queued updating subscriptions before the move.",
        },
    ),
    (
        "CMDEXEC",
        Rule {
            id: "SQLMIG0101",
            level: FindingLevel::Warning,
            title: "Operating system (CmdExec) job step",
            impact: "Managed Instance's Agent does not run operating system commands.",
            remediation: "Move the command to Azure Automation, Azure Functions or Data Factory.",
        },
    ),
    (
        "SSIS",
        Rule {
            id: "SQLMIG0102",
            level: FindingLevel::Warning,
            title: "SSIS package job step",
            impact: "SSIS job steps run on Managed Instance's Agent only through an Azure-SSIS Integration Runtime in Azure Data Factory, with SSISDB on the managed instance; without one the step fails.",
            remediation: "Provision an Azure-SSIS Integration Runtime, deploy the packages to SSISDB on the managed instance, and point the job steps at them.",
        },
    ),
];

/// One finding per job step whose subsystem MI does not run.
pub fn job_steps(inst: &Instance, out: &mut Vec<Finding>) {
    for job in &inst.jobs {
        for step in &job.steps {
            let subsystem = step.subsystem.to_ascii_uppercase();
            if let Some((_, rule)) = JOB_RULES.iter().find(|(s, _)| *s == subsystem) {
                out.push(instance_finding(
                    rule,
                    inst,
                    Some(format!(
                        "{} / step {} ({})",
                        job.name, step.step_id, step.step_name
                    )),
                    format!(
                        "job \"{}\" step {} runs {}",
                        job.name, step.step_id, step.subsystem
                    ),
                ));
            }
        }
    }
}

pub(crate) const WINDOWS: Rule = Rule {
    id: "WindowsAuthentication",
    level: FindingLevel::Warning,
    title: "Windows logins",
    impact: "Windows logins work on Managed Instance only in the Windows authentication metadata mode, for principals synchronized to Microsoft Entra ID, with Windows Authentication for Microsoft Entra principals (Kerberos) set up; otherwise they cannot sign in.",
    remediation: "Either set the instance's authentication metadata mode to Windows and set up Kerberos for Microsoft Entra principals (the logins keep their names), or create Microsoft Entra or SQL logins and map the users to them.",
};

/// Windows logins and groups, one finding listing them.
pub fn windows_logins(inst: &Instance, out: &mut Vec<Finding>) {
    let windows: Vec<&str> = inst
        .logins
        .iter()
        .filter(|l| l.type_desc.starts_with("WINDOWS"))
        .map(|l| l.name.as_str())
        .collect();
    if !windows.is_empty() {
        out.push(instance_finding(
            &WINDOWS,
            inst,
            None,
            format!("{} Windows logins: {}", windows.len(), windows.join(", ")),
        ));
    }
}

pub(crate) const LINKED: Rule = Rule {
    id: "LinkedServerWithNonSQLProvider",
    level: FindingLevel::Issue,
    title: "Linked server with a provider other than SQL Server's",
    impact: "Managed Instance supports linked servers to SQL Server and Azure SQL only.",
    remediation: "Reach the other source another way (Data Factory, an application service) or move that data to Azure SQL.",
};

/// Linked servers whose OLE DB provider is not SQL Server's.
pub fn linked_servers(inst: &Instance, out: &mut Vec<Finding>) {
    for ls in &inst.linked_servers {
        let sql = limits::SQL_SERVER_PROVIDERS
            .iter()
            .any(|p| p.eq_ignore_ascii_case(&ls.provider));
        if !sql {
            out.push(instance_finding(
                &LINKED,
                inst,
                Some(ls.name.clone()),
                format!(
                    "linked server {} uses provider {} ({})",
                    ls.name, ls.provider, ls.product
                ),
            ));
        }
    }
}

const TRACE: Rule = Rule {
    id: "TraceFlags",
    level: FindingLevel::Warning,
    title: "Global trace flags Managed Instance does not support",
    impact: "These trace flags cannot be set on Managed Instance; behaviour that depends on them changes.",
    remediation: "Check what each flag was for and whether Managed Instance's defaults cover it.",
};

/// Global trace flags MI does not let you set.
pub fn trace_flags(inst: &Instance, out: &mut Vec<Finding>) {
    let unsupported: Vec<String> = inst
        .trace_flags
        .iter()
        .filter(|f| !limits::SUPPORTED_TRACE_FLAGS.contains(f))
        .map(|f| f.to_string())
        .collect();
    if !unsupported.is_empty() {
        out.push(instance_finding(
            &TRACE,
            inst,
            None,
            format!("trace flags {} are on", unsupported.join(", ")),
        ));
    }
}

const INSTANCE_SIZE: Rule = Rule {
    id: "MIInstanceSize",
    level: FindingLevel::Warning,
    title: "Data larger than a managed instance's storage",
    impact: "The user databases together exceed the largest instance storage of the target tier.",
    remediation: "Split the databases over several managed instances, shrink and archive data \
                  first, or choose Next-gen General Purpose (32 TB).",
};

/// The largest instance of the target's tier, as a message says it: "a General Purpose instance
/// holds 16384 GB" (Business Critical names the hardware and vCores that reach it).
fn largest_instance(target: &Target) -> (f64, String) {
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

const DATABASE_SIZE: Rule = Rule {
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

const CLR: Rule = Rule {
    id: "ClrStrictSecurity",
    level: FindingLevel::Warning,
    title: "Unsigned CLR assemblies",
    impact: "Managed Instance enforces CLR strict security: unsigned SAFE and EXTERNAL_ACCESS assemblies are treated as UNSAFE and refused unless trusted.",
    remediation: "Sign the assemblies with a certificate or asymmetric key, or add them with sp_add_trusted_assembly.",
};

/// The names of a database's assemblies without a strong name.
pub(crate) fn unsigned_assembly_names(db: &Database) -> Vec<&str> {
    db.assemblies
        .iter()
        .filter(|a| !a.is_signed)
        .map(|a| a.name.as_str())
        .collect()
}

/// User assemblies without a strong name.
pub fn unsigned_assemblies(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
    let unsigned = unsigned_assembly_names(db);
    if !unsigned.is_empty() {
        out.push(database_finding(
            &CLR,
            inst,
            db,
            format!(
                "{} has unsigned assemblies: {}",
                db.name,
                unsigned.join(", ")
            ),
        ));
    }
}

/// T-SQL differences, Service broker: "`CREATE ROUTE`: You can't use `CREATE ROUTE` with
/// `ADDRESS` other than `LOCAL` or DNS name of another SQL Managed Instance. Port is always
/// 4022."
pub(crate) const BROKER: Rule = Rule {
    id: "ServiceBrokerWithNonLocalAddress",
    level: FindingLevel::Issue,
    title: "Service Broker route Managed Instance cannot use",
    impact: "A route on Managed Instance goes to LOCAL or to another managed instance on port 4022; this one does not, and its messages stay queued.",
    remediation: "Point the route at the other managed instance's DNS name on port 4022 (TCP://name.zone.database.windows.net:4022), or replace it with another messaging service.",
};

/// sql-server-service-broker.md (ms.date 2025-09-23): "message exchange between SQL Server and
/// Azure SQL Managed Instance is currently in public preview".
pub(crate) const BROKER_TO_SQL_SERVER: Rule = Rule {
    level: FindingLevel::Warning,
    title: "Service Broker route to a SQL Server",
    impact: "Service Broker between Managed Instance and SQL Server is in public preview; routes to another managed instance are supported.",
    remediation: "Check the preview's terms before relying on it (port 4022, transport security only), or move the other end to a managed instance.",
    ..BROKER
};

/// What a route's ADDRESS means on Managed Instance: nothing to say for LOCAL, TRANSPORT or
/// another managed instance on port 4022; a preview for a SQL Server on 4022; a route that does
/// not work otherwise.
pub(crate) fn route_rule(address: &str) -> Option<&'static Rule> {
    if ["LOCAL", "TRANSPORT"]
        .iter()
        .any(|l| l.eq_ignore_ascii_case(address))
    {
        return None;
    }
    let rest = address
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("TCP://"))
        .map(|_| &address[6..]);
    let Some((host, port)) = rest.and_then(|r| r.trim_end_matches('/').rsplit_once(':')) else {
        return Some(&BROKER);
    };
    if port != "4022" {
        return Some(&BROKER);
    }
    if host.to_ascii_lowercase().ends_with(".database.windows.net") {
        None
    } else {
        Some(&BROKER_TO_SQL_SERVER)
    }
}

/// Routes Managed Instance cannot use, or only in preview.
pub fn broker_routes(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
    for r in &db.service_broker_routes {
        if let Some(rule) = route_rule(&r.address) {
            let mut f = database_finding(
                rule,
                inst,
                db,
                format!("route {} sends to {}", r.name, r.address),
            );
            f.object = Some(r.name.clone());
            out.push(f);
        }
    }
}

/// Tables named NEXT and columns named NEXT.
pub fn next_named(inst: &Instance, db: &Database, out: &mut Vec<Finding>) {
    for t in &db.tables {
        let table = format!("{}.{}", t.schema, t.name);
        let mut named = Vec::new();
        if t.name.eq_ignore_ascii_case("NEXT") {
            named.push(format!("table {table}"));
        }
        named.extend(
            t.columns
                .iter()
                .filter(|c| c.eq_ignore_ascii_case("NEXT"))
                .map(|c| format!("column {table}.{c}")),
        );
        for what in named {
            let mut f = database_finding(&NEXT_COLUMN, inst, db, format!("{what} is named NEXT"));
            f.scope = FindingScope::Object;
            f.object = Some(table.clone());
            out.push(f);
        }
    }
}
