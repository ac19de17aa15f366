//! Collecting an RDS instance: the catalog snapshot every platform takes, then RDS's own:
//! `rdsadmin` (RDS's administration database, which never moves) set aside, and what the RDS API
//! says of the instance kept — option group with or without `SQLSERVER_BACKUP_RESTORE`,
//! storage, encryption — for the rules and the migration's backup route.

use sqlmig_plugin_sdk::protocol::Instance;
use sqlmig_plugin_sdk::protocol::discovery::CollectRequest;
use sqlmig_plugin_sdk::{Error, collect, log};

use crate::aws::{Aws, child_text};

/// RDS's administration database: present on every instance, never the customer's.
const RDSADMIN: &str = "rdsadmin";

/// Runs a collect request.
pub fn run(request: &str) -> Result<String, Error> {
    collect::run_with(request, rds_specifics)
}

fn rds_specifics(req: &CollectRequest, mut inst: Instance) -> Result<Instance, Error> {
    inst.databases
        .retain(|d| !d.name.eq_ignore_ascii_case(RDSADMIN));
    inst.cloud = req.instance.cloud.clone().or(inst.cloud);
    let Some(cloud) = inst.cloud.as_mut() else {
        return Ok(inst);
    };
    cloud
        .properties
        .insert("admin_database".into(), RDSADMIN.into());
    // Whether native backups are possible decides the backup route; a failed look-up is noted,
    // not fatal: the snapshot is still worth having.
    if let Some(groups) = cloud.properties.get("OptionGroupName").cloned() {
        match native_backup_option(&groups) {
            Ok(has) => {
                cloud
                    .properties
                    .insert("SQLSERVER_BACKUP_RESTORE".into(), has.to_string());
            }
            Err(e) => log::warn(&format!(
                "{}: cannot read option group {groups}: {e:?}",
                inst.name
            )),
        }
    }
    Ok(inst)
}

/// Whether one of the option groups carries `SQLSERVER_BACKUP_RESTORE`.
pub fn native_backup_option(groups: &str) -> Result<bool, Error> {
    let aws = Aws::from_operator()?;
    for group in groups.split(',').filter(|g| !g.starts_with("default:")) {
        let xml = aws.rds(
            "DescribeOptionGroups",
            &[("OptionGroupName", group.to_string())],
        )?;
        let doc = roxmltree::Document::parse(&xml).map_err(|e| {
            Error::Unavailable(format!(
                "RDS DescribeOptionGroups answered malformed XML: {e}"
            ))
        })?;
        if doc
            .descendants()
            .filter(|n| n.has_tag_name("Option"))
            .any(|o| child_text(o, "OptionName") == Some("SQLSERVER_BACKUP_RESTORE"))
        {
            return Ok(true);
        }
    }
    Ok(false)
}
