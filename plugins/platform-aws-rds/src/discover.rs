//! Listing RDS's SQL Server instances: DescribeDBInstances page by page (Marker), SQL Server
//! engines only, each instance's endpoint as its address and its RDS description kept for
//! collection and the rules.

use std::collections::BTreeMap;

use sqlmig_plugin_sdk::protocol::discovery::{DiscoverResponse, FoundInstance};
use sqlmig_plugin_sdk::protocol::{Address, CloudResource, Confidence};
use sqlmig_plugin_sdk::{Error, log};

use crate::aws::{Aws, child_text};

/// The platform's name in inventories and cloud descriptions.
pub const SERVICE: &str = "aws-rds";

/// Runs a discover request (the request's scan targets do not apply to a cloud's API).
pub fn run(_request: &str) -> Result<String, Error> {
    let aws = Aws::from_operator()?;
    let found = list(&aws)?;
    log::info(&format!(
        "RDS in {} lists {} SQL Server instance{}",
        aws.region,
        found.len(),
        if found.len() == 1 { "" } else { "s" }
    ));
    Ok(serde_json::to_string(&DiscoverResponse { instances: found }).expect("serializes"))
}

/// Every SQL Server instance DescribeDBInstances lists, page by page.
pub fn list(aws: &Aws) -> Result<Vec<FoundInstance>, Error> {
    let mut found = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut params = vec![("MaxRecords", "100".to_string())];
        if let Some(m) = &marker {
            params.push(("Marker", m.clone()));
        }
        let xml = aws.rds("DescribeDBInstances", &params)?;
        let page = parse_page(&xml, &aws.region)?;
        found.extend(page.instances);
        match page.marker {
            Some(m) if !m.is_empty() && Some(&m) != marker.as_ref() => marker = Some(m),
            _ => break,
        }
    }
    Ok(found)
}

/// One page of DescribeDBInstances: the SQL Server instances on it and the next page's marker.
struct Page {
    instances: Vec<FoundInstance>,
    marker: Option<String>,
}

fn parse_page(xml: &str, region: &str) -> Result<Page, Error> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| {
        Error::Unavailable(format!(
            "RDS DescribeDBInstances answered malformed XML: {e}"
        ))
    })?;
    let mut instances = Vec::new();
    for db in doc.descendants().filter(|n| n.has_tag_name("DBInstance")) {
        let engine = child_text(db, "Engine").unwrap_or_default();
        if !engine.starts_with("sqlserver-") {
            continue;
        }
        instances.push(found_instance(db, region));
    }
    let marker = doc
        .descendants()
        .find(|n| n.has_tag_name("Marker"))
        .and_then(|n| n.text())
        .map(str::to_string);
    Ok(Page { instances, marker })
}

/// RDS's `15.00.4345.5.v1` as SQL Server prints it: `15.0.4345.5`.
fn sql_server_version(engine_version: &str) -> Option<String> {
    let parts: Vec<u32> = engine_version
        .split('.')
        .map_while(|p| p.parse().ok())
        .collect();
    (parts.len() >= 3).then(|| {
        parts
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(".")
    })
}

fn found_instance(db: roxmltree::Node, region: &str) -> FoundInstance {
    let text = |name: &str| child_text(db, name).unwrap_or_default().to_string();
    let id = text("DBInstanceIdentifier");
    let status = text("DBInstanceStatus");
    let endpoint = db.children().find(|n| n.has_tag_name("Endpoint"));
    let host = endpoint
        .and_then(|e| child_text(e, "Address"))
        .unwrap_or_default()
        .to_string();
    let port = endpoint
        .and_then(|e| child_text(e, "Port"))
        .and_then(|p| p.parse().ok())
        .unwrap_or(1433);
    let mut properties = BTreeMap::new();
    for name in [
        "DBInstanceClass",
        "StorageType",
        "AllocatedStorage",
        "Iops",
        "StorageEncrypted",
        "KmsKeyId",
        "MultiAZ",
        "LicenseModel",
        "DBInstanceArn",
        "PubliclyAccessible",
        "BackupRetentionPeriod",
    ] {
        if let Some(v) = child_text(db, name) {
            properties.insert(name.to_string(), v.to_string());
        }
    }
    let groups = |list: &str, item: &str, name: &str| -> String {
        db.children()
            .filter(|n| n.has_tag_name(list))
            .flat_map(|l| l.children().filter(move |n| n.has_tag_name(item)))
            .filter_map(|g| child_text(g, name))
            .collect::<Vec<_>>()
            .join(",")
    };
    let options = groups(
        "OptionGroupMemberships",
        "OptionGroupMembership",
        "OptionGroupName",
    );
    if !options.is_empty() {
        properties.insert("OptionGroupName".into(), options);
    }
    let parameters = groups(
        "DBParameterGroups",
        "DBParameterGroup",
        "DBParameterGroupName",
    );
    if !parameters.is_empty() {
        properties.insert("DBParameterGroupName".into(), parameters);
    }
    let error = if host.is_empty() {
        Some(format!(
            "RDS gives {id} no endpoint yet (status {status}); discover again once it is available"
        ))
    } else if status != "available" {
        Some(format!(
            "RDS reports {id} as {status}; it can be collected once it is available"
        ))
    } else {
        None
    };
    let engine_version = text("EngineVersion");
    FoundInstance {
        name: id.clone(),
        address: Address {
            host,
            port,
            instance: None,
        },
        confidence: Confidence::Listed,
        version: sql_server_version(&engine_version),
        error,
        cloud: Some(CloudResource {
            service: SERVICE.into(),
            id,
            region: region.to_string(),
            engine: text("Engine"),
            engine_version,
            status,
            properties,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped as RDS answers (trimmed from its API reference's example).
    const PAGE: &str = r#"<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
  <DescribeDBInstancesResult>
    <Marker>next-page</Marker>
    <DBInstances>
      <DBInstance>
        <DBInstanceIdentifier>sales</DBInstanceIdentifier>
        <DBInstanceClass>db.m5.xlarge</DBInstanceClass>
        <Engine>sqlserver-se</Engine>
        <DBInstanceStatus>available</DBInstanceStatus>
        <Endpoint><Address>sales.abc.eu-west-1.rds.amazonaws.com</Address><Port>1433</Port></Endpoint>
        <EngineVersion>15.00.4345.5.v1</EngineVersion>
        <StorageType>gp3</StorageType>
        <StorageEncrypted>true</StorageEncrypted>
        <OptionGroupMemberships><OptionGroupMembership><OptionGroupName>sqlserver-backup</OptionGroupName><Status>in-sync</Status></OptionGroupMembership></OptionGroupMemberships>
        <DBParameterGroups><DBParameterGroup><DBParameterGroupName>default.sqlserver-se-15.0</DBParameterGroupName></DBParameterGroup></DBParameterGroups>
      </DBInstance>
      <DBInstance>
        <DBInstanceIdentifier>orders-pg</DBInstanceIdentifier>
        <Engine>postgres</Engine>
        <DBInstanceStatus>available</DBInstanceStatus>
      </DBInstance>
      <DBInstance>
        <DBInstanceIdentifier>new-one</DBInstanceIdentifier>
        <Engine>sqlserver-ex</Engine>
        <DBInstanceStatus>creating</DBInstanceStatus>
        <EngineVersion>16.00.4095.4.v1</EngineVersion>
      </DBInstance>
    </DBInstances>
  </DescribeDBInstancesResult>
</DescribeDBInstancesResponse>"#;

    #[test]
    fn sql_server_instances_are_kept_with_their_description() {
        let page = parse_page(PAGE, "eu-west-1").unwrap();
        assert_eq!(page.marker.as_deref(), Some("next-page"));
        let names: Vec<&str> = page.instances.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["sales", "new-one"]);
        let sales = &page.instances[0];
        assert_eq!(sales.address.host, "sales.abc.eu-west-1.rds.amazonaws.com");
        assert_eq!(sales.version.as_deref(), Some("15.0.4345.5"));
        assert_eq!(sales.error, None);
        let cloud = sales.cloud.as_ref().unwrap();
        assert_eq!(cloud.properties["OptionGroupName"], "sqlserver-backup");
        assert_eq!(cloud.properties["StorageEncrypted"], "true");
        assert_eq!(cloud.engine, "sqlserver-se");
        let new = &page.instances[1];
        assert!(
            new.error
                .as_ref()
                .unwrap()
                .contains("no endpoint yet (status creating)")
        );
    }
}
