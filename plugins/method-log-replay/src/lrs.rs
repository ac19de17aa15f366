//! The Log Replay Service's status and completion, through Azure Resource Manager.

use serde_json::{Value, json};
use sqlmig_plugin_sdk::http::{self, Request};
use sqlmig_plugin_sdk::{Error, invalid_input};

/// The API version of `Microsoft.Sql/managedInstances/databases`.
pub const API_VERSION: &str = "2023-08-01";

fn call(method: &str, url: &str, body: Option<Value>) -> Result<Value, Error> {
    let resp = http::send(&Request {
        method: method.into(),
        url: url.into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
    })?;
    let value: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    match resp.status {
        200..=299 => Ok(value),
        // Throttling and the service's own trouble: worth trying again.
        429 | 500..=599 => Err(Error::Unavailable(format!(
            "{method} {url}: HTTP {}: {value}",
            resp.status
        ))),
        s => Err(invalid_input(format!(
            "{method} {url}: HTTP {s}: {}",
            value["error"]["message"]
                .as_str()
                .unwrap_or(&value.to_string())
        ))),
    }
}

/// Where the restore of the database at `database_url` stands (restoreDetails `properties`).
pub fn details(database_url: &str) -> Result<Value, Error> {
    let v = call(
        "GET",
        &format!("{database_url}/restoreDetails/Default?api-version={API_VERSION}"),
        None,
    )?;
    Ok(v["properties"].clone())
}

/// Tells LRS that `last_backup_name` (a file name in the folder) is the last one to restore.
pub fn complete(database_url: &str, last_backup_name: &str) -> Result<(), Error> {
    call(
        "POST",
        &format!("{database_url}/completeRestore?api-version={API_VERSION}"),
        Some(json!({ "lastBackupName": last_backup_name })),
    )
    .map(|_| ())
}
