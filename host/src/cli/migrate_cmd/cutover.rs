//! `sqlmig migrate cutover`: asks the running `migrate run` to cut the named databases over.

use std::path::Path;
use std::process::ExitCode;

use super::journal_path;
use crate::cli::{Context, Failure};
use crate::migrate::cutover::{Which, ask};

pub(super) async fn cutover(
    ctx: &Context,
    plan_file: &Path,
    databases: &[String],
    all: bool,
    journal: Option<&Path>,
) -> Result<ExitCode, Failure> {
    let which = if all {
        Which::All
    } else {
        Which::Named(databases)
    };
    let done = ask(plan_file, &journal_path(plan_file, journal), which).await?;
    for (d, how) in &done.already {
        eprintln!("{d} is cut over already: {how}");
    }
    if !done.asked.is_empty() && !ctx.quiet {
        eprintln!(
            "cutover asked for {}: the running `sqlmig migrate run {}` takes it from here (start it again if it is not running)",
            done.asked.join(", "),
            plan_file.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
