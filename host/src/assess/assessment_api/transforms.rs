//! The transforms Microsoft's SQL Assessment API applies to a probe's rows before a rule's
//! condition reads them. A probe implementation may carry one (or a list, applied in order) and
//! a rule's probe reference may add more; the implementation's run first.

use std::cmp::Ordering;

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::condition::{number, text};

/// One probe row: column name → value.
pub type Row = Map<String, Value>;

/// A probe transform sqlmig cannot run.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    #[error("probe transform {0:?} is not one sqlmig runs yet")]
    UnknownTransform(String),
    #[error("aggregate {0:?} is not one sqlmig runs yet")]
    UnknownAggregate(String),
    #[error("parse: {spec:?} is not a pattern sqlmig can run: {error}")]
    BadPattern { spec: String, error: regex::Error },
}

/// `rows` after transform `t` (an object, or a list of them applied in order).
pub fn apply(rows: Vec<Row>, t: &Value) -> Result<Vec<Row>, TransformError> {
    if let Value::Array(steps) = t {
        return steps.iter().try_fold(rows, apply);
    }
    let kind = t["type"].as_str().unwrap_or("");
    let map = || t["map"].as_object().cloned().unwrap_or_default();
    match kind {
        "aggregate" => aggregate(rows, t),
        "noData" if rows.is_empty() => {
            Ok(vec![t["define"].as_object().cloned().unwrap_or_default()])
        }
        "noData" => Ok(rows),
        "parse" => parse(rows, &map()),
        "nameValuePairs" => Ok(vec![name_value_pairs(&rows, t, &map())]),
        "expandData" => Ok(vec![expand_data(&rows, t)]),
        "defaultValue" => Ok(default_value(rows, &map())),
        "rename" => Ok(rename(rows, &map())),
        "toString" => Ok(to_string(rows, &map())),
        "dbInfo" => Ok(vec![db_info(&rows, chrono::Utc::now().naive_utc())]),
        "indexDefinition" => Ok(indexes::definitions(&rows)),
        "duplicateIndexes" => Ok(indexes::duplicates(&rows)),
        "redundantIndexes" => Ok(indexes::redundant(&rows)),
        "performance" => Ok(vec![performance::counters(&rows, &t["counters"])]),
        other => Err(TransformError::UnknownTransform(other.to_string())),
    }
}

/// One row per `group` value (a column or a list of them), each mapped column reduced; with no
/// rows at all, one row of the reductions of nothing (a count of 0).
fn aggregate(rows: Vec<Row>, t: &Value) -> Result<Vec<Row>, TransformError> {
    let map = t["map"].as_object().cloned().unwrap_or_default();
    let group: Vec<&str> = match &t["group"] {
        Value::String(g) => vec![g.as_str()],
        Value::Array(gs) => gs.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut groups: Vec<(Vec<Value>, Vec<Row>)> = Vec::new();
    for row in rows {
        let key: Vec<Value> = group
            .iter()
            .map(|g| row.get(*g).cloned().unwrap_or(Value::Null))
            .collect();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, rs)) => rs.push(row),
            None => groups.push((key, vec![row])),
        }
    }
    if groups.is_empty() && group.is_empty() {
        groups.push((Vec::new(), Vec::new()));
    }
    let mut out = Vec::new();
    for (_, rs) in groups {
        let mut one = rs.first().cloned().unwrap_or_default();
        for (column, how) in &map {
            let values: Vec<Value> = rs
                .iter()
                .filter_map(|r| r.get(column).cloned())
                .filter(|v| !v.is_null())
                .collect();
            one.insert(column.clone(), reduce(values, how)?);
        }
        out.push(one);
    }
    Ok(out)
}

/// One column's values reduced as `how` says (`"count"` or `{"type": "join", "limit": 3}`).
fn reduce(mut values: Vec<Value>, how: &Value) -> Result<Value, TransformError> {
    let (kind, options) = match how {
        Value::String(k) => (k.as_str(), Map::new()),
        Value::Object(o) => (
            o.get("type").and_then(Value::as_str).unwrap_or(""),
            o.clone(),
        ),
        _ => ("", Map::new()),
    };
    let ignore_case = options
        .get("comparison")
        .and_then(Value::as_str)
        .is_some_and(|c| c.ends_with("IgnoreCase"));
    if options.get("distinct").and_then(Value::as_bool) == Some(true)
        || options.contains_key("comparison")
    {
        let mut seen: Vec<String> = Vec::new();
        values.retain(|v| {
            let key = if ignore_case {
                text(v).to_lowercase()
            } else {
                text(v)
            };
            let new = !seen.contains(&key);
            seen.push(key);
            new
        });
    }
    let numbers = || values.iter().filter_map(number);
    let order = |a: &&Value, b: &&Value| match (number(a), number(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => text(a).cmp(&text(b)),
    };
    Ok(match kind {
        "array" => Value::Array(values),
        "count" => Value::from(values.len()),
        "sum" => Value::from(numbers().sum::<f64>()),
        "min" => values.iter().min_by(order).cloned().unwrap_or(Value::Null),
        "max" => values.iter().max_by(order).cloned().unwrap_or(Value::Null),
        "or" => Value::Bool(numbers().any(|x| x != 0.0)),
        "and" => Value::Bool(numbers().all(|x| x != 0.0)),
        "join" => {
            let mut texts: Vec<String> = values.iter().map(text).collect();
            if let Some(l) = options.get("limit").and_then(Value::as_u64) {
                texts.truncate(l as usize);
            }
            Value::from(texts.join(", "))
        }
        other => return Err(TransformError::UnknownAggregate(other.to_string())),
    })
}

/// Each mapped column matched against a .NET-style `/pattern/flags`; its named groups become
/// columns `column.group` (numbers where they are digits), the column itself stays.
fn parse(rows: Vec<Row>, map: &Map<String, Value>) -> Result<Vec<Row>, TransformError> {
    let mut patterns = Vec::new();
    for (column, pattern) in map {
        patterns.push((column.clone(), dotnet_regex(&text(pattern))?));
    }
    Ok(rows
        .into_iter()
        .map(|mut row| {
            for (column, re) in &patterns {
                let value = row.get(column).map(text).unwrap_or_default();
                let captures = re.captures(&value);
                for name in re.capture_names().flatten() {
                    let got = captures
                        .as_ref()
                        .and_then(|c| c.name(name))
                        .map(|m| m.as_str());
                    let v = match got {
                        Some(s) => s.parse::<i64>().map_or(Value::from(s), Value::from),
                        None => Value::Null,
                    };
                    row.insert(format!("{column}.{name}"), v);
                }
            }
            row
        })
        .collect())
}

/// `/pattern/flags` (i: ignore case, x: ignore pattern whitespace, s, m) as a regex.
fn dotnet_regex(spec: &str) -> Result<regex::Regex, TransformError> {
    let (pattern, flags) = match spec.strip_prefix('/').and_then(|s| s.rsplit_once('/')) {
        Some((p, f)) => (p, f),
        None => (spec, ""),
    };
    let mut b = regex::RegexBuilder::new(pattern);
    for f in flags.chars() {
        match f.to_ascii_lowercase() {
            'i' => b.case_insensitive(true),
            'x' => b.ignore_whitespace(true),
            's' => b.dot_matches_new_line(true),
            'm' => b.multi_line(true),
            _ => &mut b,
        };
    }
    b.build().map_err(|error| TransformError::BadPattern {
        spec: spec.to_string(),
        error,
    })
}

/// Rows of (key, value) as one row: each mapped key becomes its alias, others keep their name.
fn name_value_pairs(rows: &[Row], t: &Value, map: &Map<String, Value>) -> Row {
    let key = t["keyColumn"].as_str().unwrap_or("name");
    let value = t["valueColumn"].as_str().unwrap_or("value");
    let mut one = Row::new();
    for r in rows {
        let name = r.get(key).map(text).unwrap_or_default();
        let alias = map.get(&name).and_then(Value::as_str).unwrap_or(&name);
        one.insert(
            alias.to_string(),
            r.get(value).cloned().unwrap_or(Value::Null),
        );
    }
    one
}

/// Rows of (key, value) as one row holding the listed `columns`.
fn expand_data(rows: &[Row], t: &Value) -> Row {
    let key = t["keyColumn"].as_str().unwrap_or("");
    let value = t["valueColumn"].as_str().unwrap_or("");
    let mut one = Row::new();
    for column in t["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let found = rows
            .iter()
            .find(|r| r.get(key).map(text).as_deref() == Some(column))
            .and_then(|r| r.get(value).cloned());
        one.insert(column.to_string(), found.unwrap_or(Value::Null));
    }
    one
}

/// Missing or NULL columns get the mapped value.
fn default_value(rows: Vec<Row>, map: &Map<String, Value>) -> Vec<Row> {
    rows.into_iter()
        .map(|mut r| {
            for (column, default) in map {
                if r.get(column).is_none_or(Value::is_null) {
                    r.insert(column.clone(), default.clone());
                }
            }
            r
        })
        .collect()
}

/// Columns renamed: `{"new": "old"}`.
fn rename(rows: Vec<Row>, map: &Map<String, Value>) -> Vec<Row> {
    rows.into_iter()
        .map(|mut r| {
            for (new, old) in map {
                if let Some(v) = old.as_str().and_then(|o| r.get(o).cloned()) {
                    r.insert(new.clone(), v);
                }
            }
            r
        })
        .collect()
}

/// Values replaced by names: `{"column": {"name": value, …}}`.
fn to_string(rows: Vec<Row>, map: &Map<String, Value>) -> Vec<Row> {
    rows.into_iter()
        .map(|mut r| {
            for (column, names) in map {
                let Some(current) = r.get(column).cloned() else {
                    continue;
                };
                let name = names.as_object().and_then(|n| {
                    n.iter()
                        .find(|(_, v)| super::condition::equal(v, &current, true))
                        .map(|(k, _)| k.clone())
                });
                if let Some(name) = name {
                    r.insert(column.clone(), Value::from(name));
                }
            }
            r
        })
        .collect()
}

/// `DBCC DBINFO … WITH TABLERESULTS` (ParentObject, Object, Field, VALUE rows) as one row of
/// fields, plus what the rules read: the days since the last good CHECKDB, whether the system
/// catalog was ever updated directly, the creating version and the DBCC flags.
fn db_info(rows: &[Row], now: NaiveDateTime) -> Row {
    let mut one = Row::new();
    for r in rows {
        if let Some(field) = r.get("Field").map(text) {
            // A field repeats (one per file header); the first is the database's.
            one.entry(field)
                .or_insert_with(|| r.get("VALUE").cloned().unwrap_or(Value::Null));
        }
    }
    let date = |field: &str| {
        one.get(field)
            .map(text)
            .and_then(|s| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%.f").ok())
    };
    let never = |d: &NaiveDateTime| d.and_utc().timestamp() <= -2_208_988_800; // 1900-01-01
    let last_good = date("dbi_dbccLastKnownGood");
    let days = match last_good {
        Some(d) if !never(&d) => Value::from((now - d).num_days()),
        // Never checked: as old as can be.
        _ => Value::from(i64::from(i32::MAX)),
    };
    let catalog_updated = date("dbi_updSysCatalog").is_some_and(|d| !never(&d));
    one.insert("LastKnownDBCCDaysAgo".into(), days);
    one.insert(
        "UpdSysCatalog".into(),
        Value::from(u8::from(catalog_updated)),
    );
    for (from, to) in [
        ("dbi_createVersion", "CreateVersion"),
        ("dbi_dbccFlags", "DBCCFlags"),
    ] {
        let v = one
            .get(from)
            .and_then(number)
            .map_or(Value::Null, |n| Value::from(n as i64));
        one.insert(to.into(), v);
    }
    one
}

/// The `performance` transform over a Performance probe's samples (rows of `sample`, `seconds`,
/// `counter` alias, `instance`, `value`, `type` as `live` records them): one row with every
/// counter computed, as `counters` says (`rate`, `average`, `max`, `ratio` to a `base`, for an
/// `instance`) or else as its counter type implies.
mod performance {
    use super::{Row, number, text};
    use serde_json::Value;

    /// sys.dm_os_performance_counters' cntr_type values.
    const BULK_COUNT: i64 = 272_696_576;
    const RAW_FRACTION: i64 = 537_003_264;
    const RAW_BASE: i64 = 1_073_939_712;

    pub fn counters(rows: &[Row], how: &Value) -> Row {
        let mut aliases: Vec<String> = Vec::new();
        for r in rows {
            let a = field(r, "counter");
            if !aliases.contains(&a) {
                aliases.push(a);
            }
        }
        let mut one = Row::new();
        for alias in &aliases {
            let spec = &how[alias.as_str()];
            let (kind, instance, base) = match spec {
                Value::String(k) => (Some(k.as_str()), None, None),
                Value::Object(o) => (
                    o.get("type").and_then(Value::as_str),
                    o.get("instance").and_then(Value::as_str),
                    o.get("base").and_then(Value::as_str),
                ),
                _ => (None, None, None),
            };
            let series = samples(rows, alias, instance);
            let ty = rows
                .iter()
                .find(|r| field(r, "counter") == *alias)
                .and_then(|r| r.get("type").and_then(number))
                .unwrap_or(0.0) as i64;
            if ty == RAW_BASE && kind.is_none() {
                one.insert(alias.clone(), last(&series));
                continue;
            }
            let kind = kind.unwrap_or(match ty {
                BULK_COUNT => "rate",
                RAW_FRACTION => "ratio",
                _ => "average",
            });
            let value = match kind {
                "rate" => rate(&series),
                "max" => series
                    .iter()
                    .map(|(_, v)| *v)
                    .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
                    .map_or(Value::Null, Value::from),
                "ratio" => {
                    let b = match base {
                        Some(b) => last(&samples(rows, b, instance)),
                        None => base_candidates(alias)
                            .iter()
                            .map(|b| last(&samples(rows, b, instance)))
                            .find(|v| !v.is_null())
                            .unwrap_or(Value::Null),
                    };
                    match (last(&series).as_f64(), b.as_f64()) {
                        (Some(v), Some(b)) if b != 0.0 => Value::from(v / b),
                        _ => Value::Null,
                    }
                }
                _ if series.is_empty() => Value::Null,
                _ => Value::from(series.iter().map(|(_, v)| v).sum::<f64>() / series.len() as f64),
            };
            one.insert(alias.clone(), value);
        }
        one
    }

    /// (seconds, value) of `alias` for one instance: the one named, else the counter's only
    /// instance, its `_Total`, or the first listed.
    fn samples(rows: &[Row], alias: &str, instance: Option<&str>) -> Vec<(f64, f64)> {
        let of_alias: Vec<&Row> = rows
            .iter()
            .filter(|r| field(r, "counter") == alias)
            .collect();
        let chosen = match instance {
            Some(i) => i.to_string(),
            None => {
                let names: Vec<String> = of_alias.iter().map(|r| field(r, "instance")).collect();
                if names.iter().any(String::is_empty) {
                    String::new()
                } else if names.iter().any(|n| n == "_Total") {
                    "_Total".into()
                } else {
                    names.first().cloned().unwrap_or_default()
                }
            }
        };
        of_alias
            .into_iter()
            .filter(|r| field(r, "instance").eq_ignore_ascii_case(&chosen))
            .filter_map(|r| {
                Some((
                    r.get("seconds").and_then(number)?,
                    r.get("value").and_then(number)?,
                ))
            })
            .collect()
    }

    /// Change per second between the first and last samples (0 with one sample).
    fn rate(series: &[(f64, f64)]) -> Value {
        match (series.first(), series.last()) {
            (Some((t0, v0)), Some((t1, v1))) if t1 > t0 => Value::from((v1 - v0) / (t1 - t0)),
            (Some(_), _) => Value::from(0.0),
            _ => Value::Null,
        }
    }

    fn last(series: &[(f64, f64)]) -> Value {
        series.last().map_or(Value::Null, |(_, v)| Value::from(*v))
    }

    /// Where a fraction's base may be: `x_base`, or `stem_base` for `stem_ratio`.
    fn base_candidates(alias: &str) -> Vec<String> {
        let mut out = vec![format!("{alias}_base")];
        if let Some(stem) = alias.strip_suffix("_ratio") {
            out.push(format!("{stem}_base"));
        }
        out
    }

    fn field(r: &Row, c: &str) -> String {
        r.get(c).map(text).unwrap_or_default()
    }
}

/// The index transforms over the IndexesDefinitions probe (one row per index column).
mod indexes {
    use super::{Row, number, text};
    use serde_json::Value;

    /// One row per index: its name, key columns, size, kind and use.
    pub fn definitions(rows: &[Row]) -> Vec<Row> {
        let mut order: Vec<(String, String)> = Vec::new();
        let mut by_index: Vec<Vec<&Row>> = Vec::new();
        for r in rows {
            let key = (field(r, "TableName"), field(r, "IndexName"));
            match order.iter().position(|k| *k == key) {
                Some(i) => by_index[i].push(r),
                None => {
                    order.push(key);
                    by_index.push(vec![r]);
                }
            }
        }
        order
            .into_iter()
            .zip(by_index)
            .map(|((table, index), columns)| {
                let first = columns[0];
                let flag = |c: &str| first.get(c).and_then(number).is_some_and(|x| x != 0.0);
                let mut keys: Vec<(i64, &Row)> = columns
                    .iter()
                    .filter(|c| {
                        !c.get("is_included_column")
                            .and_then(number)
                            .is_some_and(|x| x != 0.0)
                    })
                    .map(|c| {
                        (
                            c.get("key_ordinal").and_then(number).unwrap_or(0.0) as i64,
                            *c,
                        )
                    })
                    .collect();
                keys.sort_by_key(|(ordinal, _)| *ordinal);
                let key_names: Vec<String> =
                    keys.iter().map(|(_, c)| field(c, "ColumnName")).collect();
                let mut included: Vec<String> = columns
                    .iter()
                    .filter(|c| {
                        c.get("is_included_column")
                            .and_then(number)
                            .is_some_and(|x| x != 0.0)
                    })
                    .map(|c| field(c, "ColumnName"))
                    .collect();
                included.sort();
                let key_size: f64 = keys
                    .iter()
                    .filter_map(|(_, c)| c.get("ColTypeSize").and_then(number))
                    .sum();
                let mut one = Row::new();
                one.insert("FullName".into(), Value::from(format!("{table}.{index}")));
                one.insert("TableName".into(), Value::from(table));
                one.insert("IndexName".into(), Value::from(index));
                one.insert("KeyColumns".into(), Value::from(key_names));
                one.insert("IncludedColumns".into(), Value::from(included));
                one.insert(
                    "Filter".into(),
                    first
                        .get("filter_definition")
                        .cloned()
                        .unwrap_or(Value::Null),
                );
                one.insert("KeySize".into(), Value::from(key_size as i64));
                one.insert(
                    "Type".into(),
                    first.get("IndexType").cloned().unwrap_or(Value::Null),
                );
                one.insert("IsDisabled".into(), Value::Bool(flag("is_disabled")));
                one.insert("IsUnique".into(), Value::Bool(flag("is_unique")));
                one.insert("IsPrimaryKey".into(), Value::Bool(flag("is_primary_key")));
                one.insert(
                    "FillFactor".into(),
                    first.get("fill_factor").cloned().unwrap_or(Value::Null),
                );
                one.insert(
                    "Hits".into(),
                    first.get("Hits").cloned().unwrap_or(Value::from(0)),
                );
                one.insert(
                    "ReadsRatio".into(),
                    first.get("Reads_Ratio").cloned().unwrap_or(Value::from(0)),
                );
                one
            })
            .collect()
    }

    /// Indexes of one table with the same keys, included columns and filter: one row per set.
    pub fn duplicates(rows: &[Row]) -> Vec<Row> {
        let indexes = definitions_of(rows);
        let mut sets: Vec<(Vec<Value>, Vec<String>, String)> = Vec::new();
        for i in &indexes {
            let shape = vec![
                i["TableName"].clone(),
                i["KeyColumns"].clone(),
                i["IncludedColumns"].clone(),
                i["Filter"].clone(),
            ];
            match sets.iter_mut().find(|(s, _, _)| *s == shape) {
                Some((_, names, _)) => names.push(field(i, "IndexName")),
                None => sets.push((shape, vec![field(i, "IndexName")], field(i, "TableName"))),
            }
        }
        sets.into_iter()
            .filter(|(_, names, _)| names.len() > 1)
            .map(|(_, names, table)| pair(table, names))
            .collect()
    }

    /// Indexes whose keys are a leading part of another index's keys on the same table (same
    /// filter): the shorter one is redundant. One row per table.
    pub fn redundant(rows: &[Row]) -> Vec<Row> {
        let indexes = definitions_of(rows);
        let keys = |i: &Row| -> Vec<String> {
            i["KeyColumns"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect()
        };
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for a in &indexes {
            let covered = indexes.iter().any(|b| {
                let (ka, kb) = (keys(a), keys(b));
                b["TableName"] == a["TableName"]
                    && b["Filter"] == a["Filter"]
                    && kb.len() > ka.len()
                    && kb.starts_with(&ka)
                    && !a["IsUnique"].as_bool().unwrap_or(false)
            });
            if covered {
                let table = field(a, "TableName");
                let name = field(a, "IndexName");
                match out.iter_mut().find(|(t, _)| *t == table) {
                    Some((_, names)) => names.push(name),
                    None => out.push((table, vec![name])),
                }
            }
        }
        out.into_iter().map(|(t, names)| pair(t, names)).collect()
    }

    /// The per-index rows, whether the probe's own transform made them already or not.
    fn definitions_of(rows: &[Row]) -> Vec<Row> {
        if rows.first().is_some_and(|r| r.contains_key("KeyColumns")) {
            rows.to_vec()
        } else {
            definitions(rows)
        }
    }

    fn pair(table: String, names: Vec<String>) -> Row {
        let mut one = Row::new();
        one.insert("Table".into(), Value::from(table));
        one.insert("Indexes".into(), Value::from(names.join(", ")));
        one
    }

    fn field(r: &Row, c: &str) -> String {
        r.get(c).map(text).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(v: Value) -> Vec<Row> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_object().unwrap().clone())
            .collect()
    }

    #[test]
    fn aggregates_reduce_each_group() {
        let input = rows(json!([
            {"db": "a", "f": "x.mdf", "size": 10, "pct": 0},
            {"db": "a", "f": "X.MDF", "size": 30, "pct": 1},
            {"db": "b", "f": "y.mdf", "size": 20, "pct": 0},
        ]));
        let out = apply(
            input.clone(),
            &json!({"type": "aggregate", "group": "db", "map": {
                "size": "max", "pct": "or",
                "f": {"type": "join", "comparison": "OrdinalIgnoreCase"}}}),
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["size"], json!(30));
        assert_eq!(out[0]["pct"], json!(true));
        assert_eq!(
            out[0]["f"],
            json!("x.mdf"),
            "the same name in another case joins once"
        );
        assert_eq!(out[1]["pct"], json!(false));
        let none = apply(
            Vec::new(),
            &json!({"type": "aggregate", "map": {"f": "count"}}),
        )
        .unwrap();
        assert_eq!(none[0]["f"], json!(0));
        let grouped_none = apply(Vec::new(), &json!({"type": "aggregate", "group": "db"})).unwrap();
        assert!(grouped_none.is_empty(), "no rows, no groups");
    }

    #[test]
    fn a_list_of_transforms_applies_in_order() {
        let t = json!([
            {"type": "aggregate", "map": {"audit_guid": "array"}},
            {"type": "noData", "define": {"audit_guid": []}}
        ]);
        let out = apply(
            rows(json!([{"audit_guid": "g1"}, {"audit_guid": "g2"}])),
            &t,
        )
        .unwrap();
        assert_eq!(out[0]["audit_guid"], json!(["g1", "g2"]));
        let pairs = json!([
            {"type": "nameValuePairs", "keyColumn": "name", "valueColumn": "value",
             "map": {"max server memory (MB)": "max_server_memory"}},
            {"type": "defaultValue", "map": {"automatic_soft_NUMA_disabled": 0}}
        ]);
        let out = apply(
            rows(json!([{"name": "max server memory (MB)", "value": 4096}, {"name": "other", "value": 1}])),
            &pairs,
        )
        .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0]["max_server_memory"], json!(4096));
        assert_eq!(out[0]["other"], json!(1));
        assert_eq!(out[0]["automatic_soft_NUMA_disabled"], json!(0));
        let empty = apply(
            Vec::new(),
            &json!({"type": "noData", "define": {"InUse": 0}}),
        )
        .unwrap();
        assert_eq!(empty, rows(json!([{"InUse": 0}])));
        assert!(apply(Vec::new(), &json!({"type": "pivotEverything"})).is_err());
    }

    #[test]
    fn parse_adds_the_named_groups() {
        let out = apply(
            rows(json!([{"module": "C:\\x\\sqljdbc_xa.dll", "file_version": "6.2:0.1"}, {"module": "x", "file_version": "junk"}])),
            &json!([
                {"type": "parse", "map": {"module": "/^(?:.*\\\\)?(?<file_name>.+)$/ix"}},
                {"type": "parse", "map": {"file_version": "/^(?<major>\\d+)\\.(?<minor>\\d+)(?:\\:(?<build>\\d+))?(?:\\.(?<revision>\\d+))?$/x"}}
            ]),
        )
        .unwrap();
        assert_eq!(out[0]["module.file_name"], json!("sqljdbc_xa.dll"));
        assert_eq!(out[0]["file_version.major"], json!(6));
        assert_eq!(out[0]["file_version.build"], json!(0));
        assert_eq!(out[0]["file_version.revision"], json!(1));
        assert_eq!(
            out[1]["file_version.major"],
            Value::Null,
            "no match, no parts"
        );
        assert!(apply(Vec::new(), &json!({"type": "parse", "map": {"a": "/(/"}})).is_err());
    }

    #[test]
    fn dbinfo_gives_the_fields_the_rules_read() {
        let now =
            NaiveDateTime::parse_from_str("2026-11-28 00:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let info = rows(json!([
            {"Field": "dbi_createVersion", "VALUE": "869"},
            {"Field": "dbi_dbccFlags", "VALUE": "2"},
            {"Field": "dbi_dbccLastKnownGood", "VALUE": "2026-11-18 06:00:00.000"},
            {"Field": "dbi_updSysCatalog", "VALUE": "1900-01-01 00:00:00.000"},
        ]));
        let one = db_info(&info, now);
        assert_eq!(one["LastKnownDBCCDaysAgo"], json!(9));
        assert_eq!(one["UpdSysCatalog"], json!(0));
        assert_eq!(one["CreateVersion"], json!(869));
        assert_eq!(one["DBCCFlags"], json!(2));
        let never = db_info(
            &rows(json!([{"Field": "dbi_dbccLastKnownGood", "VALUE": "1900-01-01 00:00:00.000"}])),
            now,
        );
        assert!(never["LastKnownDBCCDaysAgo"].as_i64().unwrap() > 10_000);
    }

    #[test]
    fn performance_counters_give_rates_averages_and_ratios() {
        let sample = |k: i64, t: f64, counter: &str, instance: &str, value: i64, ty: i64| json!({"sample": k, "seconds": t, "counter": counter, "instance": instance, "value": value, "type": ty});
        let rows = rows(json!([
            sample(0, 0.0, "batches", "", 1000, 272_696_576),
            sample(1, 10.0, "batches", "", 3000, 272_696_576),
            sample(0, 0.0, "ple", "", 3000, 65_792),
            sample(1, 10.0, "ple", "", 3400, 65_792),
            sample(1, 10.0, "hit_ratio", "", 990, 537_003_264),
            sample(1, 10.0, "hit_ratio_base", "", 1000, 1_073_939_712),
            sample(0, 0.0, "cursors", "_Total", 0, 272_696_576),
            sample(1, 10.0, "cursors", "_Total", 50, 272_696_576),
            sample(0, 0.0, "cursors", "API Cursor", 0, 272_696_576),
            sample(1, 10.0, "cursors", "API Cursor", 10, 272_696_576),
            sample(0, 0.0, "waits", "Average wait time (ms)", 4, 1_073_874_176),
            sample(1, 10.0, "waits", "Average wait time (ms)", 6, 1_073_874_176),
            sample(1, 10.0, "waits", "Waits in progress", 1, 65_792),
        ]));
        let one = apply(
            rows.clone(),
            &json!({"type": "performance", "counters": {
                "cursors": {"type": "rate", "instance": "API Cursor"},
                "waits": {"type": "average", "instance": "Average wait time (ms)"},
                "ple": "max"}}),
        )
        .unwrap();
        assert_eq!(
            one[0]["batches"],
            json!(200.0),
            "cumulative: change per second"
        );
        assert_eq!(one[0]["ple"], json!(3400.0));
        assert_eq!(one[0]["hit_ratio"], json!(0.99), "a fraction of its base");
        assert_eq!(one[0]["cursors"], json!(1.0), "the instance asked for");
        assert_eq!(one[0]["waits"], json!(5.0));
        let defaults = apply(rows, &json!({"type": "performance"})).unwrap();
        assert_eq!(
            defaults[0]["ple"],
            json!(3200.0),
            "a current value averages"
        );
        assert_eq!(defaults[0]["cursors"], json!(5.0), "_Total by default");
    }

    #[test]
    fn index_definitions_duplicates_and_redundant_ones() {
        let col = |index: &str, column: &str, ordinal: i64, included: bool, size: i64| {
            json!({"TableName": "[dbo].[T]", "IndexName": index, "ColumnName": column,
                   "is_included_column": included, "key_ordinal": ordinal, "ColTypeSize": size,
                   "is_unique": false, "is_primary_key": false, "is_disabled": index == "[IX_off]",
                   "IndexType": 2, "fill_factor": 0, "filter_definition": null, "Hits": 0, "Reads_Ratio": 0})
        };
        let input = rows(json!([
            col("[IX_a]", "[A]", 1, false, 4),
            col("[IX_a2]", "[A]", 1, false, 4),
            col("[IX_ab]", "[A]", 1, false, 4),
            col("[IX_ab]", "[B]", 2, false, 900),
            col("[IX_ab]", "[C]", 0, true, 8),
            col("[IX_off]", "[B]", 1, false, 900),
        ]));
        let defs = apply(input.clone(), &json!({"type": "indexDefinition"})).unwrap();
        assert_eq!(defs.len(), 4);
        assert_eq!(defs[2]["FullName"], json!("[dbo].[T].[IX_ab]"));
        assert_eq!(
            defs[2]["KeySize"],
            json!(904),
            "included columns are not key"
        );
        assert_eq!(defs[3]["IsDisabled"], json!(true));
        let dups = apply(defs.clone(), &json!({"type": "duplicateIndexes"})).unwrap();
        assert_eq!(
            dups,
            rows(json!([{"Table": "[dbo].[T]", "Indexes": "[IX_a], [IX_a2]"}]))
        );
        let redundant = apply(input, &json!({"type": "redundantIndexes"})).unwrap();
        assert_eq!(
            redundant,
            rows(json!([{"Table": "[dbo].[T]", "Indexes": "[IX_a], [IX_a2]"}]))
        );
    }
}
