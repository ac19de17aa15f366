//! Google Cloud SQL for SQL Server: `discover` lists the project's SQL Server instances through
//! the Cloud SQL Admin API (`instances.list`, with the operator's OAuth access token, which the
//! host hands over by name); `collect` snapshots one instance into the inventory.

mod discover;
mod gcp;

use sqlmig_plugin_sdk::{Error, Plugin, export_plugin};

struct PlatformGcpCloudSql;

impl Plugin for PlatformGcpCloudSql {
    fn summary() -> &'static str {
        "SQL Server on Google Cloud SQL"
    }

    fn discover(request: &str) -> Result<String, Error> {
        discover::run(request)
    }
}

export_plugin!(PlatformGcpCloudSql);
