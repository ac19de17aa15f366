//! Every rule of the pack over an inventory, family by family: `storage`, `backups`, `security`,
//! `agent`, `connectivity`, `server_config`, `syntax` (each holds its rules, the checks of the
//! inventory's catalog and the checks of T-SQL text that raise them), then the T-SQL the
//! instance holds (`text_sources`).

use sqlmig_plugin_sdk::Finding;
use sqlmig_plugin_sdk::protocol::Inventory;

use crate::limits::Target;
use crate::{agent, backups, connectivity, security, server_config, storage, syntax, text_sources};

/// Every rule over every instance of `inv`, for `target`.
pub fn run_all(inv: &Inventory, target: &Target) -> Vec<Finding> {
    let mut out = Vec::new();
    for inst in &inv.instances {
        storage::too_many_databases(inst, target, &mut out);
        agent::job_steps(inst, &mut out);
        security::windows_logins(inst, &mut out);
        connectivity::linked_servers(inst, &mut out);
        server_config::trace_flags(inst, &mut out);
        storage::instance_size(inst, target, &mut out);
        storage::instance_files(inst, target, &mut out);
        for db in inst.databases.iter().filter(|d| d.is_user()) {
            syntax::compat_level_lower_than_100(inst, db, &mut out);
            storage::multiple_log_files(inst, db, &mut out);
            storage::filestream(inst, db, &mut out);
            storage::database_size(inst, db, target, &mut out);
            security::unsigned_assemblies(inst, db, &mut out);
            connectivity::broker_routes(inst, db, &mut out);
            syntax::next_named(inst, db, &mut out);
            backups::database(inst, db, &mut out);
            security::database(inst, db, &mut out);
            server_config::database(inst, db, target, &mut out);
            storage::database_files(inst, db, target, &mut out);
        }
        agent::instance(inst, &mut out);
        security::instance(inst, &mut out);
        server_config::instance(inst, &mut out);
        connectivity::instance(inst, &mut out);
        storage::tempdb(inst, target, &mut out);
        text_sources::run(inst, target, &mut out);
        for db in inst.databases.iter().filter(|d| d.is_user()) {
            syntax::recommend_compatibility_level(inst, db, target, &mut out);
        }
    }
    out
}
