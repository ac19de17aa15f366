//! Which planned databases the assessment lets through: `migrate plan` refuses a database an
//! issue blocks on the chosen target unless the DBA accepts its rule (`--accept`), shows the
//! warnings, and records both in the plan.

use std::path::Path;

use serde::Deserialize;
use sqlmig_protocol::migration::{PlanAssessment, PlanFinding};

use sqlmig_protocol::Inventory;

use crate::assess::engine::PackFailure;
use crate::assess::packs::{Probes, evaluate, pack_options};
use crate::assess::readiness::InstanceReadiness;
use crate::assess::{Finding, Level};
use crate::failure::Failure;
use crate::session::Session;
use crate::sizing::limits::{Tier, UpdatePolicy};

/// What the plan is assessed against, and by.
pub struct GateOptions<'a> {
    /// An assessment file (`sqlmig assess -o json`); the rule packs run now when absent.
    pub file: Option<&'a Path>,
    pub tier: Tier,
    pub policy: UpdatePolicy,
    /// Rules the operator has dealt with (`--accept`).
    pub accept: &'a [String],
}

/// An assessment that let the plan through: what the plan records, and what the operator
/// should see.
pub struct Passed {
    pub record: PlanAssessment,
    /// The target as the operator reads it: "General Purpose (mi-gp)".
    pub target: String,
    pub warnings: Vec<Finding>,
    /// How many findings an `--accept` let through.
    pub accepted: usize,
}

/// Assesses `databases` of `instance` for the plan: by the file's findings, or by running the
/// rule packs over the planned instance now. Refuses (bad input, naming each finding and its
/// fix) when an issue no `--accept` names blocks a database, or a pack could not assess the
/// instance.
pub async fn assess_plan(
    session: &Session,
    inventory: &Inventory,
    instance: &str,
    databases: &[String],
    o: &GateOptions<'_>,
) -> Result<Passed, Failure> {
    let (by, findings) = match o.file {
        Some(path) => {
            let a = AssessmentFile::read(path, o.tier.id(), instance, databases)
                .map_err(Failure::bad_input)?;
            (vec![path.display().to_string()], a.findings)
        }
        None => {
            // Only the planned instance: an estate's other instances are not this plan's.
            let mut planned = inventory.clone();
            planned
                .instances
                .retain(|i| i.name.eq_ignore_ascii_case(instance));
            let evaluated = evaluate(
                session,
                &[],
                &pack_options(o.tier, o.policy),
                Probes::None,
                &planned,
                4,
            )
            .await?;
            if let Some(f) = evaluated
                .outcome
                .failures
                .iter()
                .find(|f| f.instance.eq_ignore_ascii_case(instance))
            {
                return Err(Failure::bad_input(format!(
                    "rule pack {} could not assess {instance}: {}",
                    f.rule_pack, f.error
                ))
                .hint("nothing was written: fix or remove the rule pack, or plan from an assessment file (--assessment)"));
            }
            (evaluated.labels, evaluated.outcome.findings)
        }
    };
    let target = format!("{} ({})", o.tier.label(), o.tier.id());
    let verdict = judge(&findings, instance, databases, o.accept).map_err(Failure::bad_input)?;
    if !verdict.blocking.is_empty() {
        return Err(Failure::bad_input(verdict.refusal(&target)).hint(
            "nothing was written: fix each and plan again, leave a database out with --databases, or --accept RULE[,…] what you have dealt with another way (the plan records it)",
        ));
    }
    Ok(Passed {
        record: verdict.record(by, o.tier.id(), o.accept),
        target,
        accepted: verdict.accepted.len(),
        warnings: verdict.warnings,
    })
}

/// What an assessment file (`sqlmig assess -o json`) holds that a plan needs.
#[derive(Debug, Deserialize)]
pub struct AssessmentFile {
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub readiness: Vec<InstanceReadiness>,
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Rule packs that failed on an instance: its findings are missing.
    #[serde(default)]
    pub failures: Vec<PackFailure>,
}

/// Why an assessment file cannot stand for the plan's.
#[derive(Debug, thiserror::Error)]
pub enum AssessmentRefused {
    #[error("cannot read the assessment {}: {error}", path.display())]
    Unreadable {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    #[error("{} is not an assessment (sqlmig assess -o json --out FILE): {error}", path.display())]
    NotAnAssessment {
        path: std::path::PathBuf,
        error: serde_json::Error,
    },
    #[error(
        "{} was assessed for {}, the plan is for {target}: assess again with --target {target}, \
         or plan with --target-tier {}",
        path.display(),
        assessed.as_deref().unwrap_or("an unnamed target"),
        assessed.as_deref().unwrap_or("…")
    )]
    OtherTarget {
        path: std::path::PathBuf,
        assessed: Option<String>,
        target: String,
    },
    #[error(
        "{}: a rule pack failed on {instance}, so its findings are incomplete: assess again",
        path.display()
    )]
    PackFailed {
        path: std::path::PathBuf,
        instance: String,
    },
    #[error(
        "{} has no assessment of {instance}: {}; assess the inventory the plan is made from",
        path.display(),
        missing.join(", ")
    )]
    NotAssessed {
        path: std::path::PathBuf,
        instance: String,
        missing: Vec<String>,
    },
}

impl AssessmentFile {
    /// Reads `path`, checking it assessed `instance`'s `databases` for `target` and completely.
    pub fn read(
        path: &Path,
        target: &str,
        instance: &str,
        databases: &[String],
    ) -> Result<AssessmentFile, AssessmentRefused> {
        let path_buf = || path.to_path_buf();
        let text =
            std::fs::read_to_string(path).map_err(|error| AssessmentRefused::Unreadable {
                path: path_buf(),
                error,
            })?;
        let a: AssessmentFile =
            serde_json::from_str(&text).map_err(|error| AssessmentRefused::NotAnAssessment {
                path: path_buf(),
                error,
            })?;
        if a.target.as_deref() != Some(target) {
            return Err(AssessmentRefused::OtherTarget {
                path: path_buf(),
                assessed: a.target.clone(),
                target: target.to_string(),
            });
        }
        if a.failures
            .iter()
            .any(|f| f.instance.eq_ignore_ascii_case(instance))
        {
            return Err(AssessmentRefused::PackFailed {
                path: path_buf(),
                instance: instance.to_string(),
            });
        }
        let assessed = a
            .readiness
            .iter()
            .find(|i| i.name.eq_ignore_ascii_case(instance));
        let missing: Vec<String> = databases
            .iter()
            .filter(|d| {
                !assessed
                    .is_some_and(|i| i.databases.iter().any(|x| x.name.eq_ignore_ascii_case(d)))
            })
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(AssessmentRefused::NotAssessed {
                path: path_buf(),
                instance: instance.to_string(),
                missing,
            });
        }
        Ok(a)
    }
}

/// Rules named with `--accept` that raised nothing on the planned databases (a typo would
/// otherwise be recorded as a decision).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "--accept {}: no issue or warning of {} for the planned databases (rule ids are in `sqlmig \
     assess` output)",
    .0.join(","),
    if .0.len() == 1 { "that rule" } else { "those rules" }
)]
pub struct AcceptedNothing(pub Vec<String>);

/// The findings that concern a plan, sorted by what they do to it.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Issues no `--accept` names: the plan is refused.
    pub blocking: Vec<Finding>,
    /// Warnings no `--accept` names: shown.
    pub warnings: Vec<Finding>,
    /// Issues and warnings whose rule was accepted.
    pub accepted: Vec<Finding>,
}

/// Sorts the findings of `instance` that concern `databases` (theirs, their objects', and the
/// instance's own) by level and `accept`. An accepted rule that raised nothing here is returned
/// as an error: a typo would otherwise be recorded as a decision.
pub fn judge(
    findings: &[Finding],
    instance: &str,
    databases: &[String],
    accept: &[String],
) -> Result<Verdict, AcceptedNothing> {
    let concerns = |f: &&Finding| {
        f.instance.eq_ignore_ascii_case(instance)
            && f.level != Level::Info
            && match &f.database {
                Some(d) => databases.iter().any(|x| x.eq_ignore_ascii_case(d)),
                None => true,
            }
    };
    let accepted = |f: &Finding| accept.iter().any(|r| r.eq_ignore_ascii_case(&f.rule_id));
    let mut v = Verdict::default();
    for f in findings.iter().filter(concerns) {
        let into = match (accepted(f), f.level) {
            (true, _) => &mut v.accepted,
            (false, Level::Issue) => &mut v.blocking,
            (false, _) => &mut v.warnings,
        };
        into.push(f.clone());
    }
    let unused: Vec<String> = accept
        .iter()
        .filter(|r| !v.accepted.iter().any(|f| f.rule_id.eq_ignore_ascii_case(r)))
        .cloned()
        .collect();
    if !unused.is_empty() {
        return Err(AcceptedNothing(unused));
    }
    Ok(v)
}

impl Verdict {
    /// The refusal: each blocking finding with where, what and its fix.
    pub fn refusal(&self, target: &str) -> String {
        let mut out = format!(
            "the assessment blocks the plan for {target} ({} issue{}):",
            self.blocking.len(),
            if self.blocking.len() == 1 { "" } else { "s" }
        );
        for f in &self.blocking {
            out.push_str(&format!(
                "\n  {} [{}]: {}\n    fix: {}",
                f.place("/"),
                f.rule_id,
                f.message,
                f.remediation
            ));
        }
        out
    }

    /// What the plan records.
    pub fn record(&self, by: Vec<String>, target: &str, accept: &[String]) -> PlanAssessment {
        PlanAssessment {
            by,
            target: target.to_string(),
            accepted_rules: accept.to_vec(),
            accepted: self.accepted.iter().map(kept).collect(),
            warnings: self.warnings.iter().map(kept).collect(),
        }
    }
}

fn kept(f: &Finding) -> PlanFinding {
    PlanFinding {
        rule_id: f.rule_id.clone(),
        level: match f.level {
            Level::Issue => "issue",
            Level::Warning => "warning",
            Level::Info => "info",
        }
        .into(),
        database: f.database.clone(),
        message: f.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::findings::Scope;

    fn finding(rule: &str, level: Level, instance: &str, db: Option<&str>) -> Finding {
        Finding {
            rule_id: rule.into(),
            level,
            scope: if db.is_some() {
                Scope::Database
            } else {
                Scope::Instance
            },
            instance: instance.into(),
            database: db.map(Into::into),
            object: None,
            file: None,
            line: None,
            title: rule.into(),
            message: format!("{rule} says so"),
            impact: String::new(),
            remediation: format!("fix {rule}"),
            help_url: None,
            rule_pack: "test".into(),
        }
    }

    #[test]
    fn only_the_planned_databases_and_their_instance_count() {
        let findings = [
            finding("FileStream", Level::Issue, "SQL01", Some("Docs")),
            finding("Compat", Level::Warning, "SQL01", Some("Sales")),
            finding("Note", Level::Info, "SQL01", Some("Sales")),
            finding("Linked", Level::Warning, "SQL01", None),
            finding("FileStream", Level::Issue, "SQL02", Some("Sales")),
        ];
        let sales = ["Sales".to_string()];
        let v = judge(&findings, "sql01", &sales, &[]).unwrap();
        assert!(v.blocking.is_empty(), "{v:?}");
        let rules: Vec<&str> = v.warnings.iter().map(|f| f.rule_id.as_str()).collect();
        assert_eq!(rules, ["Compat", "Linked"]);

        let both = ["Sales".to_string(), "docs".to_string()];
        let v = judge(&findings, "SQL01", &both, &[]).unwrap();
        assert_eq!(v.blocking.len(), 1);
        let refusal = v.refusal("mi-gp");
        assert!(
            refusal
                .contains("SQL01/Docs [FileStream]: FileStream says so\n    fix: fix FileStream"),
            "{refusal}"
        );

        let v = judge(
            &findings,
            "SQL01",
            &both,
            &["filestream".into(), "Compat".into()],
        )
        .unwrap();
        assert!(v.blocking.is_empty() && v.accepted.len() == 2, "{v:?}");
        let kept = v.record(vec!["test".into()], "mi-gp", &["Compat".into()]);
        assert_eq!(kept.warnings.len(), 1);
        assert_eq!(kept.accepted[0].level, "issue");

        // A rule that raised nothing here is a typo, not a decision.
        let e = judge(&findings, "SQL01", &sales, &["FileStrem".into()]).unwrap_err();
        assert_eq!(e, AcceptedNothing(vec!["FileStrem".into()]));
        assert!(
            e.to_string()
                .contains("--accept FileStrem: no issue or warning of that rule"),
            "{e}"
        );
    }
}
