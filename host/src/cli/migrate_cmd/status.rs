//! `sqlmig migrate status`: where a migration stands, as a table or JSON.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use super::journal_path;
use crate::cli::output::{Table, write_json};
use crate::cli::{Context, Failure, OutputFormat};
use crate::migrate::status::read;

pub(super) async fn status(
    ctx: &Context,
    plan_file: &Path,
    journal: Option<&Path>,
) -> Result<ExitCode, Failure> {
    let st = read(plan_file, &journal_path(plan_file, journal)).await?;
    let resume = format!(
        "interrupted: the run stopped mid-step; rerun `{}` to resume",
        st.rerun
    );
    if ctx.output == OutputFormat::Json {
        let steps: Vec<serde_json::Value> = st
            .steps
            .iter()
            .map(|s| {
                let r = s.record.as_ref();
                json!({
                    "step": s.step.id,
                    "database": s.step.database,
                    "kind": s.step.kind,
                    "state": r.map_or("pending", |r| r.state.as_str()),
                    "attempts": r.map_or(0, |r| r.attempts),
                    "finished_at": r.and_then(|r| r.finished_at.clone()),
                    "message": r.and_then(|r| r.message.clone()),
                    "progress": s.progress.as_ref().map(|(at, message)| json!({ "at": at, "message": message })),
                    "error": r.and_then(|r| r.error.clone()),
                    "output": r.and_then(|r| r.output.clone()),
                })
            })
            .collect();
        write_json(
            &json!({ "plan": plan_file, "journal": st.journal, "running": st.running, "steps": steps }),
            ctx.out.as_deref(),
        )?;
        if st.interrupted && !ctx.quiet {
            eprintln!("{resume}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(&["STEP", "STATE", "TRIES", "FINISHED", "RESULT"]);
    for s in &st.steps {
        let (state, tries, finished, result) = match &s.record {
            Some(r) => (
                r.state.as_str(),
                r.attempts.to_string(),
                r.finished_at.clone().unwrap_or_default(),
                r.error
                    .clone()
                    .or_else(|| s.progress.as_ref().map(|(at, m)| format!("{m} (at {at})")))
                    .or_else(|| r.message.clone())
                    .unwrap_or_default(),
            ),
            None => ("pending", "0".into(), String::new(), String::new()),
        };
        t.row(vec![
            s.step.id.clone(),
            state.into(),
            tries,
            finished,
            result,
        ]);
    }
    print!("{}", t.render());
    if st.interrupted {
        eprintln!("{resume}");
    }
    if !st.begun {
        eprintln!(
            "(no journal yet: {} — the plan has not been run)",
            st.journal.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
