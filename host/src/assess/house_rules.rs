//! House rules: a DBA's own rules in a TOML file, over the inventory's fields, without writing a
//! plugin (`sqlmig assess --rules acme.toml`). The format is documented in docs/house-rules.md.
//!
//! ```toml
//! [pack]
//! name = "acme"
//! version = "1.0.0"
//!
//! [[rule]]
//! id = "ACME001"
//! target = "database"
//! level = "warning"
//! title = "Production databases use FULL recovery"
//! when = { field = "recovery_model_desc", op = "ne", value = "FULL" }
//! message = "{name} uses {recovery_model_desc} recovery"
//! remediation = "ALTER DATABASE … SET RECOVERY FULL, then take a full backup."
//! ```

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use sqlmig_protocol::{CollectionStatus, Inventory};

use super::findings::{Finding, Level, Scope};

/// A rule file that could not be loaded; names the file, the rule and what to fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HouseRuleError(pub String);

/// A loaded rule file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseRules {
    pack: PackInfo,
    #[serde(rename = "rule", default)]
    rules: Vec<HouseRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackInfo {
    name: String,
    version: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HouseRule {
    id: String,
    target: Target,
    level: Level,
    title: String,
    when: Condition,
    /// With `{field}` placeholders; the title when absent.
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    impact: String,
    #[serde(default)]
    remediation: String,
    #[serde(default)]
    help_url: Option<String>,
}

/// What a rule looks at, one finding per match.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Target {
    Instance,
    Database,
    Module,
    Table,
    JobStep,
    Login,
    LinkedServer,
    Configuration,
}

/// A test on fields: all/any/not of tests, or one comparison.
#[derive(Debug, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
enum Condition {
    All { all: Vec<Condition> },
    Any { any: Vec<Condition> },
    Not { not: Box<Condition> },
    Test(Test),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Test {
    field: String,
    op: Op,
    #[serde(default)]
    value: Option<toml::Value>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// SQL LIKE with % and _, case-insensitive.
    Like,
    NotLike,
    In,
    NotIn,
    /// The field is present and not null (no value).
    Exists,
    Missing,
}

impl HouseRules {
    /// Reads and checks a rule file.
    pub fn load(path: &Path) -> Result<HouseRules, HouseRuleError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            HouseRuleError(format!("cannot read house rules {}: {e}", path.display()))
        })?;
        let rules: HouseRules = toml::from_str(&text).map_err(|e| {
            HouseRuleError(format!(
                "house rules {} are not valid: {}; see docs/house-rules.md for the format",
                path.display(),
                e.to_string().trim_end()
            ))
        })?;
        for rule in &rules.rules {
            rule.check().map_err(|why| {
                HouseRuleError(format!(
                    "house rules {}, rule {}: {why}",
                    path.display(),
                    rule.id
                ))
            })?;
        }
        if let Some(dup) = rules.rules.iter().enumerate().find_map(|(i, r)| {
            rules.rules[..i]
                .iter()
                .any(|o| o.id == r.id)
                .then_some(&r.id)
        }) {
            return Err(HouseRuleError(format!(
                "house rules {}: rule id {dup} appears twice",
                path.display()
            )));
        }
        Ok(rules)
    }

    /// `name version`, as reports name rule packs.
    pub fn label(&self) -> String {
        format!("{} {}", self.pack.name, self.pack.version)
    }

    /// Every rule over the collected instances of `inventory`.
    pub fn run(&self, inventory: &Inventory) -> Vec<Finding> {
        let doc = serde_json::to_value(inventory).expect("an inventory serializes");
        let label = self.label();
        let mut out = Vec::new();
        let instances = inventory
            .instances
            .iter()
            .zip(doc["instances"].as_array().into_iter().flatten());
        for (inst, inst_doc) in instances.filter(|(i, _)| i.status != CollectionStatus::Failed) {
            for target in targets(inst_doc) {
                for rule in self.rules.iter().filter(|r| r.target == target.kind) {
                    if rule.when.holds(&target) {
                        out.push(rule.finding(&target, &inst.name, &label));
                    }
                }
            }
        }
        out
    }
}

impl HouseRule {
    fn check(&self) -> Result<(), String> {
        if self.id.trim().is_empty() {
            return Err("its id is empty".into());
        }
        self.when.check()
    }

    fn finding(&self, t: &TargetRef, instance: &str, label: &str) -> Finding {
        let message = match &self.message {
            Some(m) => render(m, t),
            None => self.title.clone(),
        };
        Finding {
            rule_id: self.id.clone(),
            level: self.level,
            scope: match t.kind {
                Target::Instance => Scope::Instance,
                Target::Database => Scope::Database,
                _ => Scope::Object,
            },
            instance: instance.to_string(),
            database: t
                .database
                .and_then(|d| d["name"].as_str())
                .map(str::to_string),
            object: t.object.clone(),
            file: None,
            line: None,
            title: self.title.clone(),
            message,
            impact: self.impact.clone(),
            remediation: self.remediation.clone(),
            help_url: self.help_url.clone(),
            rule_pack: label.to_string(),
        }
    }
}

impl Condition {
    fn check(&self) -> Result<(), String> {
        match self {
            Condition::All { all: c } | Condition::Any { any: c } => {
                c.iter().try_for_each(Condition::check)
            }
            Condition::Not { not } => not.check(),
            Condition::Test(t) => {
                let needs_value = !matches!(t.op, Op::Exists | Op::Missing);
                match (&t.value, needs_value) {
                    (None, true) => Err(format!("the test on {} has no value", t.field)),
                    (Some(_), false) => Err(format!("the test on {} takes no value", t.field)),
                    (Some(v), _) if matches!(t.op, Op::In | Op::NotIn) && !v.is_array() => {
                        Err(format!("the test on {} needs a list as its value", t.field))
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    fn holds(&self, t: &TargetRef) -> bool {
        match self {
            Condition::All { all } => all.iter().all(|c| c.holds(t)),
            Condition::Any { any } => any.iter().any(|c| c.holds(t)),
            Condition::Not { not } => !not.holds(t),
            Condition::Test(test) => test.holds(t),
        }
    }
}

impl Test {
    fn holds(&self, t: &TargetRef) -> bool {
        let field = t.field(&self.field);
        let present = field.as_ref().is_some_and(|v| !v.is_null());
        let value = self.value.as_ref().map(toml_to_json);
        let Some(field) = &field else {
            return self.op == Op::Missing;
        };
        match self.op {
            Op::Exists => present,
            Op::Missing => !present,
            Op::Eq => value.is_some_and(|v| equal(field, &v)),
            Op::Ne => value.is_some_and(|v| !equal(field, &v)),
            Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                match (number(field), value.as_ref().and_then(number)) {
                    (Some(a), Some(b)) => match self.op {
                        Op::Lt => a < b,
                        Op::Le => a <= b,
                        Op::Gt => a > b,
                        _ => a >= b,
                    },
                    _ => false,
                }
            }
            Op::Like | Op::NotLike => {
                let hit = match (
                    text(field),
                    value.as_ref().and_then(|v| v.as_str().map(str::to_string)),
                ) {
                    (Some(s), Some(p)) => like(&s, &p),
                    _ => false,
                };
                hit == (self.op == Op::Like)
            }
            Op::In | Op::NotIn => {
                let list = value
                    .as_ref()
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                list.iter().any(|v| equal(field, v)) == (self.op == Op::In)
            }
        }
    }
}

/// One thing a rule looks at, and its parents.
struct TargetRef<'a> {
    kind: Target,
    value: &'a Value,
    instance: &'a Value,
    database: Option<&'a Value>,
    object: Option<String>,
}

impl<'a> TargetRef<'a> {
    /// A dotted path in the target (`features.transparent_data_encryption`), or in its instance
    /// or database with the prefix `instance.` / `database.`; `length` of a list is its size.
    fn field(&self, path: &str) -> Option<Value> {
        let (root, rest) = match path.split_once('.') {
            Some(("instance", rest)) => (self.instance, rest),
            Some(("database", rest)) if self.database.is_some() => (self.database.unwrap(), rest),
            _ => (self.value, path),
        };
        let mut v = root;
        for part in rest.split('.') {
            match (v, part) {
                (Value::Array(a), "length") => return Some(Value::from(a.len())),
                (Value::Object(o), _) => v = o.get(part)?,
                _ => return None,
            }
        }
        Some(v.clone())
    }
}

/// Every target in one instance's JSON.
fn targets(inst: &Value) -> Vec<TargetRef<'_>> {
    let mut out = vec![TargetRef {
        kind: Target::Instance,
        value: inst,
        instance: inst,
        database: None,
        object: None,
    }];
    let each = |key: &str| inst[key].as_array().into_iter().flatten();
    for (kind, key) in [
        (Target::Login, "logins"),
        (Target::LinkedServer, "linked_servers"),
        (Target::Configuration, "configurations"),
    ] {
        for v in each(key) {
            let object = v["name"].as_str().map(str::to_string);
            out.push(TargetRef {
                kind,
                value: v,
                instance: inst,
                database: None,
                object,
            });
        }
    }
    for job in each("jobs") {
        for step in job["steps"].as_array().into_iter().flatten() {
            let object = Some(format!(
                "{} / step {} ({})",
                job["name"].as_str().unwrap_or("?"),
                step["step_id"],
                step["step_name"].as_str().unwrap_or("?")
            ));
            out.push(TargetRef {
                kind: Target::JobStep,
                value: step,
                instance: inst,
                database: None,
                object,
            });
        }
    }
    for db in each("databases").filter(|d| d["database_id"].as_i64().unwrap_or(0) > 4) {
        out.push(TargetRef {
            kind: Target::Database,
            value: db,
            instance: inst,
            database: Some(db),
            object: None,
        });
        for (kind, key) in [(Target::Module, "modules"), (Target::Table, "tables")] {
            for v in db[key].as_array().into_iter().flatten() {
                let object = Some(format!(
                    "{}.{}",
                    v["schema"].as_str().unwrap_or(""),
                    v["name"].as_str().unwrap_or("?")
                ));
                out.push(TargetRef {
                    kind,
                    value: v,
                    instance: inst,
                    database: Some(db),
                    object,
                });
            }
        }
    }
    out
}

/// `{field}` placeholders replaced by the target's values.
fn render(template: &str, t: &TargetRef) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                let path = &rest[open + 1..open + close];
                match t.field(path) {
                    Some(v) => out.push_str(&text(&v).unwrap_or_else(|| v.to_string())),
                    None => out.push_str(&rest[open..=open + close]),
                }
                rest = &rest[open + close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn toml_to_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Equality as SQL Server's default collation sees it: strings case-insensitively, numbers by
/// value.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        (Value::Number(_), _) | (_, Value::Number(_)) => {
            number(a).is_some() && number(a) == number(b)
        }
        _ => a == b,
    }
}

/// SQL LIKE: `%` any run, `_` one character, case-insensitive.
fn like(s: &str, pattern: &str) -> bool {
    let s: Vec<char> = s.to_lowercase().chars().collect();
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    // Classic two-pointer wildcard match with backtracking to the last %.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while i < s.len() {
        if j < p.len() && (p[j] == '_' || p[j] == s[i]) {
            i += 1;
            j += 1;
        } else if j < p.len() && p[j] == '%' {
            star = Some(j);
            mark = i;
            j += 1;
        } else if let Some(st) = star {
            j = st + 1;
            mark += 1;
            i = mark;
        } else {
            return false;
        }
    }
    p[j..].iter().all(|c| *c == '%')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_matches_as_sql_server_does() {
        assert!(like("CONTOSO\\svc_etl", "contoso\\%"));
        assert!(like("Sales_2019", "Sales_20__"));
        assert!(!like("Sales", "Sales_%"));
        assert!(like("abc", "%"));
        assert!(like("a%c", "a%c"));
    }
}
