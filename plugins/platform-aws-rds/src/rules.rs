//! RDS's own rules, over the inventory's `aws-rds` instances: what blocks or slows leaving RDS
//! for Managed Instance that only RDS's description shows.
//!
//! - `RdsNativeBackupDisabled` (issue): the option group has no `SQLSERVER_BACKUP_RESTORE`, so
//!   RDS takes no native backup — sqlmig's route (and any other) is closed until it is added.
//! - `RdsTdeCertificate` (issue): a database encrypted with TDE restores on MI only once its
//!   certificate is there; RDS keeps the certificate, exportable with
//!   `msdb.dbo.rds_backup_tde_certificate`.
//! - `RdsStorageTooLarge` (issue): more storage allocated than a Managed Instance holds (16 TB).
//! - `RdsMagneticStorage` (warning): magnetic storage (`standard`) reads slowly: the full backup
//!   of a large database takes long.

use serde::Deserialize;
use sqlmig_plugin_sdk::protocol::{Database, Instance};
use sqlmig_plugin_sdk::{Error, Finding, FindingLevel, FindingScope, parse_document};

use crate::discover::SERVICE;

/// RDS's guide to native backup and restore.
const NATIVE_BACKUP: &str =
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/SQLServer.Procedural.Importing.html";
/// The largest storage a Managed Instance offers, GiB.
const MI_MAX_STORAGE_GIB: u64 = 16 * 1024;

#[derive(Deserialize)]
struct Inventory {
    #[serde(default)]
    instances: Vec<Instance>,
}

/// Runs RDS's rules over an inventory.
pub fn assess(inventory: &str) -> Result<Vec<Finding>, Error> {
    let inv: Inventory = parse_document(inventory, "inventory")?;
    let mut findings = Vec::new();
    for inst in inv.instances.iter().filter(|i| i.platform == SERVICE) {
        findings.extend(instance_rules(inst));
        for db in inst.databases.iter().filter(|d| d.is_user()) {
            if db.features.transparent_data_encryption {
                findings.push(tde(inst, db));
            }
        }
    }
    Ok(findings)
}

fn finding(inst: &Instance, id: &str, level: FindingLevel, title: &str) -> Finding {
    Finding {
        rule_id: id.into(),
        level,
        scope: FindingScope::Instance,
        instance: inst.name.clone(),
        database: None,
        object: None,
        file: None,
        line: None,
        title: title.into(),
        message: String::new(),
        impact: String::new(),
        remediation: String::new(),
        help_url: Some(NATIVE_BACKUP.into()),
    }
}

fn instance_rules(inst: &Instance) -> Vec<Finding> {
    let Some(cloud) = &inst.cloud else {
        return Vec::new();
    };
    let property = |k: &str| cloud.properties.get(k).map(String::as_str);
    let mut out = Vec::new();
    if property("SQLSERVER_BACKUP_RESTORE") == Some("false") {
        let mut f = finding(
            inst,
            "RdsNativeBackupDisabled",
            FindingLevel::Issue,
            "Native backup and restore is not enabled",
        );
        f.message = format!(
            "{}'s option group ({}) has no SQLSERVER_BACKUP_RESTORE option",
            cloud.id,
            property("OptionGroupName").unwrap_or("default")
        );
        f.impact = "RDS refuses msdb.dbo.rds_backup_database: no native backup reaches S3, so \
                    neither an offline nor an online migration can start."
            .into();
        f.remediation = "Create an option group with SQLSERVER_BACKUP_RESTORE (and an IAM role \
                         that may write the bucket), apply it to the instance, then plan with \
                         --source-option s3_bucket=NAME."
            .into();
        out.push(f);
    }
    let storage: Option<u64> = property("AllocatedStorage").and_then(|s| s.parse().ok());
    if let Some(gib) = storage.filter(|g| *g > MI_MAX_STORAGE_GIB) {
        let mut f = finding(
            inst,
            "RdsStorageTooLarge",
            FindingLevel::Issue,
            "More storage than a Managed Instance holds",
        );
        f.message = format!(
            "{} has {gib} GiB allocated; a Managed Instance holds at most {MI_MAX_STORAGE_GIB} GiB",
            cloud.id
        );
        f.impact =
            "If the databases fill what is allocated they do not fit one Managed Instance.".into();
        f.remediation = "Compare the databases' used size with the limit (sqlmig sku recommend); \
                         split them over instances or archive data first."
            .into();
        out.push(f);
    }
    if property("StorageType") == Some("standard") {
        let mut f = finding(
            inst,
            "RdsMagneticStorage",
            FindingLevel::Warning,
            "Magnetic storage slows the full backup",
        );
        f.message = format!("{} runs on magnetic (standard) storage", cloud.id);
        f.impact = "The native full backup reads every page at magnetic storage's rate: plan a \
                    longer backup window, or an online migration."
            .into();
        f.remediation = "Move the instance to gp3 before the migration, or migrate online so the \
                         full backup's duration is not downtime."
            .into();
        out.push(f);
    }
    out
}

fn tde(inst: &Instance, db: &Database) -> Finding {
    let mut f = finding(
        inst,
        "RdsTdeCertificate",
        FindingLevel::Issue,
        "TDE certificate must reach the Managed Instance",
    );
    f.scope = FindingScope::Database;
    f.database = Some(db.name.clone());
    f.message = format!(
        "{} is encrypted with transparent data encryption on RDS",
        db.name
    );
    f.impact = "Its backup restores on MI only once the certificate protecting it is there; RDS \
                holds the certificate."
        .into();
    f.remediation = "Export it with msdb.dbo.rds_backup_tde_certificate to S3, then upload it to \
                     the Managed Instance (Add-AzSqlManagedInstanceTransparentDataEncryptionCertificate) \
                     before the restore."
        .into();
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rds_instances_are_checked_and_others_left_alone() {
        let inv = serde_json::json!({
            "schema": "sqlmig.inventory/1",
            "instances": [
                {"name": "sales", "platform": "aws-rds",
                 "cloud": {"service": "aws-rds", "id": "sales", "properties": {
                     "SQLSERVER_BACKUP_RESTORE": "false", "OptionGroupName": "og1",
                     "AllocatedStorage": "20000", "StorageType": "standard"}},
                 "databases": [{"name": "Sales", "database_id": 5, "compatibility_level": 150,
                     "features": {"transparent_data_encryption": true}}]},
                {"name": "SQL01", "platform": "onprem",
                 "databases": [{"name": "HR", "database_id": 5, "compatibility_level": 150,
                     "features": {"transparent_data_encryption": true}}]}
            ]
        });
        let f = assess(&inv.to_string()).unwrap();
        let ids: Vec<&str> = f.iter().map(|f| f.rule_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "RdsNativeBackupDisabled",
                "RdsStorageTooLarge",
                "RdsMagneticStorage",
                "RdsTdeCertificate"
            ]
        );
        assert!(f[0].message.contains("og1"));
        assert_eq!(f[3].database.as_deref(), Some("Sales"));
        assert!(f.iter().all(|x| x.instance == "sales"));
    }
}
