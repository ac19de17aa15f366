//! Running a plan: instance-wide steps first, then each database's steps in order, several
//! databases at once. Each step is journaled before and after; a step the journal shows done is
//! not run again, and one an interrupted run left `running` is run again told so (`resumed`),
//! so it can find out what the earlier attempt did. A step that hands back unfinished (`again`:
//! a replication running longer than one hook call may) is called again at once. Transient failures (a dropped connection,
//! MI's failover errors, storage 5xx) are retried with backoff, a bounded number of times.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar};
use serde_json::Value;
use sqlmig_protocol::migration::{
    Plan, Runner, STEP_REQUEST, STEP_RESULT, Step, StepKind, StepRequest, StepResult, Watch,
};

use super::host_steps::{self, HostContext};
use super::journal::{Journal, JournalError, StepState};
use crate::capabilities::progress::ProgressSink;
use crate::capabilities::sql::{Param, SqlBackend, SqlValue};
use crate::capabilities::{CapabilityError, Services};
use crate::runtime::{HookCall, HookOutput, LoadedPlugin, PluginError};
use crate::secret::{Secret, redact};
use crate::terminal;

/// SQL Server errors worth retrying: MI/Azure SQL failover and throttling, and dropped links.
const TRANSIENT_SQL: &[i32] = &[
    40613, 40197, 40501, 40540, 40143, 49918, 49919, 49920, 10928, 10929, 4221, 233, 64, 10053,
    10054, 10060, 1205,
];

/// Why a step failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq)]
pub struct StepFailure {
    pub message: String,
    pub transient: bool,
}

impl StepFailure {
    /// A failure retrying will not fix.
    pub fn permanent(message: impl Into<String>) -> StepFailure {
        StepFailure {
            message: message.into(),
            transient: false,
        }
    }

    /// A failure worth retrying.
    pub fn transient(message: impl Into<String>) -> StepFailure {
        StepFailure {
            message: message.into(),
            transient: true,
        }
    }

    /// A capability's error, with `secrets` redacted.
    pub fn from_capability(e: &CapabilityError, secrets: &[&Secret]) -> StepFailure {
        let transient = match e {
            CapabilityError::Unavailable(_) | CapabilityError::Timeout(_) => true,
            CapabilityError::Sql(info) => TRANSIENT_SQL.contains(&info.number),
            _ => false,
        };
        StepFailure {
            message: redact(&e.to_string(), secrets),
            transient,
        }
    }
}

/// How often and how patiently transient failures are retried.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// Tries in all (the first included).
    pub attempts: u32,
    /// The first wait; each next one doubles.
    pub base: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            base: Duration::from_secs(2),
        }
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct RunSummary {
    pub done: Vec<String>,
    /// Steps an earlier run finished.
    pub already_done: Vec<String>,
    /// (step, why) of the steps that failed; later steps of their database did not run.
    pub failed: Vec<(String, String)>,
    /// Steps not run because an earlier step of their database failed.
    pub not_run: Vec<String>,
}

/// Runs plans.
pub struct Executor {
    pub plan: Plan,
    pub plugin: Arc<LoadedPlugin>,
    pub services: Services,
    /// The source's platform plugin and what it reaches, for `runner: platform` steps.
    pub platform: Option<(Arc<LoadedPlugin>, Services)>,
    pub host: HostContext,
    pub journal: Arc<Mutex<Journal>>,
    pub retry: Retry,
    pub quiet: bool,
    /// The bars drawn on a terminal (uploads, servers' percent_complete); lines are printed
    /// above them.
    pub bars: MultiProgress,
    /// Everything to keep out of messages and the journal.
    pub secrets: Vec<Secret>,
}

impl Executor {
    fn say(&self, line: &str) {
        if !self.quiet {
            self.bars.suspend(|| eprintln!("{line}"));
        }
    }

    /// True while a step of the plan other than a credential is not done.
    fn work_left(&self) -> Result<bool, JournalError> {
        let journal = self.journal.lock().unwrap();
        for s in &self.plan.steps {
            if s.kind != StepKind::CreateCredential && journal.step(&s.id)?.state != StepState::Done
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Runs the plan (or what is left of it).
    pub async fn run(&self) -> Result<RunSummary, JournalError> {
        let summary = Mutex::new(RunSummary::default());
        let global: Vec<&Step> = self
            .plan
            .steps
            .iter()
            .filter(|s| s.database.is_empty())
            .collect();
        if !self.run_sequence(&global, &summary).await? {
            let mut s = summary.into_inner().unwrap();
            s.not_run.extend(
                self.plan
                    .steps
                    .iter()
                    .filter(|s| !s.database.is_empty())
                    .map(|s| s.id.clone()),
            );
            return Ok(s);
        }
        let databases: Vec<Vec<&Step>> = self
            .plan
            .databases
            .iter()
            .map(|d| {
                self.plan
                    .steps
                    .iter()
                    .filter(|s| s.database == d.name)
                    .collect()
            })
            .collect();
        let results: Vec<Result<bool, JournalError>> = futures::stream::iter(databases.iter())
            .map(|steps| self.run_sequence(steps, &summary))
            .buffer_unordered(self.plan.parallelism.max(1) as usize)
            .collect()
            .await;
        for r in results {
            r?;
        }
        Ok(summary.into_inner().unwrap())
    }

    /// Runs `steps` in order; false when one failed (the rest are listed as not run).
    async fn run_sequence(
        &self,
        steps: &[&Step],
        summary: &Mutex<RunSummary>,
    ) -> Result<bool, JournalError> {
        for (i, step) in steps.iter().enumerate() {
            if let Err(why) = self.run_step(step, summary).await? {
                let mut s = summary.lock().unwrap();
                s.failed.push((step.id.clone(), why));
                s.not_run
                    .extend(steps[i + 1..].iter().map(|s| s.id.clone()));
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Runs one step with retries. The outer error is the journal's (the run cannot go on); the
    /// inner one the step's.
    async fn run_step(
        &self,
        step: &Step,
        summary: &Mutex<RunSummary>,
    ) -> Result<Result<(), String>, JournalError> {
        let record = self.journal.lock().unwrap().step(&step.id)?;
        // A credential holds the SAS of the run that created it: while work is left, each run
        // sets it again (CREATE or ALTER), so a SAS replaced after a failure is the one used.
        let refresh = step.kind == StepKind::CreateCredential && self.work_left()?;
        if record.state == StepState::Done && !refresh {
            self.say(&format!(
                "{}: done earlier ({})",
                step.id,
                record.message.unwrap_or_default()
            ));
            summary.lock().unwrap().already_done.push(step.id.clone());
            return Ok(Ok(()));
        }
        // A step that was running (interrupted) or failed may have done part of its work: the
        // next attempt is told so and checks before doing it again.
        let mut resumed = matches!(record.state, StepState::Running | StepState::Failed);
        if record.state == StepState::Running {
            self.say(&format!(
                "{}: an earlier run stopped during this step; resuming it",
                step.id
            ));
        }
        let secrets: Vec<&Secret> = self.secrets.iter().collect();
        let mut tries = 0;
        // Set while a step that handed back unfinished (`again`) is called for its next round:
        // the same attempt goes on, so nothing counts it as begun twice.
        let mut next_round: Option<u32> = None;
        loop {
            let attempt = match next_round.take() {
                Some(attempt) => attempt,
                None => {
                    tries += 1;
                    let attempt = self.journal.lock().unwrap().begin(&step.id)?;
                    self.say(&format!("{}: {}…", step.id, step.description));
                    attempt
                }
            };
            let started = Instant::now();
            let watcher = self.watch(step);
            let result = match step.runner {
                Runner::Host => host_steps::run(&self.host, &self.plan, step)
                    .await
                    .map(|(message, output)| (message, output, false)),
                Runner::Plugin => {
                    self.plugin_step(&self.plugin, &self.services, step, attempt, resumed)
                        .await
                }
                Runner::Platform => match &self.platform {
                    Some((plugin, services)) => {
                        self.plugin_step(plugin, services, step, attempt, resumed)
                            .await
                    }
                    None => Err(StepFailure::permanent(format!(
                        "the plan gives step {} to the source's platform plugin, and names none \
                         (source_platform): plan again with `sqlmig migrate plan`",
                        step.id
                    ))),
                },
            };
            if let Some(w) = watcher {
                w.abort();
            }
            match result {
                Ok((message, _, true)) => {
                    let message = redact(&message, &secrets);
                    self.journal.lock().unwrap().round(&step.id, &message)?;
                    self.say(&format!("{}: {message}", step.id));
                    // A finished round is not a failure: the retry budget starts afresh.
                    tries = 0;
                    resumed = false;
                    next_round = Some(attempt);
                }
                Ok((message, output, _)) if output.get("ok") != Some(&Value::Bool(false)) => {
                    let message = redact(&message, &secrets);
                    self.journal
                        .lock()
                        .unwrap()
                        .finish(&step.id, &message, &output)?;
                    self.say(&format!(
                        "{}: {message} ({:.1} s)",
                        step.id,
                        started.elapsed().as_secs_f64()
                    ));
                    summary.lock().unwrap().done.push(step.id.clone());
                    return Ok(Ok(()));
                }
                Ok((message, _, _)) => {
                    let message = redact(&message, &secrets);
                    self.journal
                        .lock()
                        .unwrap()
                        .fail_step(&step.id, &message, false)?;
                    self.say(&format!("{}: FAILED: {message}", step.id));
                    return Ok(Err(message));
                }
                Err(f) => {
                    let message = redact(&f.message, &secrets);
                    let retrying = f.transient && tries < self.retry.attempts;
                    self.journal
                        .lock()
                        .unwrap()
                        .fail_step(&step.id, &message, retrying)?;
                    if !retrying {
                        self.say(&format!("{}: FAILED: {message}", step.id));
                        return Ok(Err(message));
                    }
                    let wait = self.retry.base * 2u32.pow(tries - 1);
                    self.say(&format!(
                        "{}: {message}; retrying in {:.1} s (try {} of {})",
                        step.id,
                        wait.as_secs_f64(),
                        tries + 1,
                        self.retry.attempts
                    ));
                    tokio::time::sleep(wait).await;
                    // The failed attempt may have done part of the work: the next one checks.
                    resumed = true;
                }
            }
        }
    }

    /// For a step that declares a server-side operation to watch, a task showing its progress.
    fn watch(&self, step: &Step) -> Option<tokio::task::JoinHandle<()>> {
        let w = step.watch.clone()?;
        let sql = self.services.sql.clone().filter(|_| !self.quiet)?;
        let label = step.id.clone();
        let bars = self.bars.clone();
        Some(tokio::spawn(async move {
            watch_progress(sql, w, label, bars).await
        }))
    }

    /// Runs `step` through `plugin`'s `run-step` hook with `services`.
    async fn plugin_step(
        &self,
        plugin: &LoadedPlugin,
        services: &Services,
        step: &Step,
        attempt: u32,
        resumed: bool,
    ) -> Result<(String, Value, bool), StepFailure> {
        let request = StepRequest {
            schema: STEP_REQUEST.into(),
            step: step.clone(),
            attempt,
            resumed,
        };
        let doc = serde_json::to_string(&request).expect("a step request serializes");
        let secrets: Vec<&Secret> = self.secrets.iter().collect();
        // The step's progress (a replication's lag) goes to the console and the journal.
        let services = Services {
            progress: Some(Arc::new(StepProgress {
                step: step.id.clone(),
                journal: self.journal.clone(),
                quiet: self.quiet,
                bars: self.bars.clone(),
            })),
            ..services.clone()
        };
        let out = plugin
            .call(&services, HookCall::RunStep(doc))
            .await
            .map_err(|e| match &e {
                PluginError::Failed { error, .. } => {
                    let mut f = StepFailure::from_capability(error, &secrets);
                    f.message = format!("{}: {}", plugin.label, f.message);
                    f
                }
                other => StepFailure::permanent(redact(&other.to_string(), &secrets)),
            })?;
        let HookOutput::Document(d) = out else {
            return Err(StepFailure::permanent(format!(
                "{}: run-step answered no document",
                plugin.label
            )));
        };
        let result: StepResult = serde_json::from_str(&d).map_err(|e| {
            StepFailure::permanent(format!(
                "{}: run-step answered a malformed result: {e}",
                plugin.label
            ))
        })?;
        if result.schema != STEP_RESULT {
            return Err(StepFailure::permanent(format!(
                "{}: answered {:?} for a step result; update the plugin",
                plugin.label, result.schema
            )));
        }
        Ok((result.message, result.output, result.again))
    }
}

/// A step's progress reports: a line on the console, and the latest kept in the journal for
/// `migrate status`.
struct StepProgress {
    step: String,
    journal: Arc<Mutex<Journal>>,
    quiet: bool,
    bars: MultiProgress,
}

impl ProgressSink for StepProgress {
    fn report(&self, _plugin: &str, _done: u64, _total: Option<u64>, message: &str) {
        if let Ok(j) = self.journal.lock()
            && let Err(e) = j.progress(&self.step, message)
        {
            tracing::warn!("{}: {e}", self.step);
        }
        if !self.quiet {
            self.bars.suspend(|| eprintln!("{}: {message}", self.step));
        }
    }
}

/// Reports `percent_complete` of the watched request every half second: a bar among `bars` on a
/// terminal, a line per tenth otherwise. Without the permission to
/// read sys.dm_exec_requests (VIEW SERVER STATE) it shows nothing.
async fn watch_progress(sql: Arc<dyn SqlBackend>, w: Watch, label: String, bars: MultiProgress) {
    let Ok(mut session) = sql.connect(&w.endpoint).await else {
        return;
    };
    let params = [
        Param {
            name: "cmd".into(),
            value: SqlValue::Text(w.command),
        },
        Param {
            name: "db".into(),
            value: SqlValue::Text(w.database),
        },
    ];
    let mut tenth = -1i64;
    // Made at the first figure; cleared when the task is aborted with its step.
    let mut bar: Option<ProgressBar> = None;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let Ok(sets) = session
            .query(
                "SELECT TOP (1) percent_complete AS p FROM sys.dm_exec_requests \
                 WHERE command LIKE @cmd AND database_id = DB_ID(@db)",
                &params,
            )
            .await
        else {
            return;
        };
        let pct = sets
            .first()
            .and_then(|s| s.rows.first())
            .and_then(|r| match r.first() {
                Some(SqlValue::Float(f)) => Some(*f),
                Some(SqlValue::Int(i)) => Some(*i as f64),
                _ => None,
            });
        let Some(pct) = pct else { continue };
        if !bars.is_hidden() {
            let bar = bar.get_or_insert_with(|| {
                let bar = bars.add(terminal::counter(100, terminal::WATCH));
                bar.set_prefix(label.clone());
                bar
            });
            bar.set_position(pct as u64);
        } else if (pct / 10.0) as i64 > tenth {
            tenth = (pct / 10.0) as i64;
            eprintln!("  {label}: {pct:.0}%");
        }
    }
}
