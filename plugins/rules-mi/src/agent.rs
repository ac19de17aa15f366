//! SQL Server Agent (job subsystems, multi-server jobs, alerts, operators, proxies) and mail
//! (Database Mail profiles, SQL Mail, attachments).

use crate::limits;
use crate::rule::{Rule, instance_finding, instance_findings};
use sqlmig_plugin_sdk::protocol::Instance;
use sqlmig_plugin_sdk::{Finding, FindingLevel};

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

pub(crate) const ALERTS: Rule = Rule {
    id: "SQLMIG0304",
    level: FindingLevel::Warning,
    title: "SQL Agent alerts",
    impact: "Managed Instance's Agent has no alerts (\"Alerts aren't supported\", job-automation-managed-instance.md, ms.date 2026-07-07); none of them moves or fires there.",
    remediation: "Move the monitoring to Azure Monitor alerts on the managed instance's metrics and logs.",
};

pub(crate) const PROXIES: Rule = Rule {
    id: "SQLMIG0305",
    level: FindingLevel::Warning,
    title: "SQL Agent proxies",
    impact: "Managed Instance's Agent does not support proxies.",
    remediation: "Run the steps as the Agent's own identity, or move them to Azure Automation.",
};

pub(crate) const NOTIFICATIONS: Rule = Rule {
    id: "SQLMIG0306",
    level: FindingLevel::Warning,
    title: "Operator notified by pager or NET SEND",
    impact: "Managed Instance's Agent notifies operators by e-mail only.",
    remediation: "Give the operator an e-mail address (a pager gateway's address works).",
};

pub(crate) const MAIL_PROFILE: Rule = Rule {
    id: "SQLMIG0307",
    level: FindingLevel::Info,
    title: "Database Mail profiles",
    impact: "Managed Instance's Agent sends mail only through the profile AzureManagedInstance_dbmail_profile.",
    remediation: "Create that profile on the managed instance for Agent notifications; other profiles serve sp_send_dbmail.",
};

pub(crate) const MULTI_SERVER_JOBS: Rule = Rule {
    id: "SQLMIG0233",
    level: FindingLevel::Warning,
    title: "Multi-server (MSX/TSX) jobs",
    impact: "\"The Multi Server Administration feature for master/target (MSX/TSX) jobs aren't supported\" on Managed Instance (T-SQL differences, SQL Server Agent).",
    remediation: "Recreate the jobs on each managed instance (they can be scripted), or schedule them with Elastic Jobs or Azure Automation.",
};

pub(crate) const SQL_MAIL: Rule = Rule {
    id: "SqlMail",
    level: FindingLevel::Warning,
    title: "SQL Mail",
    impact: "SQL Mail (xp_sendmail and friends) is removed; Managed Instance has Database Mail only.",
    remediation: "Send mail with msdb.dbo.sp_send_dbmail through a Database Mail profile.",
};

pub(crate) const MAIL_ATTACHMENTS: Rule = Rule {
    id: "SQLMIG0214",
    level: FindingLevel::Warning,
    title: "Database Mail with file attachments",
    impact: "Managed Instance has no file system to attach files from.",
    remediation: "Attach query results (@attach_query_result_as_file) or send a link to blob storage instead.",
};

/// Agent alerts, proxies, operators notified by pager or NET SEND, Database Mail profiles.
pub(crate) fn instance(inst: &Instance, out: &mut Vec<Finding>) {
    let mut push = instance_findings(inst, out);
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
}
