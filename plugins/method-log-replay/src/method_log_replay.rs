//! Online migration, as the Database Migration Service and MI's Log Replay Service (LRS) do it:
//! a full backup to a database's folder in Azure Blob Storage, LRS started on that folder (by the
//! host: its request carries the container's SAS), then log backups shipped every few minutes
//! while the source keeps working and LRS restores them WITH NORECOVERY; the cutover takes the tail
//! of the log (WITH NORECOVERY: the source stops taking writes), tells LRS it is the last file, and
//! measures the downtime until the database is online on MI, its rows compared with the source's.
//!
//! Managed Instance refuses `RESTORE … WITH NORECOVERY` in T-SQL; LRS is how it restores a log
//! chain, so this plugin talks to LRS's Azure Resource Manager API (through the `http`
//! capability; the host adds the token) rather than to MI's T-SQL for the restores.

mod lrs;
mod plan;
mod steps;

use sqlmig_plugin_sdk::{Error, Method, export_method};

struct MethodLogReplay;

impl Method for MethodLogReplay {
    fn summary() -> &'static str {
        "Online: log backups replayed on Managed Instance by its Log Replay Service until a cutover"
    }

    fn plan(request: &str) -> Result<String, Error> {
        plan::run(request)
    }

    fn run_step(step: &str) -> Result<String, Error> {
        steps::run(step)
    }
}

export_method!(MethodLogReplay);
