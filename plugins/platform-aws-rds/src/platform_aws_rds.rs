//! Amazon RDS for SQL Server: `discover` lists the account's SQL Server instances in the region
//! through the RDS API (DescribeDBInstances, SigV4-signed with the operator's credentials, which
//! the host hands over by name); `collect` snapshots one instance into the inventory; `plan`
//! offers RDS's backup route and `run-step` runs it (native backup to S3, copied into the
//! migration's container).

mod aws;
mod backup;
mod collect;
mod discover;
mod logs;
mod rules;

use sqlmig_plugin_sdk::{Error, Finding, Platform, export_platform};

struct PlatformAwsRds;

impl Platform for PlatformAwsRds {
    fn summary() -> &'static str {
        "SQL Server on Amazon RDS"
    }

    fn discover(request: &str) -> Result<String, Error> {
        discover::run(request)
    }

    fn collect(request: &str) -> Result<String, Error> {
        collect::run(request)
    }

    /// RDS's own rules over the inventory's RDS instances.
    fn assess(inventory: &str, _options: &str) -> Result<Vec<Finding>, Error> {
        rules::assess(inventory)
    }

    /// The backup route the host asks for before planning a migration.
    fn offer_backup(request: &str) -> Result<String, Error> {
        backup::offer(request)
    }

    fn run_step(request: &str) -> Result<String, Error> {
        backup::run_step(request)
    }
}

export_platform!(PlatformAwsRds);
