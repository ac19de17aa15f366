//! What a rule is (its id, level, title, impact, remediation and page) and the findings it
//! raises for an instance or a database.

use sqlmig_plugin_sdk::protocol::{Database, Instance};
use sqlmig_plugin_sdk::{Finding, FindingLevel, FindingScope};

pub const DOCS: &str = "https://learn.microsoft.com/azure/azure-sql/managed-instance/transact-sql-tsql-differences-sql-server";

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

/// Collects findings on `inst` into `out`: `push(rule, object, message)`.
pub fn instance_findings<'a>(
    inst: &'a Instance,
    out: &'a mut Vec<Finding>,
) -> impl FnMut(&Rule, Option<&str>, String) + 'a {
    move |rule, object, message| {
        out.push(instance_finding(
            rule,
            inst,
            object.map(str::to_string),
            message,
        ))
    }
}

/// Collects findings on database `db` into `out`: `push(rule, message)`.
pub fn database_findings<'a>(
    inst: &'a Instance,
    db: &'a Database,
    out: &'a mut Vec<Finding>,
) -> impl FnMut(&Rule, String) + 'a {
    move |rule, message| out.push(database_finding(rule, inst, db, message))
}
