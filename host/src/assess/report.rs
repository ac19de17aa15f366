//! The assessment as a document (`sqlmig.assessment/1`, `--output json`), as CSV (one row per
//! finding, for Excel or Power BI) and as the console summary.

use serde::Serialize;
use sqlmig_protocol::Inventory;

use super::assessment_api::NotRun;
use super::engine::{Outcome, PackFailure};
use super::findings::{Finding, Level};
use super::readiness::{InstanceReadiness, Readiness, judge};

/// The `schema` value of the assessment document.
pub const SCHEMA: &str = "sqlmig.assessment/1";

/// Counts for the summary line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub instances: usize,
    pub databases: usize,
    pub blocked_databases: usize,
    pub databases_with_warnings: usize,
    pub ready_databases: usize,
    pub issues: usize,
    pub warnings: usize,
    pub infos: usize,
}

/// An assessment of one inventory.
#[derive(Clone, Debug, Serialize)]
pub struct Assessment {
    pub schema: String,
    pub generated_at: String,
    /// The inventory assessed (its file).
    pub inventory: String,
    /// The rule packs that ran (`rules-mi 0.1.0`).
    pub rule_packs: Vec<String>,
    /// The target the packs assessed for (`mi-gp-nextgen`), and its update policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_policy: Option<String>,
    pub summary: Summary,
    pub readiness: Vec<InstanceReadiness>,
    pub findings: Vec<Finding>,
    /// Rule packs that failed on an instance (their findings for it are missing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<PackFailure>,
    /// Rules that did not run, why, and where.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_run: Vec<NotRun>,
}

impl Assessment {
    /// Judges `outcome` over `inventory`.
    pub fn new(
        inventory: &Inventory,
        source: &str,
        rule_packs: Vec<String>,
        outcome: Outcome,
    ) -> Assessment {
        let readiness = judge(inventory, &outcome.findings);
        let dbs = || readiness.iter().flat_map(|i| &i.databases);
        let level = |l: Level| outcome.findings.iter().filter(|f| f.level == l).count();
        let summary = Summary {
            instances: readiness.len(),
            databases: dbs().count(),
            blocked_databases: dbs().filter(|d| d.readiness == Readiness::Blocked).count(),
            databases_with_warnings: dbs()
                .filter(|d| d.readiness == Readiness::ReadyWithWarnings)
                .count(),
            ready_databases: dbs().filter(|d| d.readiness == Readiness::Ready).count(),
            issues: level(Level::Issue),
            warnings: level(Level::Warning),
            infos: level(Level::Info),
        };
        Assessment {
            schema: SCHEMA.into(),
            generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            inventory: source.to_string(),
            rule_packs,
            target: None,
            update_policy: None,
            summary,
            readiness,
            findings: outcome.findings,
            failures: outcome.failures,
            not_run: outcome.not_run,
        }
    }

    /// Whether anything is blocked (the command's exit code 1).
    pub fn blocked(&self) -> bool {
        self.readiness
            .iter()
            .any(|i| i.readiness == Readiness::Blocked)
    }

    /// One row per finding, RFC 4180 quoting (the `csv` crate's), a header first.
    pub fn to_csv(&self) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        w.write_record([
            "rule_id",
            "level",
            "scope",
            "instance",
            "database",
            "object",
            "file",
            "line",
            "title",
            "message",
            "impact",
            "remediation",
            "help_url",
            "rule_pack",
        ])
        .expect("writes to memory");
        for f in &self.findings {
            let level = serde_json::to_value(f.level).expect("serializes");
            let scope = serde_json::to_value(f.scope).expect("serializes");
            let cells = [
                f.rule_id.as_str(),
                level.as_str().unwrap_or_default(),
                scope.as_str().unwrap_or_default(),
                &f.instance,
                f.database.as_deref().unwrap_or(""),
                f.object.as_deref().unwrap_or(""),
                f.file.as_deref().unwrap_or(""),
                &f.line.map(|l| l.to_string()).unwrap_or_default(),
                &f.title,
                &f.message,
                &f.impact,
                &f.remediation,
                f.help_url.as_deref().unwrap_or(""),
                &f.rule_pack,
            ];
            w.write_record(cells.iter().map(|c| defused(c)))
                .expect("writes to memory");
        }
        String::from_utf8(w.into_inner().expect("writes to memory")).expect("UTF-8 in, UTF-8 out")
    }
}

/// A cell a spreadsheet will not run: a leading `=`, `+`, `-`, `@`, tab or carriage return
/// (OWASP's list for CSV injection) is prefixed with `'`. (Quoting is the `csv` crate's; no
/// CSV library defuses formulas.)
fn defused(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::defused;

    /// One row as `to_csv` writes it.
    fn csv_cell(s: &str) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        w.write_record([defused(s)]).unwrap();
        let row = String::from_utf8(w.into_inner().unwrap()).unwrap();
        row.strip_suffix("\r\n").unwrap().to_string()
    }

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a, b"), "\"a, b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=cmd()"), "'=cmd()");
        assert_eq!(csv_cell("\t=cmd()"), "'\t=cmd()");
        assert_eq!(csv_cell("\r=cmd()"), "\"'\r=cmd()\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }
}
