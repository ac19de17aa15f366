//! Listing Cloud SQL's SQL Server instances: `instances.list` page by page (`pageToken`), SQL
//! Server versions only, each instance's address and its Cloud SQL description kept for
//! collection and the rules.

use std::collections::BTreeMap;

use serde_json::Value;
use sqlmig_plugin_sdk::protocol::discovery::{DiscoverResponse, FoundInstance};
use sqlmig_plugin_sdk::protocol::{Address, CloudResource, Confidence};
use sqlmig_plugin_sdk::{Error, log};

use crate::gcp::Gcp;

/// The platform's name in inventories and cloud descriptions.
pub const SERVICE: &str = "gcp-cloudsql";

/// Runs a discover request (the request's scan targets do not apply to a cloud's API).
pub fn run(_request: &str) -> Result<String, Error> {
    let gcp = Gcp::from_operator()?;
    let found = list(&gcp)?;
    log::info(&format!(
        "Cloud SQL in project {} lists {} SQL Server instance{}",
        gcp.project,
        found.len(),
        if found.len() == 1 { "" } else { "s" }
    ));
    Ok(serde_json::to_string(&DiscoverResponse { instances: found }).expect("serializes"))
}

/// Every SQL Server instance `instances.list` lists, page by page.
pub fn list(gcp: &Gcp) -> Result<Vec<FoundInstance>, Error> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut url = format!(
            "{}v1/projects/{}/instances?maxResults=100",
            gcp.sqladmin, gcp.project
        );
        if let Some(t) = &token {
            url.push_str(&format!("&pageToken={t}"));
        }
        let page = gcp.get(&url, "Cloud SQL instances.list")?;
        for item in page["items"].as_array().into_iter().flatten() {
            if item["databaseVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("SQLSERVER_"))
            {
                found.push(found_instance(item, &gcp.project));
            }
        }
        match page["nextPageToken"].as_str() {
            Some(t) if !t.is_empty() && Some(t) != token.as_deref() => token = Some(t.into()),
            _ => break,
        }
    }
    Ok(found)
}

/// `SQLSERVER_2019_STANDARD` → `15.0`, as SQL Server numbers its releases.
fn sql_server_version(database_version: &str) -> Option<String> {
    let year = database_version.split('_').nth(1)?;
    let major = match year {
        "2017" => 14,
        "2019" => 15,
        "2022" => 16,
        _ => return None,
    };
    Some(format!("{major}.0"))
}

fn found_instance(item: &Value, project: &str) -> FoundInstance {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let name = text(&item["name"]);
    let state = text(&item["state"]);
    let addresses: Vec<(String, String)> = item["ipAddresses"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| (text(&a["type"]), text(&a["ipAddress"])))
        .collect();
    // The public address when there is one, else the private one (reached from the VPC).
    let host = ["PRIMARY", "PRIVATE"]
        .iter()
        .find_map(|t| addresses.iter().find(|(k, _)| k == t))
        .map(|(_, ip)| ip.clone())
        .unwrap_or_default();
    let settings = &item["settings"];
    let mut properties = BTreeMap::new();
    for (key, value) in [
        ("tier", &settings["tier"]),
        ("edition", &settings["edition"]),
        ("availabilityType", &settings["availabilityType"]),
        ("dataDiskType", &settings["dataDiskType"]),
        ("dataDiskSizeGb", &settings["dataDiskSizeGb"]),
        (
            "databaseInstalledVersion",
            &item["databaseInstalledVersion"],
        ),
        ("connectionName", &item["connectionName"]),
        ("gceZone", &item["gceZone"]),
    ] {
        if let Some(v) = value.as_str() {
            properties.insert(key.to_string(), v.to_string());
        }
    }
    for (kind, ip) in &addresses {
        properties.insert(format!("ipAddress.{kind}"), ip.clone());
    }
    for flag in settings["databaseFlags"].as_array().into_iter().flatten() {
        properties.insert(
            format!("flag.{}", text(&flag["name"])),
            text(&flag["value"]),
        );
    }
    let error = if host.is_empty() {
        Some(format!(
            "Cloud SQL gives {name} no IP address (state {state}); discover again once it has one"
        ))
    } else if state != "RUNNABLE" {
        Some(format!(
            "Cloud SQL reports {name} as {state}; it can be collected once it is RUNNABLE"
        ))
    } else {
        None
    };
    let database_version = text(&item["databaseVersion"]);
    FoundInstance {
        name: name.clone(),
        address: Address {
            host,
            port: 1433,
            instance: None,
        },
        confidence: Confidence::Listed,
        version: sql_server_version(&database_version),
        error,
        cloud: Some(CloudResource {
            service: SERVICE.into(),
            id: name,
            region: format!("{project}/{}", text(&item["region"])),
            engine: database_version,
            engine_version: text(&item["databaseInstalledVersion"]),
            status: state,
            properties,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_server_instances_keep_their_address_and_flags() {
        let item = serde_json::json!({
            "name": "sales", "databaseVersion": "SQLSERVER_2019_STANDARD", "state": "RUNNABLE",
            "region": "europe-west1", "databaseInstalledVersion": "SQLSERVER_2019_STANDARD_CU16",
            "ipAddresses": [{"type": "PRIVATE", "ipAddress": "10.0.0.3"}, {"type": "PRIMARY", "ipAddress": "34.1.2.3"}],
            "settings": {"tier": "db-custom-4-26624", "databaseFlags": [{"name": "max degree of parallelism", "value": "4"}]}
        });
        let f = found_instance(&item, "acme");
        assert_eq!(f.address.host, "34.1.2.3");
        assert_eq!(f.version.as_deref(), Some("15.0"));
        assert_eq!(f.error, None);
        let c = f.cloud.unwrap();
        assert_eq!(c.region, "acme/europe-west1");
        assert_eq!(c.properties["flag.max degree of parallelism"], "4");
        assert_eq!(c.properties["ipAddress.PRIVATE"], "10.0.0.3");
        let stopped = serde_json::json!({"name": "x", "databaseVersion": "SQLSERVER_2022_EXPRESS", "state": "SUSPENDED",
            "ipAddresses": [{"type": "PRIVATE", "ipAddress": "10.0.0.4"}]});
        let f = found_instance(&stopped, "acme");
        assert_eq!(f.address.host, "10.0.0.4");
        assert!(f.error.unwrap().contains("SUSPENDED"));
    }
}
