//! Readiness: blocked when an issue-level finding applies, ready with warnings when only warnings
//! do, ready otherwise; an instance is as ready as its worst database and its own findings.

use serde::{Deserialize, Serialize};
use sqlmig_protocol::Inventory;

use super::findings::{Finding, Level, Scope};

/// How ready something is to move, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    Ready,
    ReadyWithWarnings,
    Blocked,
    /// Discovery could not collect the instance: nothing to judge.
    NotCollected,
}

impl Readiness {
    fn of<'a>(findings: impl Iterator<Item = &'a Finding>) -> Readiness {
        findings.fold(Readiness::Ready, |r, f| {
            r.max(match f.level {
                Level::Issue => Readiness::Blocked,
                Level::Warning => Readiness::ReadyWithWarnings,
                Level::Info => Readiness::Ready,
            })
        })
    }

    /// How people read it.
    pub fn label(self) -> &'static str {
        match self {
            Readiness::Ready => "ready",
            Readiness::ReadyWithWarnings => "ready with warnings",
            Readiness::Blocked => "blocked",
            Readiness::NotCollected => "not collected",
        }
    }
}

/// One database's readiness and counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseReadiness {
    pub name: String,
    pub readiness: Readiness,
    pub issues: usize,
    pub warnings: usize,
}

/// One instance's readiness, its own findings' counts and its user databases'.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceReadiness {
    pub name: String,
    pub readiness: Readiness,
    pub issues: usize,
    pub warnings: usize,
    pub databases: Vec<DatabaseReadiness>,
}

/// Readiness of every instance and user database of `inventory` given `findings`.
pub fn judge(inventory: &Inventory, findings: &[Finding]) -> Vec<InstanceReadiness> {
    let count = |fs: &[&Finding], level: Level| fs.iter().filter(|f| f.level == level).count();
    inventory
        .instances
        .iter()
        .map(|inst| {
            if inst.status == sqlmig_protocol::CollectionStatus::Failed {
                return InstanceReadiness {
                    name: inst.name.clone(),
                    readiness: Readiness::NotCollected,
                    issues: 0,
                    warnings: 0,
                    databases: Vec::new(),
                };
            }
            let mine: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.instance == inst.name)
                .collect();
            let databases: Vec<DatabaseReadiness> = inst
                .databases
                .iter()
                .filter(|d| d.is_user())
                .map(|d| {
                    let of_db: Vec<&Finding> = mine
                        .iter()
                        .copied()
                        .filter(|f| f.scope != Scope::Instance)
                        .filter(|f| {
                            f.database
                                .as_deref()
                                .is_some_and(|n| n.eq_ignore_ascii_case(&d.name))
                        })
                        .collect();
                    DatabaseReadiness {
                        name: d.name.clone(),
                        readiness: Readiness::of(of_db.iter().copied()),
                        issues: count(&of_db, Level::Issue),
                        warnings: count(&of_db, Level::Warning),
                    }
                })
                .collect();
            let own: Vec<&Finding> = mine
                .iter()
                .copied()
                .filter(|f| f.scope == Scope::Instance)
                .collect();
            let readiness = databases
                .iter()
                .map(|d| d.readiness)
                .fold(Readiness::of(own.iter().copied()), Readiness::max);
            InstanceReadiness {
                name: inst.name.clone(),
                readiness,
                issues: count(&own, Level::Issue),
                warnings: count(&own, Level::Warning),
                databases,
            }
        })
        .collect()
}
