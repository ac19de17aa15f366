//! The Log Replay Service's status and completion, through Azure Resource Manager
//! (`Microsoft.Sql/stable/2023-08-01`: ManagedDatabaseRestoreDetails.json, ManagedDatabases.json).

use serde_json::{Value, json};
use sqlmig_plugin_sdk::http::{self, Request};
use sqlmig_plugin_sdk::{Error, invalid_input};

use sqlmig_plugin_sdk::protocol::migration::arm;

/// An ARM error answer: its HTTP status and `error.code`.
struct Refusal {
    status: u16,
    code: String,
    message: String,
}

fn call(method: &str, url: &str, body: Option<Value>) -> Result<Result<Value, Refusal>, Error> {
    let resp = http::send(&Request {
        method: method.into(),
        url: url.into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
    })?;
    let value: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    match resp.status {
        200..=299 => Ok(Ok(value)),
        // Throttling and the service's own trouble: worth trying again.
        429 | 500..=599 => Err(Error::Unavailable(format!(
            "{method} {url}: HTTP {}: {value}",
            resp.status
        ))),
        status => Ok(Err(Refusal {
            status,
            code: value["error"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            message: value["error"]["message"]
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string),
        })),
    }
}

fn refused(method: &str, url: &str, r: Refusal) -> Error {
    invalid_input(format!(
        "{method} {url}: HTTP {} {}: {}",
        r.status, r.code, r.message
    ))
}

/// Where the restore of a database stands.
pub enum Details {
    /// Still restoring: restoreDetails' `properties` (status, lastRestoredFileName, …).
    Restoring(Value),
    /// No longer restoring — completed, online: the API answers restoreDetails with
    /// `ManagedDatabaseNotInRestoringState`.
    NotRestoring,
}

/// Where the restore of the database at `database_url` stands.
pub fn details(database_url: &str) -> Result<Details, Error> {
    let url = arm::restore_details(database_url);
    match call("GET", &url, None)? {
        Ok(v) => Ok(Details::Restoring(v["properties"].clone())),
        Err(r) if r.code == "ManagedDatabaseNotInRestoringState" => Ok(Details::NotRestoring),
        Err(r) => Err(refused("GET", &url, r)),
    }
}

/// How LRS answered a completion.
pub enum Completion {
    /// It restores nothing more and brings the database online.
    Accepted,
    /// An earlier request (a run before a crash) asked already.
    AlreadyAsked,
    /// The database is no longer restoring: an earlier request completed it.
    NotRestoring,
    /// The file named is not the last one restored (yet): `RequiredBackupIsNotLastRestored`.
    NotLastRestored,
}

/// Tells LRS that `last_backup_name` (a file name in the folder), which it has restored last,
/// is the last one to restore.
pub fn complete(database_url: &str, last_backup_name: &str) -> Result<Completion, Error> {
    let url = arm::complete_restore(database_url);
    match call(
        "POST",
        &url,
        Some(json!({ "lastBackupName": last_backup_name })),
    )? {
        Ok(_) => Ok(Completion::Accepted),
        Err(r) => match r.code.as_str() {
            "ExternalBackupAlreadySignaledToComplete" => Ok(Completion::AlreadyAsked),
            "ManagedDatabaseNotInRestoringState" => Ok(Completion::NotRestoring),
            "RequiredBackupIsNotLastRestored" => Ok(Completion::NotLastRestored),
            _ => Err(refused("POST", &url, r)),
        },
    }
}

/// Whether restoreDetails' `lastRestoredFileName` names `file` (a name in the folder; the
/// service may report it with the folder in front).
pub fn restored_last(properties: &Value, file: &str) -> bool {
    properties["lastRestoredFileName"]
        .as_str()
        .is_some_and(|r| r == file || r.ends_with(&format!("/{file}")))
}

/// Whether LRS lists `file` among the files it cannot restore (`unrestorableFiles`).
pub fn unrestorable(properties: &Value, file: &str) -> bool {
    properties["unrestorableFiles"].as_array().is_some_and(|a| {
        a.iter().any(|f| {
            // A name in 2023-08-01; `{name}` objects in later previews.
            let name = f
                .as_str()
                .or_else(|| f["name"].as_str())
                .unwrap_or_default();
            name == file || name.ends_with(&format!("/{file}"))
        })
    })
}
