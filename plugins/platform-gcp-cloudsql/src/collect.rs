//! Collecting a Cloud SQL instance: the catalog snapshot every platform takes, then Cloud SQL's
//! own: its administration database set aside, and what the Admin API said of the instance
//! (tier, disk, database flags) kept for the rules.

use sqlmig_plugin_sdk::protocol::Instance;
use sqlmig_plugin_sdk::protocol::discovery::CollectRequest;
use sqlmig_plugin_sdk::{Error, collect};

/// Cloud SQL's administration database, where an instance has one: never the customer's.
const ADMIN_DATABASE: &str = "cloudsqladmin";

/// Runs a collect request.
pub fn run(request: &str) -> Result<String, Error> {
    collect::run_with(request, cloudsql_specifics)
}

fn cloudsql_specifics(req: &CollectRequest, mut inst: Instance) -> Result<Instance, Error> {
    inst.databases
        .retain(|d| !d.name.eq_ignore_ascii_case(ADMIN_DATABASE));
    inst.cloud = req.instance.cloud.clone().or(inst.cloud);
    if let Some(cloud) = inst.cloud.as_mut() {
        cloud
            .properties
            .insert("admin_database".into(), ADMIN_DATABASE.into());
    }
    Ok(inst)
}
