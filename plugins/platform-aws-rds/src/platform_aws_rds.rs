//! Amazon RDS for SQL Server: `discover` lists the account's SQL Server instances in the region
//! through the RDS API (DescribeDBInstances, SigV4-signed with the operator's credentials, which
//! the host hands over by name); `collect` snapshots one instance into the inventory.

mod aws;
mod discover;

use sqlmig_plugin_sdk::{Error, Plugin, export_plugin};

struct PlatformAwsRds;

impl Plugin for PlatformAwsRds {
    fn summary() -> &'static str {
        "SQL Server on Amazon RDS"
    }

    fn discover(request: &str) -> Result<String, Error> {
        discover::run(request)
    }
}

export_plugin!(PlatformAwsRds);
