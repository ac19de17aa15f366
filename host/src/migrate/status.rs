//! Where a migration stands, from its journal: each step's state, tries and result; the latest
//! progress of a step under way; when a cutover was asked for; and whether a run holds the
//! journal now (a step recorded as running while none does was cut short).

use std::path::{Path, PathBuf};

use sqlmig_protocol::migration::{Plan, Step, StepKind};

use super::cutover;
use super::journal::{self, Journal, StepRecord, StepState};
use super::plan_file;
use crate::capabilities::state::SqliteStateStore;
use crate::failure::Failure;

/// A plan's migration as its journal records it.
pub struct Status {
    pub plan: Plan,
    pub journal: PathBuf,
    /// Whether the journal exists (the plan has been run).
    pub begun: bool,
    /// Whether a `migrate run` holds the journal now.
    pub running: bool,
    /// Whether a step was cut short (recorded running, no run holding the journal).
    pub interrupted: bool,
    /// The command that resumes the migration, as its last run was started (without secrets).
    pub rerun: String,
    pub steps: Vec<StepStatus>,
}

/// One step of the plan and what the journal says of it.
pub struct StepStatus {
    pub step: Step,
    /// Its record; none before the plan has been run.
    pub record: Option<StepRecord>,
    /// (when, what) of its latest progress (a replication's lag), or of a cutover asked for
    /// and not yet done.
    pub progress: Option<(String, String)>,
}

/// Reads where the migration of the plan `plan_file` stands from the journal `journal_path`.
pub async fn read(plan_file: &Path, journal_path: &Path) -> Result<Status, Failure> {
    let (plan, sha) = plan_file::read(plan_file)?;
    let journal = if journal_path.exists() {
        Some(Journal::open(journal_path, &sha).map_err(Failure::bad_input)?)
    } else {
        None
    };
    let running = journal::RunLock::held(journal_path);
    let mut interrupted = false;
    // The journal's plugin state, opened once when a cutover step asks about it.
    let mut state: Option<SqliteStateStore> = None;
    let mut steps = Vec::new();
    for s in &plan.steps {
        let Some(j) = &journal else {
            steps.push(StepStatus {
                step: s.clone(),
                record: None,
                progress: None,
            });
            continue;
        };
        let mut r = j.step(&s.id).map_err(Failure::io)?;
        if r.state == StepState::Running && !running {
            r.state = StepState::Interrupted;
            interrupted = true;
        }
        let progress = match r.state {
            StepState::Running | StepState::Interrupted => {
                j.last_progress(&s.id).map_err(Failure::io)?
            }
            StepState::Done => None,
            _ if s.kind == StepKind::Cutover => {
                if state.is_none() {
                    state = Some(
                        SqliteStateStore::open(journal_path)
                            .map_err(|e| Failure::io(e.to_string()))?,
                    );
                }
                let state = state.as_ref().expect("opened above");
                cutover::asked_at(state, &plan.method, &s.database)
                    .await?
                    .map(|at| {
                        (
                            at,
                            "cutover asked for; the running `migrate run` acts on it".to_string(),
                        )
                    })
            }
            _ => None,
        };
        steps.push(StepStatus {
            step: s.clone(),
            record: Some(r),
            progress,
        });
    }
    let rerun = match &journal {
        Some(j) => j.meta("run_command").map_err(Failure::io)?,
        None => None,
    }
    .unwrap_or_else(|| format!("sqlmig migrate run {} …", plan_file.display()));
    Ok(Status {
        plan,
        journal: journal_path.to_path_buf(),
        begun: journal.is_some(),
        running,
        interrupted,
        rerun,
        steps,
    })
}
