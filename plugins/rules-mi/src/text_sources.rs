//! Where the text rules find T-SQL in an inventory (module definitions, T-SQL job steps, server
//! triggers, script files), and how their hits become findings.

use sqlmig_plugin_sdk::protocol::{Database, Instance};
use sqlmig_plugin_sdk::{Finding, FindingLevel, FindingScope};

use crate::connectivity::{DTC_HETEROGENEOUS, DTC_HOMOGENEOUS, is_sql_provider};
use crate::guards;
use crate::limits::Target;
use crate::rule::{Rule, database_finding, instance_finding};
use crate::scan::Hit;
use crate::server_config::{IN_MEMORY, in_memory_rule};
use crate::text_scan;

/// Where one text lives.
enum Origin<'a> {
    Module {
        db: &'a Database,
        object: String,
        file: Option<&'a str>,
    },
    JobStep {
        object: String,
    },
    ServerTrigger {
        name: &'a str,
    },
}

/// Runs the text rules over every T-SQL text of `inst`.
pub fn run(inst: &Instance, target: &Target, out: &mut Vec<Finding>) {
    let mut scanned: Vec<(Origin, Vec<Hit>)> = Vec::new();
    let mut linked: Vec<(String, bool)> = inst
        .linked_servers
        .iter()
        .map(|l| {
            (
                l.name.clone(),
                is_sql_provider(&l.provider) || l.product.eq_ignore_ascii_case("SQL Server"),
            )
        })
        .collect();
    for (origin, text) in texts(inst) {
        if !text_scan::worth_scanning(text) {
            continue;
        }
        match guards::parse(text) {
            Ok(code) => {
                let scan = text_scan::scan(&code);
                linked.extend(
                    scan.linked_servers
                        .into_iter()
                        .map(|l| (l.name, l.is_sql_server)),
                );
                if !scan.hits.is_empty() {
                    scanned.push((origin, scan.hits));
                }
            }
            Err(e) => {
                let detail = format!(
                    "could not read the T-SQL ({}); the text rules did not run on it",
                    e.message
                );
                let hit = Hit {
                    rule: &UNREADABLE,
                    line: e.line,
                    detail,
                    remotes: Vec::new(),
                };
                scanned.push((origin, vec![hit]));
            }
        }
    }
    for (origin, hits) in scanned {
        for mut hit in hits {
            if hit.rule.id == DTC_HOMOGENEOUS.id {
                classify_distributed_transaction(&mut hit, &linked);
            } else if hit.rule.id == IN_MEMORY.id {
                hit.rule = in_memory_rule(target);
            }
            out.push(finding(inst, &origin, hit));
        }
    }
}

/// Every text of the instance with where it comes from.
fn texts(inst: &Instance) -> impl Iterator<Item = (Origin<'_>, &str)> {
    let modules = inst
        .databases
        .iter()
        .filter(|d| d.is_user())
        .flat_map(|db| {
            db.modules.iter().filter_map(move |m| {
                let object = if m.schema.is_empty() {
                    m.name.clone()
                } else {
                    format!("{}.{}", m.schema, m.name)
                };
                let origin = Origin::Module {
                    db,
                    object,
                    file: m.file.as_deref(),
                };
                m.definition.as_deref().map(|text| (origin, text))
            })
        });
    let steps = inst.jobs.iter().flat_map(|job| {
        job.steps
            .iter()
            .filter(|s| s.subsystem.eq_ignore_ascii_case("TSQL"))
            .map(move |s| {
                let object = format!("{} / step {} ({})", job.name, s.step_id, s.step_name);
                (Origin::JobStep { object }, s.command.as_str())
            })
    });
    let triggers = inst.server_triggers.iter().map(|t| {
        (
            Origin::ServerTrigger { name: &t.name },
            t.definition.as_str(),
        )
    });
    modules.chain(steps).chain(triggers)
}

/// Heterogeneous when any remote the transaction reaches is a linked server to another engine.
fn classify_distributed_transaction(hit: &mut Hit, linked: &[(String, bool)]) {
    let foreign: Vec<&str> = hit
        .remotes
        .iter()
        .filter(|r| {
            linked
                .iter()
                .any(|(name, sql)| name.eq_ignore_ascii_case(r) && !sql)
        })
        .map(String::as_str)
        .collect();
    hit.detail = if !foreign.is_empty() {
        hit.rule = &DTC_HETEROGENEOUS;
        format!(
            "{} reaching {} (not SQL Server)",
            hit.detail,
            foreign.join(", ")
        )
    } else if hit.remotes.is_empty() {
        format!(
            "{} (its remote servers are not named in the same batch)",
            hit.detail
        )
    } else {
        format!("{} reaching {}", hit.detail, hit.remotes.join(", "))
    };
}

fn finding(inst: &Instance, origin: &Origin, hit: Hit) -> Finding {
    let mut f = match origin {
        Origin::Module { db, object, file } => {
            match file {
                // A script file: the finding points at the file and line.
                Some(file) => {
                    let mut f = database_finding(hit.rule, inst, db, hit.detail);
                    f.file = Some(file.to_string());
                    f
                }
                None => {
                    let mut f =
                        database_finding(hit.rule, inst, db, format!("{} in {object}", hit.detail));
                    f.scope = FindingScope::Object;
                    f.object = Some(object.clone());
                    f
                }
            }
        }
        Origin::JobStep { object } => {
            let message = format!(
                "job {object} uses {} ({}: {})",
                hit.detail, hit.rule.id, hit.rule.title
            );
            instance_finding(&TRANSACT_SQL_JOB, inst, Some(object.clone()), message)
        }
        Origin::ServerTrigger { name } => {
            let message = if hit.detail.contains(name) {
                hit.detail
            } else {
                format!("{} in server trigger {name}", hit.detail)
            };
            instance_finding(hit.rule, inst, Some(name.to_string()), message)
        }
    };
    f.line = Some(hit.line);
    f
}

const TRANSACT_SQL_JOB: Rule = Rule {
    id: "TransactSqlJob",
    level: FindingLevel::Warning,
    title: "T-SQL job step using what Managed Instance does not support",
    impact: "The job step fails on Managed Instance.",
    remediation: "Rewrite the step's command (see the rule named in the message).",
};

const UNREADABLE: Rule = Rule {
    id: "SQLMIG0001",
    level: FindingLevel::Info,
    title: "T-SQL the assessment could not read",
    impact: "The text rules could not look at this text, so it may use features that were not reported.",
    remediation: "Check the text by hand, or fix it (an unterminated string or comment) and assess again.",
};
