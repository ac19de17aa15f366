//! Offline migration by native backup and restore, as Microsoft's guide describes it: a
//! COPY_ONLY full backup of each database to Azure Blob Storage (BACKUP TO URL, striped so no
//! blob is larger than the plan allows; or TO DISK and uploaded by the host where the source is
//! older than SQL Server 2012 SP1 CU2), RESTORE FROM URL on the Managed Instance, then row counts
//! and checksums compared table by table.

mod plan;
mod steps;

use sqlmig_plugin_sdk::{Error, Method, export_method};

struct MethodBackupRestore;

impl Method for MethodBackupRestore {
    fn summary() -> &'static str {
        "Offline: native backup to Azure Blob, RESTORE FROM URL on Managed Instance"
    }

    fn plan(request: &str) -> Result<String, Error> {
        plan::run(request)
    }

    fn run_step(step: &str) -> Result<String, Error> {
        steps::run(step)
    }
}

export_method!(MethodBackupRestore);
