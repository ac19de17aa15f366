//! A finding as the host keeps and reports it: the contract's record plus the rule pack that
//! raised it, with stable serde names (`docs/assessment.md`).

use serde::{Deserialize, Serialize};

use crate::runtime::instance::{Finding as WitFinding, FindingLevel, FindingScope};

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The move fails or the feature breaks.
    Issue,
    /// Works differently or needs a change.
    Warning,
    /// Good to know.
    Info,
}

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Instance,
    Database,
    Object,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub level: Level,
    pub scope: Scope,
    pub instance: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub title: String,
    pub message: String,
    pub impact: String,
    pub remediation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help_url: Option<String>,
    /// The rule pack that raised it (`rules-mi 0.1.0`).
    pub rule_pack: String,
}

impl Finding {
    /// The contract's finding, raised by `rule_pack`.
    pub fn from_plugin(f: WitFinding, rule_pack: &str) -> Finding {
        Finding {
            rule_id: f.rule_id,
            level: match f.level {
                FindingLevel::Issue => Level::Issue,
                FindingLevel::Warning => Level::Warning,
                FindingLevel::Info => Level::Info,
            },
            scope: match f.scope {
                FindingScope::Instance => Scope::Instance,
                FindingScope::Database => Scope::Database,
                FindingScope::Object => Scope::Object,
            },
            instance: f.instance,
            database: f.database,
            object: f.object,
            file: f.file,
            line: f.line,
            title: f.title,
            message: f.message,
            impact: f.impact,
            remediation: f.remediation,
            help_url: f.help_url,
            rule_pack: rule_pack.to_string(),
        }
    }

    /// Where it is, for people: instance, database, object and file joined by `separator`,
    /// then `:line`.
    pub fn place(&self, separator: &str) -> String {
        let parts = [&self.database, &self.object, &self.file];
        place(&self.instance, parts, self.line, separator)
    }

    /// The order reports list findings in: instance, database, level, rule, object, line.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            self.instance.to_lowercase(),
            self.database.as_deref().map(str::to_lowercase),
            self.level,
            self.rule_id.as_str(),
            self.object.as_deref(),
            self.file.as_deref(),
            self.line,
        )
    }
}

/// `instance`, then each part present, joined by `separator`, then `:line`.
pub fn place(
    instance: &str,
    parts: [&Option<String>; 3],
    line: Option<u32>,
    separator: &str,
) -> String {
    let mut p = instance.to_string();
    for part in parts.into_iter().flatten() {
        p = format!("{p}{separator}{part}");
    }
    if let Some(l) = line {
        p = format!("{p}:{l}");
    }
    p
}
