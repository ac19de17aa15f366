//! Running the rules' T-SQL probes on live servers, into the same captured-results form
//! `--probe-results` reads (so a live run can be saved and assessed again offline).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Map, Value};
use sqlmig_inventory::{CollectionStatus, Instance, Inventory};

use super::target::Subject;
use super::{ProbeResults, Rulesets};
use crate::capabilities::sql::SqlValue;
use crate::discover::LoginSettings;
use crate::sqlserver::values::from_column;

/// How long one probe query may run.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs every T-SQL probe the enabled rules need on each collected instance of `inventory`.
/// A probe that fails is recorded as `{"error": …}`, so its rules are listed as not run.
pub async fn capture(
    rulesets: &Rulesets,
    inventory: &Inventory,
    login: &LoginSettings,
) -> ProbeResults {
    let mut out = ProbeResults::new();
    for inst in inventory
        .instances
        .iter()
        .filter(|i| i.status != CollectionStatus::Failed)
    {
        out.insert(
            inst.name.clone(),
            Value::Object(capture_instance(rulesets, inst, login).await),
        );
    }
    out
}

async fn capture_instance(
    rulesets: &Rulesets,
    inst: &Instance,
    login: &LoginSettings,
) -> Map<String, Value> {
    let mut result = Map::new();
    let Some(subjects) = super::subjects(inst) else {
        return result;
    };
    let mut client = match login.endpoint(&inst.address).connect().await {
        Ok(c) => Some(c),
        Err(e) => {
            result.insert("error".into(), Value::from(e.to_string()));
            None
        }
    };
    let mut databases = Map::new();
    for (subject, database) in &subjects {
        let mut rows_by_probe = Map::new();
        for (name, query, use_database) in needed_queries(rulesets, subject) {
            let rows = match client.as_mut() {
                None => error_rows("the server could not be reached"),
                Some(c) => {
                    let batch = match (database, use_database) {
                        (Some(db), true) => format!("USE [{}];\n{query}", db.replace(']', "]]")),
                        _ => query,
                    };
                    run(c, &batch).await.unwrap_or_else(|e| error_rows(&e))
                }
            };
            rows_by_probe.insert(name, rows);
        }
        match database {
            Some(db) => {
                databases.insert(db.to_string(), Value::Object(rows_by_probe));
            }
            None => {
                result.insert("server".into(), Value::Object(rows_by_probe));
            }
        }
    }
    result.insert("databases".into(), Value::Object(databases));
    result
}

/// The T-SQL probes (name, query, whether it runs in the database) the rules for `s` use.
fn needed_queries(rulesets: &Rulesets, s: &Subject) -> Vec<(String, String, bool)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for rule in rulesets.effective_rules(s) {
        for probe in rule
            .get("probes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = match probe {
                Value::String(n) => n.as_str(),
                Value::Object(o) if !o.contains_key("params") => {
                    o.get("id").and_then(Value::as_str).unwrap_or("")
                }
                // Probes with parameters are not run yet; their rules are listed as not run.
                _ => continue,
            };
            if !seen.insert(name.to_string()) {
                continue;
            }
            if let Ok(p) = rulesets.probe_for(name, s)
                && let Some(query) = p["implementation"]["query"].as_str()
            {
                let use_database = p["implementation"]["useDatabase"]
                    .as_bool()
                    .unwrap_or(false);
                out.push((name.to_string(), query.to_string(), use_database));
            }
        }
    }
    out
}

fn error_rows(e: &str) -> Value {
    serde_json::json!({ "error": e })
}

/// Runs a probe batch; the rows of its last result set as JSON objects.
async fn run(
    client: &mut crate::sqlserver::endpoint::SqlClient,
    batch: &str,
) -> Result<Value, String> {
    let query = async {
        let results = client
            .simple_query(batch)
            .await
            .map_err(|e| e.to_string())?
            .into_results()
            .await
            .map_err(|e| e.to_string())?;
        let last = results
            .into_iter()
            .rev()
            .find(|rs| !rs.is_empty())
            .unwrap_or_default();
        let mut rows = Vec::new();
        for row in last {
            let columns: Vec<(String, tiberius::ColumnType)> = row
                .columns()
                .iter()
                .map(|c| (c.name().to_string(), c.column_type()))
                .collect();
            let mut obj = Map::new();
            for ((name, ty), data) in columns.into_iter().zip(row) {
                let v = from_column(&data, ty).map_err(|e| e.to_string())?;
                obj.insert(name, json(v));
            }
            rows.push(Value::Object(obj));
        }
        Ok::<Value, String>(Value::Array(rows))
    };
    tokio::time::timeout(PROBE_TIMEOUT, query)
        .await
        .map_err(|_| format!("the probe ran longer than {PROBE_TIMEOUT:?}"))?
}

fn json(v: SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Bit(b) => Value::Bool(b),
        SqlValue::Int(i) => Value::from(i),
        SqlValue::Float(f) => Value::from(f),
        SqlValue::Decimal(d) => d.parse::<f64>().map_or(Value::from(d), Value::from),
        SqlValue::Text(s) | SqlValue::DateTime(s) | SqlValue::Guid(s) => Value::from(s),
        SqlValue::Binary(b) => {
            Value::from(b.iter().map(|x| format!("{x:02X}")).collect::<String>())
        }
    }
}
