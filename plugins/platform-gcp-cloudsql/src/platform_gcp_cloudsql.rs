//! Google Cloud SQL for SQL Server: `discover` lists the project's SQL Server instances through
//! the Cloud SQL Admin API (`instances.list`, with the operator's OAuth access token, which the
//! host hands over by name); `collect` snapshots one instance into the inventory; `plan` offers
//! Cloud SQL's backup route and `run-step` runs it (a BAK export to Cloud Storage, copied into
//! the migration's container).

mod backup;
mod collect;
mod discover;
mod gcp;

use sqlmig_plugin_sdk::{Error, Platform, export_platform};

struct PlatformGcpCloudSql;

impl Platform for PlatformGcpCloudSql {
    fn summary() -> &'static str {
        "SQL Server on Google Cloud SQL"
    }

    fn discover(request: &str) -> Result<String, Error> {
        discover::run(request)
    }

    fn collect(request: &str) -> Result<String, Error> {
        collect::run(request)
    }

    /// The backup route the host asks for before planning a migration.
    fn offer_backup(request: &str) -> Result<String, Error> {
        backup::offer(request)
    }

    fn run_step(request: &str) -> Result<String, Error> {
        backup::run_step(request)
    }
}

export_platform!(PlatformGcpCloudSql);
