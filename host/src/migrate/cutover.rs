//! Asking for an online migration's cutover: `migrate cutover` records the request (with its
//! time) in the journal's plugin state, where the running `migrate run` — its method plugin and
//! the source platform's, when it ships its own log backups — acts on it.

use std::path::Path;

use sqlmig_protocol::migration::{Plan, Step, StepKind, cutover_key};

use super::journal::{Journal, StepState};
use super::plan_file;
use crate::capabilities::state::{SqliteStateStore, StateStore};
use crate::failure::Failure;

/// The databases to cut over.
pub enum Which<'a> {
    All,
    Named(&'a [String]),
}

/// What a cutover request did.
#[derive(Debug, Default)]
pub struct Asked {
    /// Databases whose cutover is now asked for.
    pub asked: Vec<String>,
    /// (database, how it was cut over) of those cut over already.
    pub already: Vec<(String, String)>,
}

/// Records the cutover of `which` databases of the plan `plan_file` in the journal
/// `journal_path`. Refused (bad input) for an offline plan, a database the plan does not move,
/// or one whose migration has not begun (its tail would be taken right after its full backup).
pub async fn ask(
    plan_file: &Path,
    journal_path: &Path,
    which: Which<'_>,
) -> Result<Asked, Failure> {
    let (plan, sha) = plan_file::read(plan_file)?;
    if !plan.steps.iter().any(|s| s.kind == StepKind::Cutover) {
        return Err(Failure::bad_input(format!(
            "{}: a {} plan is offline: its databases come online when restored, there is nothing to cut over",
            plan_file.display(),
            plan.method
        )));
    }
    let chosen = chosen(&plan, plan_file, which)?;
    if !journal_path.exists() {
        return Err(Failure::bad_input(format!(
            "{}: the migration has not begun, so there is nothing to cut over yet",
            plan_file.display()
        ))
        .hint(format!(
            "start it with `sqlmig migrate run {0}` (with its logins), and ask for the cutover once `sqlmig migrate status {0}` shows each database replicating",
            plan_file.display()
        )));
    }
    // Opening checks the journal belongs to this plan.
    let journal = Journal::open(journal_path, &sha).map_err(Failure::bad_input)?;
    let mut result = Asked::default();
    for d in chosen {
        let steps: Vec<&Step> = plan.steps.iter().filter(|s| s.database == d).collect();
        let Some(at) = steps.iter().position(|s| s.kind == StepKind::Cutover) else {
            continue;
        };
        let cut = journal.step(&steps[at].id).map_err(Failure::io)?;
        if cut.state == StepState::Done {
            result.already.push((d, cut.message.unwrap_or_default()));
            continue;
        }
        let mut begun = false;
        for s in &steps[..at] {
            begun |= journal.step(&s.id).map_err(Failure::io)?.state != StepState::Pending;
        }
        if !begun {
            return Err(Failure::bad_input(format!(
                "{d}: its migration has not begun, so there is nothing to cut over yet"
            ))
            .hint(format!(
                "run the plan (`sqlmig migrate run {0}`) and ask for the cutover once `sqlmig migrate status {0}` shows {d} replicating",
                plan_file.display()
            )));
        }
        result.asked.push(d);
    }
    if result.asked.is_empty() {
        return Ok(result);
    }
    let state = SqliteStateStore::open(journal_path).map_err(|e| Failure::io(e.to_string()))?;
    // The request carries its time (ms since the epoch): a source platform that ships its own
    // log backups waits for one taken after it. Both the method and that platform see it.
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        .to_string();
    let scopes: Vec<&str> = std::iter::once(plan.method.as_str())
        .chain(plan.source_platform.as_deref())
        .collect();
    for d in &result.asked {
        for scope in &scopes {
            state
                .set(scope, &cutover_key(d), at.as_bytes().to_vec())
                .await
                .map_err(|e| Failure::io(e.to_string()))?;
        }
    }
    Ok(result)
}

/// The databases `which` names, each checked to be the plan's.
fn chosen(plan: &Plan, plan_file: &Path, which: Which) -> Result<Vec<String>, Failure> {
    let names: Vec<String> = match which {
        Which::All => return Ok(plan.databases.iter().map(|d| d.name.clone()).collect()),
        Which::Named([]) => {
            return Err(Failure::bad_input(
                "name the databases to cut over, or --all",
            ));
        }
        Which::Named(names) => names.to_vec(),
    };
    for d in &names {
        if !plan.databases.iter().any(|p| &p.name == d) {
            return Err(Failure::bad_input(format!(
                "{}: no database {d} in the plan (it moves: {})",
                plan_file.display(),
                plan.databases
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(names)
}

/// When the cutover of `database` was asked for (RFC 3339), if it was.
pub async fn asked_at(
    state: &SqliteStateStore,
    method: &str,
    database: &str,
) -> Result<Option<String>, Failure> {
    let asked = state
        .get(method, &cutover_key(database))
        .await
        .map_err(|e| Failure::io(e.to_string()))?;
    Ok(asked
        .and_then(|ms| String::from_utf8(ms).ok()?.parse::<i64>().ok())
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
}
