//! Microsoft's SQL Assessment API rules (`ruleset.json` and DBAs' custom rulesets in the same
//! format): loaded, overridden (disable or change rules by id or tag), matched to each server and
//! database, and evaluated over probe results.
//!
//! Probes of type SQL are T-SQL, and Performance probes read SQL Server's counters through
//! sys.dm_os_performance_counters: their rows come from a live server (`live`) or from captured
//! results (`--probe-results`), one JSON object per instance. Probes of other kinds (WMI,
//! Registry, PowerShell, CLR, Azure metadata) cannot run here; their rules are listed as not run,
//! with why.

pub mod condition;
pub mod live;
pub mod target;
pub mod transforms;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};
use sqlmig_protocol::{CollectionStatus, Instance, Inventory};

use super::findings::{Finding, Level, Scope};
use target::Subject;

/// A ruleset file that could not be used; names the file and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RulesetError(pub String);

/// Microsoft's ruleset and custom rulesets layered over it, in the order given.
#[derive(Debug, Default)]
pub struct Rulesets {
    /// `name version` of each file.
    pub labels: Vec<String>,
    definitions: Vec<Map<String, Value>>,
    overrides: Vec<Map<String, Value>>,
    probes: Map<String, Value>,
}

/// A rule that did not run on some subjects, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotRun {
    pub rule_pack: String,
    pub rule_id: String,
    pub reason: String,
    /// Where it would have run (`instance` or `instance/database`).
    pub places: Vec<String>,
}

/// Captured probe results: per instance, `server` probes and per-database probes, each a list of
/// rows (objects of column values).
pub type ProbeResults = Map<String, Value>;

impl Rulesets {
    /// Adds the ruleset file at `path`.
    pub fn load(&mut self, path: &Path) -> Result<(), RulesetError> {
        let bytes = std::fs::read(path)
            .map_err(|e| RulesetError(format!("cannot read ruleset {}: {e}", path.display())))?;
        let text = String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes))
            .into_owned();
        let doc: Value = serde_json::from_str(&lenient(&text))
            .map_err(|e| RulesetError(format!("ruleset {} is not JSON: {e}", path.display())))?;
        let bad = |why: &str| {
            RulesetError(format!(
                "ruleset {}: {why} (the SQL Assessment API format)",
                path.display()
            ))
        };
        if !doc["schemaVersion"].is_string() {
            return Err(bad("it has no \"schemaVersion\""));
        }
        let rules = doc["rules"]
            .as_array()
            .ok_or_else(|| bad("it has no \"rules\" list"))?;
        for (i, rule) in rules.iter().enumerate() {
            let rule = rule
                .as_object()
                .ok_or_else(|| bad(&format!("rule {i} is not an object")))?;
            if rule
                .get("id")
                .is_none_or(|id| !(id.is_string() || id.is_array()))
            {
                return Err(bad(&format!("rule {i} has no id")));
            }
            match rule.get("itemType").and_then(Value::as_str) {
                Some("definition") => self.definitions.push(rule.clone()),
                Some("override") => self.overrides.push(rule.clone()),
                other => {
                    return Err(bad(&format!(
                        "rule {} has itemType {other:?}; expected definition or override",
                        rule["id"]
                    )));
                }
            }
        }
        if let Some(probes) = doc["probes"].as_object() {
            for (name, p) in probes {
                self.probes.insert(name.clone(), p.clone());
            }
        }
        let name = doc["name"].as_str().unwrap_or("ruleset");
        let version = doc["version"].as_str().unwrap_or("");
        self.labels
            .push(format!("{name} {version}").trim().to_string());
        Ok(())
    }

    /// Evaluates every enabled rule on every collected server and database of `inventory`.
    pub fn run(
        &self,
        inventory: &Inventory,
        results: Option<&ProbeResults>,
    ) -> (Vec<Finding>, Vec<NotRun>) {
        let label = self.labels.join(" + ");
        let mut findings = Vec::new();
        let mut not_run: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for inst in inventory
            .instances
            .iter()
            .filter(|i| i.status != CollectionStatus::Failed)
        {
            let Some(subjects) = subjects(inst) else {
                continue;
            };
            let captured = results.and_then(|r| r.get(&inst.name));
            for (subject, database) in &subjects {
                for rule in self.effective_rules(subject) {
                    let id = rule["id"].as_str().unwrap_or("?").to_string();
                    let place = match database {
                        Some(d) => format!("{}/{d}", inst.name),
                        None => inst.name.clone(),
                    };
                    match self.evaluate(&rule, subject, captured, *database) {
                        Ok(failing_rows) => {
                            for row in failing_rows {
                                findings.push(finding(&rule, &row, &inst.name, *database, &label));
                            }
                        }
                        Err(reason) => not_run.entry((id, reason)).or_default().push(place),
                    }
                }
            }
        }
        let not_run = not_run
            .into_iter()
            .map(|((rule_id, reason), places)| NotRun {
                rule_pack: label.clone(),
                rule_id,
                reason,
                places,
            })
            .collect();
        (findings, not_run)
    }

    /// The rules that apply to `s`: definitions whose target matches, with every matching
    /// override applied in order, enabled ones only.
    pub(crate) fn effective_rules(&self, s: &Subject) -> Vec<Map<String, Value>> {
        let mut out = Vec::new();
        for def in &self.definitions {
            if !target::matches(def.get("target"), s) {
                continue;
            }
            let mut rule = def.clone();
            for o in &self.overrides {
                if selects(o, &rule) && target::matches(o.get("targetFilter"), s) {
                    for (k, v) in o {
                        if !matches!(k.as_str(), "id" | "itemType" | "targetFilter") {
                            rule.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            if rule.get("enabled").and_then(Value::as_bool) != Some(false) {
                out.push(rule);
            }
        }
        out
    }

    /// The rows of `rule`'s probes on which its condition fails; an error says why it could not
    /// run.
    fn evaluate(
        &self,
        rule: &Map<String, Value>,
        s: &Subject,
        captured: Option<&Value>,
        database: Option<&str>,
    ) -> Result<Vec<Map<String, Value>>, String> {
        // `@attr::service::…`: the Windows services' configuration, which T-SQL cannot read.
        let reads_services = ["condition", "probes", "locals"]
            .iter()
            .filter_map(|k| rule.get(*k))
            .any(|v| v.to_string().contains("@attr::"));
        if reads_services {
            return Err(
                "it reads Windows service settings (@attr::service::…), which sqlmig cannot read from T-SQL"
                    .into(),
            );
        }
        let probes = rule
            .get("probes")
            .and_then(Value::as_array)
            .filter(|p| !p.is_empty());
        let Some(probes) = probes else {
            return Err("the rule names no probe".into());
        };
        let mut rows: Vec<Map<String, Value>> = vec![Map::new()];
        for probe in probes {
            let call = ProbeCall::of(probe, rule).map_err(|e| e.to_string())?;
            let implementation = self.probe_for(&call.name, s).map_err(|e| e.to_string())?;
            let mut probe_rows = probe_rows(&call.key, captured, database)?;
            // The implementation's own transform first, then the rule's.
            for t in [
                implementation["implementation"].get("transform"),
                call.transform,
            ]
            .into_iter()
            .flatten()
            {
                probe_rows = transforms::apply(probe_rows, t).map_err(|e| e.to_string())?;
            }
            // Several probes: every combination of their rows (a probe with no rows leaves
            // nothing to check).
            rows = rows
                .iter()
                .flat_map(|r| {
                    probe_rows.iter().map(move |p| {
                        let mut joined = r.clone();
                        joined.extend(p.clone());
                        joined
                    })
                })
                .collect();
        }
        let Some(condition) = rule.get("condition") else {
            return Ok(rows);
        };
        let mut failing = Vec::new();
        for row in rows {
            let lookup = |name: &str| lookup(name, &row, rule);
            if !condition::holds(condition, &lookup).map_err(|e| e.to_string())? {
                failing.push(row);
            }
        }
        Ok(failing)
    }

    /// The implementation of probe `name` whose target matches `s`; only T-SQL (and performance
    /// counters, which T-SQL reads from sys.dm_os_performance_counters) can run here.
    pub(crate) fn probe_for(&self, name: &str, s: &Subject) -> Result<&Value, ProbeError> {
        let impls = self
            .probes
            .get(name)
            .and_then(Value::as_array)
            .ok_or_else(|| ProbeError::Undefined(name.to_string()))?;
        let matching: Vec<&Value> = impls
            .iter()
            .filter(|i| target::matches(i.get("target"), s))
            .collect();
        if let Some(sql) = matching
            .iter()
            .find(|i| i["type"] == "SQL" || i["type"] == "Performance")
        {
            return Ok(sql);
        }
        match matching.first() {
            Some(other) => Err(ProbeError::Kind {
                name: name.to_string(),
                kind: other["type"].as_str().unwrap_or("?").to_string(),
            }),
            None => Err(ProbeError::NoImplementation(name.to_string())),
        }
    }
}

/// A probe a rule names that sqlmig cannot run.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    #[error("probe {0} is not defined in the rulesets loaded")]
    Undefined(String),
    #[error("probe {name} is of kind {kind}, which sqlmig cannot run (it runs T-SQL probes only)")]
    Kind { name: String, kind: String },
    #[error("probe {0} has no implementation for this server")]
    NoImplementation(String),
    #[error("a probe reference is neither a name nor an object")]
    Reference,
    #[error(
        "probe {name}'s parameter {param} comes from {from}, which sqlmig does not resolve (it \
         is service or Azure metadata)"
    )]
    Metadata {
        name: String,
        param: String,
        from: String,
    },
    #[error("probe {name}'s parameter {param} is {from}, which the rule does not give")]
    NotInRule {
        name: String,
        param: String,
        from: String,
    },
    #[error("probe {name}'s parameter {param} is not a single value")]
    NotSingle { name: String, param: String },
}

/// A rule's reference to a probe: the probe, the parameters it passes (resolved) and the
/// transform it adds.
#[derive(Debug)]
pub(crate) struct ProbeCall<'r> {
    pub name: String,
    /// Where its rows are kept in captured results: the name, with the parameters if any
    /// (`DatabaseMasterFiles(dbId=2, type=0)`).
    pub key: String,
    pub params: Vec<(String, Value)>,
    pub transform: Option<&'r Value>,
}

impl<'r> ProbeCall<'r> {
    /// The call `probe` (a name or `{"id", "params", "transform"}`) makes for `rule`; parameters
    /// written `@name` take the rule's value; ones from services or Azure metadata
    /// (`@attr::…`, `@Probe::column`) cannot be resolved here.
    pub fn of(probe: &'r Value, rule: &Map<String, Value>) -> Result<ProbeCall<'r>, ProbeError> {
        let o = match probe {
            Value::String(n) => {
                return Ok(ProbeCall {
                    name: n.clone(),
                    key: n.clone(),
                    params: Vec::new(),
                    transform: None,
                });
            }
            Value::Object(o) => o,
            _ => return Err(ProbeError::Reference),
        };
        let name = o
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let mut params = Vec::new();
        for (k, v) in o
            .get("params")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let value = match v {
                Value::String(r) if r.starts_with('@') && r.contains("::") => {
                    return Err(ProbeError::Metadata {
                        name: name.clone(),
                        param: k.clone(),
                        from: r.clone(),
                    });
                }
                Value::String(r) if r.starts_with('@') => rule
                    .iter()
                    .find(|(rk, _)| rk.eq_ignore_ascii_case(&r[1..]))
                    .map(|(_, rv)| rv.clone())
                    .ok_or_else(|| ProbeError::NotInRule {
                        name: name.clone(),
                        param: k.clone(),
                        from: r.clone(),
                    })?,
                Value::Array(_) | Value::Object(_) => {
                    return Err(ProbeError::NotSingle {
                        name: name.clone(),
                        param: k.clone(),
                    });
                }
                other => other.clone(),
            };
            params.push((k.clone(), value));
        }
        let key = if params.is_empty() {
            name.clone()
        } else {
            let list: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{name}({})", list.join(", "))
        };
        Ok(ProbeCall {
            name,
            key,
            params,
            transform: o.get("transform"),
        })
    }
}

/// The server and each of its databases, as rules see them; `None` without server properties.
pub(crate) fn subjects(inst: &Instance) -> Option<Vec<(Subject<'_>, Option<&str>)>> {
    let server = inst.server.as_ref()?;
    let platform = if server.host_platform.eq_ignore_ascii_case("Linux") {
        "Linux"
    } else {
        "Windows"
    };
    let base = Subject {
        kind: "Server",
        engine_edition: server.engine_edition,
        edition: &server.edition,
        version: &server.product_version,
        platform,
        name: None,
    };
    let mut subjects = vec![(base.clone(), None)];
    for db in &inst.databases {
        subjects.push((
            Subject {
                kind: "Database",
                name: Some(&db.name),
                ..base.clone()
            },
            Some(db.name.as_str()),
        ));
    }
    Some(subjects)
}

/// JSON as Microsoft's samples are written for a lenient .NET reader: `//` and `/* */` comments,
/// numbers like `.50`, and commas before `]` or `}` are made standard, outside strings only.
fn lenient(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut in_string = false;
    while i < b.len() {
        let c = b[i];
        if in_string {
            if c == b'\\' && i + 1 < b.len() {
                out.push_str(&text[i..i + 2]);
                i += 2;
                continue;
            }
            in_string = c != b'"';
        } else if c == b'"' {
            in_string = true;
        } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
            continue;
        } else if c == b'.'
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
            && !out.ends_with(|p: char| p.is_ascii_digit())
        {
            out.push('0');
        } else if c == b',' && text[i + 1..].trim_start().starts_with([']', '}']) {
            i += 1;
            continue;
        }
        let ch = text[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Whether override `o` selects `rule`: an id, or a list of tags (any of which the rule has).
fn selects(o: &Map<String, Value>, rule: &Map<String, Value>) -> bool {
    match o.get("id") {
        Some(Value::String(id)) => rule.get("id").and_then(Value::as_str) == Some(id.as_str()),
        Some(Value::Array(tags)) => {
            let rule_tags: Vec<&str> = rule
                .get("tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            tags.iter()
                .filter_map(Value::as_str)
                .any(|t| rule_tags.contains(&t))
        }
        _ => false,
    }
}

/// A probe's captured rows for the server or a database.
fn probe_rows(
    name: &str,
    captured: Option<&Value>,
    database: Option<&str>,
) -> Result<Vec<Map<String, Value>>, String> {
    let Some(captured) = captured else {
        return Err(
            "its T-SQL probes need a server (--server) or captured results (--probe-results)"
                .into(),
        );
    };
    let scope = match database {
        Some(db) => captured.get("databases").and_then(|d| d.get(db)),
        None => captured.get("server"),
    };
    let rows = scope
        .and_then(|s| s.get(name))
        .ok_or_else(|| format!("probe {name} has no captured result here"))?;
    if let Some(error) = rows.get("error").and_then(Value::as_str) {
        return Err(format!("probe {name} failed: {error}"));
    }
    rows.as_array()
        .ok_or_else(|| format!("probe {name}'s captured result is not a list of rows"))?
        .iter()
        .map(|r| {
            r.as_object()
                .cloned()
                .ok_or_else(|| format!("probe {name}: a row is not an object"))
        })
        .collect()
}

/// `@name`: a column of the row, a value the rule carries (`threshold`), or one of the rule's
/// `locals` (an expression over those).
fn lookup(name: &str, row: &Map<String, Value>, rule: &Map<String, Value>) -> Option<Value> {
    lookup_at(name, row, rule, 0)
}

fn lookup_at(
    name: &str,
    row: &Map<String, Value>,
    rule: &Map<String, Value>,
    depth: usize,
) -> Option<Value> {
    row.get(name)
        .or_else(|| rule.get(name))
        .cloned()
        .or_else(|| {
            // Locals may use each other; a cycle ends at a fixed depth, unresolved.
            let local = rule.get("locals")?.get(name)?;
            (depth < 8).then_some(())?;
            let vars = |n: &str| lookup_at(n, row, rule, depth + 1);
            condition::eval(local, &vars).ok()
        })
        .or_else(|| {
            // `@Probe.Column`: the column of an aliased probe.
            name.rsplit_once('.')
                .and_then(|(_, col)| row.get(col).cloned())
        })
}

fn finding(
    rule: &Map<String, Value>,
    row: &Map<String, Value>,
    instance: &str,
    database: Option<&str>,
    label: &str,
) -> Finding {
    let text = |k: &str| {
        rule.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let message = render(&text("message"), row, rule);
    Finding {
        rule_id: text("id"),
        // Best-practice checks: none of them stops a migration by itself.
        level: match rule.get("level").and_then(Value::as_str) {
            Some("High" | "Medium") => Level::Warning,
            _ => Level::Info,
        },
        scope: if database.is_some() {
            Scope::Database
        } else {
            Scope::Instance
        },
        instance: instance.to_string(),
        database: database.map(str::to_string),
        object: None,
        file: None,
        line: None,
        title: text("displayName"),
        message: if message.is_empty() {
            text("displayName")
        } else {
            message
        },
        impact: text("description"),
        remediation: text("message"),
        help_url: rule
            .get("helpLink")
            .and_then(Value::as_str)
            .map(str::to_string),
        rule_pack: label.to_string(),
    }
}

/// `@{column}` and `@{column:format}` in a message, from the row or the rule.
fn render(template: &str, row: &Map<String, Value>, rule: &Map<String, Value>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find("@{") {
        out.push_str(&rest[..at]);
        let Some(end) = rest[at..].find('}') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let inner = &rest[at + 2..at + end];
        let (name, format) = inner.split_once(':').unwrap_or((inner, ""));
        match lookup(name, row, rule) {
            Some(v) => out.push_str(&formatted(&v, format)),
            None => out.push_str(&rest[at..=at + end]),
        }
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    out
}

/// .NET's P (percent) and N (number) formats, the ones Microsoft's messages use.
fn formatted(v: &Value, format: &str) -> String {
    let digits = |f: &str| f[1..].parse::<usize>().unwrap_or(2);
    match (format.chars().next(), condition::number(v)) {
        (Some('P' | 'p'), Some(x)) => format!("{:.*}%", digits(format), x * 100.0),
        (Some('N' | 'n'), Some(x)) => format!("{:.*}", digits(format), x),
        _ => condition::text(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_json_reads_microsofts_samples() {
        let fixed =
            lenient("{\"a\": .50, // note\n \"b\": [1, 2,], /* x */ \"c\": \"// .5, kept\"}");
        let v: Value = serde_json::from_str(&fixed).unwrap();
        assert_eq!(v, json!({"a": 0.5, "b": [1, 2], "c": "// .5, kept"}));
    }

    #[test]
    fn probe_calls_resolve_parameters_from_the_rule() {
        let rule = json!({"id": "R", "history_days": 7})
            .as_object()
            .unwrap()
            .clone();
        let probe = json!({"id": "ErrorLog", "params": {"history_days": "@history_days", "language": null}});
        let call = ProbeCall::of(&probe, &rule).unwrap();
        assert_eq!(call.key, "ErrorLog(history_days=7, language=null)");
        assert_eq!(call.params[0], ("history_days".to_string(), json!(7)));
        let missing = json!({"id": "P", "params": {"n": "@topN"}});
        assert!(matches!(
            ProbeCall::of(&missing, &rule).unwrap_err(),
            ProbeError::NotInRule { from, .. } if from == "@topN"
        ));
        let service = json!({"id": "ServiceInfo", "params": {"ServiceName": "@attr::service::SQLAgent.name"}});
        let err = ProbeCall::of(&service, &rule).unwrap_err();
        assert!(matches!(err, ProbeError::Metadata { .. }), "{err}");
        assert!(err.to_string().contains("does not resolve"), "{err}");
        assert_eq!(ProbeCall::of(&json!("Plain"), &rule).unwrap().key, "Plain");
    }

    #[test]
    fn locals_are_expressions_over_the_row() {
        let rule = json!({"limit": 100000, "locals": {
            "recommended": {"floor": {"min": ["@limit", {"sub": ["@total_mb", "@reserve"]}]}},
            "reserve": {"interval": ["@total_mb", 512, 2048, 1024]},
            "loop": "@loop"
        }})
        .as_object()
        .unwrap()
        .clone();
        let row = json!({"total_mb": 16384}).as_object().unwrap().clone();
        assert_eq!(lookup("recommended", &row, &rule), Some(json!(15360)));
        assert_eq!(
            lookup("loop", &row, &rule),
            None,
            "a cycle stays unresolved"
        );
    }

    #[test]
    fn several_probes_join_as_every_combination_of_rows() {
        let probes = json!({"A": [{"type": "SQL", "implementation": {"query": "x"}}],
                            "B": [{"type": "SQL", "implementation": {"query": "y"}}]});
        let sets = Rulesets {
            probes: probes.as_object().unwrap().clone(),
            ..Rulesets::default()
        };
        let rule = json!({"id": "R", "probes": ["A", "B"], "condition": {"ne": ["@a", "@b"]}})
            .as_object()
            .unwrap()
            .clone();
        let s = Subject {
            kind: "Server",
            engine_edition: 3,
            edition: "Enterprise",
            version: "13.0.1.0",
            platform: "Windows",
            name: None,
        };
        let captured = json!({"server": {"A": [{"a": 1}, {"a": 2}], "B": [{"b": 2}, {"b": 3}]}});
        let failing = sets.evaluate(&rule, &s, Some(&captured), None).unwrap();
        assert_eq!(failing.len(), 1, "only a = b = 2 fails");
        let none = json!({"server": {"A": [{"a": 1}], "B": []}});
        assert!(
            sets.evaluate(&rule, &s, Some(&none), None)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn messages_follow_microsofts_format() {
        let row = json!({"space_available_rel": 0.126, "space_total": 1024.5})
            .as_object()
            .unwrap()
            .clone();
        let rule = json!({"threshold": 0.25}).as_object().unwrap().clone();
        assert_eq!(
            render(
                "only @{space_available_rel:P0} free (threshold @{threshold:P0}); total @{space_total:N2} MB; @{nope}",
                &row,
                &rule
            ),
            "only 13% free (threshold 25%); total 1024.50 MB; @{nope}"
        );
    }
}
