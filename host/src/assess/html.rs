//! The assessment as one self-contained HTML file (`sqlmig assess -o html --out report.html`):
//! readiness overview, findings by rule (with impact and remediation) and by database, from the
//! template `templates/assess.html` (askama, which escapes every value). Styles are inline and
//! there is no script, image or font to fetch, so the file opens anywhere, offline, and can be
//! mailed as it is.

use std::collections::BTreeMap;

use askama::Template;

use super::findings::{Finding, Level};
use super::readiness::{DatabaseReadiness, InstanceReadiness, Readiness};
use super::report::Assessment;

/// The report for `a` (`templates/assess.html`).
pub fn render(a: &Assessment) -> String {
    let mut rules: BTreeMap<(Level, &str), Vec<&Finding>> = BTreeMap::new();
    for f in &a.findings {
        rules
            .entry((f.level, f.rule_id.as_str()))
            .or_default()
            .push(f);
    }
    let sections = a
        .readiness
        .iter()
        .map(|i| {
            let of = |database: Option<&str>| -> Vec<&Finding> {
                a.findings
                    .iter()
                    .filter(|f| f.instance == i.name && f.database.as_deref() == database)
                    .collect()
            };
            Section {
                instance: i,
                own: of(None),
                databases: i
                    .databases
                    .iter()
                    .map(|d| (d, of(Some(d.name.as_str()))))
                    .collect(),
            }
        })
        .collect();
    Page {
        a,
        version: crate::HOST_VERSION,
        rules: rules
            .into_iter()
            .map(|((level, id), found)| Rule { level, id, found })
            .collect(),
        sections,
    }
    .render()
    .expect("the assessment page renders")
}

#[derive(Template)]
#[template(path = "assess.html")]
struct Page<'a> {
    a: &'a Assessment,
    version: &'static str,
    /// The findings by rule, issues first.
    rules: Vec<Rule<'a>>,
    /// The findings by instance and database.
    sections: Vec<Section<'a>>,
}

/// A rule's findings: one title, impact and fix, many places.
struct Rule<'a> {
    level: Level,
    id: &'a str,
    found: Vec<&'a Finding>,
}

impl Rule<'_> {
    fn first(&self) -> &Finding {
        self.found[0]
    }

    /// Notes (info) start folded; issues and warnings open.
    fn open(&self) -> bool {
        self.level != Level::Info
    }

    /// The rule's documentation, when it is a secure link.
    fn documentation(&self) -> Option<&str> {
        self.first()
            .help_url
            .as_deref()
            .filter(|u| u.starts_with("https://"))
    }
}

/// An instance's own findings, then each database's.
struct Section<'a> {
    instance: &'a InstanceReadiness,
    own: Vec<&'a Finding>,
    databases: Vec<(&'a DatabaseReadiness, Vec<&'a Finding>)>,
}

impl Page<'_> {
    /// The style class of a readiness badge.
    fn readiness_class(&self, r: &Readiness) -> &'static str {
        match r {
            Readiness::Blocked => "blocked",
            Readiness::ReadyWithWarnings => "warn",
            Readiness::Ready => "ready",
            Readiness::NotCollected => "none",
        }
    }

    fn level_name(&self, l: &Level) -> &'static str {
        match l {
            Level::Issue => "issue",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }

    /// Where in its database a finding is: the object, or the file and line.
    fn at(&self, f: &Finding) -> String {
        let at = f
            .object
            .clone()
            .or_else(|| f.file.clone())
            .unwrap_or_default();
        match f.line {
            Some(l) => format!("{at}:{l}"),
            None => at,
        }
    }

    fn anchor(&self, instance: &str, database: &str) -> String {
        anchor(instance, Some(database))
    }
}

/// An id for a database's section, made of safe characters only.
fn anchor(instance: &str, database: Option<&str>) -> String {
    let raw = format!("db-{instance}-{}", database.unwrap_or(""));
    raw.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_safe() {
        assert_eq!(
            anchor("SQL01\\SALES", Some("Sales DB")),
            "db-SQL01-SALES-Sales-DB"
        );
    }
}
