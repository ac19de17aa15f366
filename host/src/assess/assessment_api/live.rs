//! Running the rules' T-SQL probes on live servers, into the same captured-results form
//! `--probe-results` reads (so a live run can be saved and assessed again offline).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Map, Value};
use sqlmig_protocol::{CollectionStatus, Instance, Inventory};

use super::target::Subject;
use super::{ProbeCall, ProbeResults, Rulesets};
use crate::capabilities::sql::{Param, SqlValue};
use crate::discover::LoginSettings;
use crate::sqlserver::params::number_params;
use crate::sqlserver::values::{bind, from_column};

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
        let target_name = database.unwrap_or(&inst.name);
        for probe in needed_queries(rulesets, subject, target_name) {
            let rows = match (client.as_mut(), probe.work) {
                (None, _) => error_rows("the server could not be reached"),
                (
                    Some(c),
                    Work::Sql {
                        queries,
                        use_database,
                        params,
                    },
                ) => {
                    let mut rows = Vec::new();
                    let mut failed = None;
                    for query in queries {
                        let batch = match (database, use_database) {
                            (Some(db), true) => {
                                format!("USE [{}];\n{query}", db.replace(']', "]]"))
                            }
                            _ => query,
                        };
                        match run(c, &batch, &params).await {
                            Ok(Value::Array(more)) => rows.extend(more),
                            Ok(_) => {}
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    match failed {
                        Some(e) => error_rows(&e),
                        None => Value::Array(rows),
                    }
                }
                (
                    Some(c),
                    Work::Counters {
                        samples,
                        interval,
                        counters,
                    },
                ) => sample_counters(c, samples, interval, &counters)
                    .await
                    .unwrap_or_else(|e| error_rows(&e)),
            };
            rows_by_probe.insert(probe.key, rows);
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

/// One probe run: where its rows go and what to run.
struct ProbeRun {
    key: String,
    work: Work,
}

enum Work {
    /// T-SQL batches (a probe may split its work into several; their rows add up) with their
    /// parameters.
    Sql {
        queries: Vec<String>,
        use_database: bool,
        params: Vec<Param>,
    },
    /// Performance counters sampled `samples` times, `interval` apart; (object, counter,
    /// alias) name the ones the probe reads.
    Counters {
        samples: u32,
        interval: Duration,
        counters: Vec<(String, String, String)>,
    },
}

/// SQL Server's performance counters, as Performance probes read them.
const COUNTERS_QUERY: &str = "SELECT RTRIM(object_name) AS object_name, RTRIM(counter_name) AS counter_name, \
     RTRIM(instance_name) AS instance_name, cntr_value, cntr_type FROM sys.dm_os_performance_counters";

/// The T-SQL probe runs the rules for `s` need, once per probe and parameters. `@TargetName`,
/// which Microsoft's probes read as the database (or server) assessed, is passed where used.
fn needed_queries(rulesets: &Rulesets, s: &Subject, target_name: &str) -> Vec<ProbeRun> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for rule in rulesets.effective_rules(s) {
        for probe in rule
            .get("probes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            // A call that cannot be made is reported when its rule is evaluated.
            let Ok(call) = ProbeCall::of(probe, &rule) else {
                continue;
            };
            if !seen.insert(call.key.clone()) {
                continue;
            }
            let Ok(p) = rulesets.probe_for(&call.name, s) else {
                continue;
            };
            if p["type"] == "Performance" {
                out.push(ProbeRun {
                    key: call.key,
                    work: counters_work(&p["implementation"]),
                });
                continue;
            }
            let queries: Vec<String> = match &p["implementation"]["query"] {
                Value::String(q) => vec![q.clone()],
                Value::Array(qs) => qs
                    .iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect(),
                _ => continue,
            };
            let Ok(mut params) = call
                .params
                .iter()
                .map(|(k, v)| param(k, v))
                .collect::<Result<Vec<_>, _>>()
            else {
                continue;
            };
            if queries.iter().any(|q| mentions(q, "TargetName"))
                && !params
                    .iter()
                    .any(|p| p.name.eq_ignore_ascii_case("TargetName"))
            {
                params.push(Param {
                    name: "TargetName".into(),
                    value: SqlValue::Text(target_name.to_string()),
                });
            }
            out.push(ProbeRun {
                key: call.key,
                work: Work::Sql {
                    queries,
                    use_database: p["implementation"]["useDatabase"]
                        .as_bool()
                        .unwrap_or(false),
                    params,
                },
            });
        }
    }
    out
}

/// A Performance probe's sampling: its `NumberOfSamples`, `Interval` (seconds) and `Counters`
/// (object → counter → alias).
fn counters_work(implementation: &Value) -> Work {
    let mut counters = Vec::new();
    for (object, names) in implementation["Counters"].as_object().into_iter().flatten() {
        for (counter, alias) in names.as_object().into_iter().flatten() {
            if let Some(alias) = alias.as_str() {
                counters.push((object.clone(), counter.clone(), alias.to_string()));
            }
        }
    }
    Work::Counters {
        samples: implementation["NumberOfSamples"]
            .as_u64()
            .unwrap_or(2)
            .clamp(1, 60) as u32,
        interval: Duration::from_secs(implementation["Interval"].as_u64().unwrap_or(15).min(600)),
        counters,
    }
}

/// Samples the counters: one row per sample and counter instance the probe names, with the
/// seconds since the first sample (rates are computed from them by the `performance` transform).
async fn sample_counters(
    client: &mut crate::sqlserver::endpoint::SqlClient,
    samples: u32,
    interval: Duration,
    counters: &[(String, String, String)],
) -> Result<Value, String> {
    let started = std::time::Instant::now();
    let mut out = Vec::new();
    for k in 0..samples {
        if k > 0 {
            tokio::time::sleep(interval).await;
        }
        let seconds = started.elapsed().as_secs_f64();
        let rows = run(client, COUNTERS_QUERY, &[]).await?;
        for r in rows.as_array().into_iter().flatten() {
            let text = |c: &str| r[c].as_str().unwrap_or("").trim().to_string();
            let Some(alias) = counter_alias(counters, &text("object_name"), &text("counter_name"))
            else {
                continue;
            };
            out.push(serde_json::json!({
                "sample": k,
                "seconds": seconds,
                "counter": alias,
                "instance": text("instance_name"),
                "value": r["cntr_value"],
                "type": r["cntr_type"],
            }));
        }
    }
    Ok(Value::Array(out))
}

/// The alias a probe gives counter `counter` of `object` (`MSSQL$X:Buffer Manager` matches
/// `Buffer Manager`; `Lazy writes` names `Lazy writes/sec`).
fn counter_alias<'c>(
    counters: &'c [(String, String, String)],
    object: &str,
    counter: &str,
) -> Option<&'c str> {
    let object = object.rsplit_once(':').map_or(object, |(_, o)| o);
    let named = |(o, _, _): &&(String, String, String)| o.eq_ignore_ascii_case(object);
    counters
        .iter()
        .filter(named)
        .find(|(_, c, _)| c.eq_ignore_ascii_case(counter))
        .or_else(|| {
            counters.iter().filter(named).find(|(_, c, _)| {
                counter
                    .to_ascii_lowercase()
                    .strip_prefix(&c.to_ascii_lowercase())
                    == Some("/sec")
            })
        })
        .map(|(_, _, alias)| alias.as_str())
}

/// Whether `query` reads variable `@name` without declaring it.
fn mentions(query: &str, name: &str) -> bool {
    let lower = query.to_lowercase();
    let var = format!("@{}", name.to_lowercase());
    let used = lower.match_indices(&var).any(|(i, _)| {
        !lower[i + var.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
    });
    used && !lower.contains(&format!("declare {var}"))
}

/// A rule's parameter value as a T-SQL parameter.
fn param(name: &str, v: &Value) -> Result<Param, ()> {
    let value = match v {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Bit(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Int(i),
            None => SqlValue::Float(n.as_f64().ok_or(())?),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        _ => return Err(()),
    };
    Ok(Param {
        name: name.to_string(),
        value,
    })
}

fn error_rows(e: &str) -> Value {
    serde_json::json!({ "error": e })
}

/// Runs a probe batch; the rows of its last result set as JSON objects.
async fn run(
    client: &mut crate::sqlserver::endpoint::SqlClient,
    batch: &str,
    params: &[Param],
) -> Result<Value, String> {
    let query = async {
        let stream = if params.is_empty() {
            client.simple_query(batch).await
        } else {
            // Parameters go as sp_executesql's, as Microsoft's API passes them.
            let numbered = number_params(batch, params).map_err(|e| e.to_string())?;
            let mut q = tiberius::Query::new(numbered);
            for p in params {
                bind(&mut q, &p.name, &p.value).map_err(|e| e.to_string())?;
            }
            q.query(client).await
        };
        let results = stream
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_matched_by_object_and_name() {
        let counters = vec![
            (
                "Buffer Manager".to_string(),
                "Lazy writes".to_string(),
                "lazy".to_string(),
            ),
            (
                "Buffer Manager".to_string(),
                "Page life expectancy".to_string(),
                "ple".to_string(),
            ),
        ];
        assert_eq!(
            counter_alias(
                &counters,
                "MSSQL$SALES:Buffer Manager",
                "Page life expectancy"
            ),
            Some("ple")
        );
        assert_eq!(
            counter_alias(&counters, "SQLServer:Buffer Manager", "Lazy writes/sec"),
            Some("lazy"),
            "the /sec the probe leaves out"
        );
        assert_eq!(
            counter_alias(&counters, "SQLServer:Locks", "Lazy writes/sec"),
            None
        );
        assert_eq!(
            counter_alias(&counters, "SQLServer:Buffer Manager", "Lazy"),
            None
        );
    }

    #[test]
    fn target_name_is_passed_where_a_probe_reads_it() {
        assert!(mentions("SELECT 1 WHERE name = @TargetName", "TargetName"));
        assert!(mentions("DBCC LOGINFO (@targetname)", "TargetName"));
        assert!(!mentions("SELECT @TargetNameX", "TargetName"));
        assert!(!mentions(
            "DECLARE @targetname sysname = 'x'; SELECT @targetname",
            "TargetName"
        ));
    }
}
