//! The on-premises platform: SQL Server on the customer's own machines (or VMs), versions 2008 R2
//! to 2022. `discover` finds instances with the host's network probes; `collect` snapshots one
//! instance into the inventory through the `sql` capability.

mod discover;

use sqlmig_plugin_sdk::{Error, Platform, export_platform};

struct PlatformOnprem;

impl Platform for PlatformOnprem {
    fn summary() -> &'static str {
        "SQL Server on your own machines (2008 R2 to 2022)"
    }

    fn discover(request: &str) -> Result<String, Error> {
        discover::run(request)
    }

    fn collect(request: &str) -> Result<String, Error> {
        sqlmig_plugin_sdk::collect::run(request)
    }
}

export_platform!(PlatformOnprem);
