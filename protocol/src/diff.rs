//! What changed between two inventories: a structural diff in which list items are matched by
//! what identifies them (an instance or database by name, a job step by id, a backup day by date
//! and type), so a database added in the middle is one addition, not a shifted list.

use serde::Serialize;
use serde_json::Value;

use crate::Inventory;

/// One difference, at a path such as `instances[SQL01].databases[Sales].compatibility_level`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// Whether a thing appeared, disappeared or changed value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// Fields that change on every snapshot and say nothing about the estate.
const IGNORED: &[&str] = &["generated_at", "generated_by"];

/// The differences from `before` to `after`, in document order.
pub fn diff(before: &Inventory, after: &Inventory) -> Vec<Change> {
    let a = serde_json::to_value(before).expect("an inventory serializes");
    let b = serde_json::to_value(after).expect("an inventory serializes");
    let mut out = Vec::new();
    walk("", &a, &b, &mut out);
    out
}

/// What identifies a list item among its siblings.
fn key(item: &Value, index: usize) -> String {
    let field = |k: &str| item.get(k).map(scalar_text);
    match item {
        Value::Object(_) => {
            if let (Some(date), Some(ty)) = (field("date"), field("type")) {
                return format!("{date} {ty}");
            }
            if let Some(id) = field("step_id") {
                return id;
            }
            match (field("schema"), field("name")) {
                (Some(schema), Some(name)) => format!("{schema}.{name}"),
                (None, Some(name)) => name,
                _ => field("what")
                    .or_else(|| {
                        field("counter")
                            .zip(field("at"))
                            .map(|(c, a)| format!("{c}@{a}"))
                    })
                    .unwrap_or_else(|| index.to_string()),
            }
        }
        other => scalar_text(other),
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn walk(path: &str, a: &Value, b: &Value, out: &mut Vec<Change>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let ignored = |k: &str| path.is_empty() && IGNORED.contains(&k);
            for (k, va) in x {
                if ignored(k) {
                    continue;
                }
                let p = join(path, k);
                match y.get(k) {
                    Some(vb) => walk(&p, va, vb, out),
                    None => out.push(removed(p, va)),
                }
            }
            for (k, vb) in y {
                if !x.contains_key(k) && !ignored(k) {
                    out.push(added(join(path, k), vb));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            let keyed = |items: &[Value]| -> Vec<(String, Value)> {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (key(v, i), v.clone()))
                    .collect()
            };
            let (kx, ky) = (keyed(x), keyed(y));
            for (k, va) in &kx {
                let p = format!("{path}[{k}]");
                match ky.iter().find(|(kb, _)| kb == k) {
                    Some((_, vb)) => walk(&p, va, vb, out),
                    None => out.push(removed(p, va)),
                }
            }
            for (k, vb) in &ky {
                if !kx.iter().any(|(ka, _)| ka == k) {
                    out.push(added(format!("{path}[{k}]"), vb));
                }
            }
        }
        _ if a != b => out.push(Change {
            path: path.to_string(),
            kind: ChangeKind::Changed,
            before: Some(a.clone()),
            after: Some(b.clone()),
        }),
        _ => {}
    }
}

fn added(path: String, v: &Value) -> Change {
    Change {
        path,
        kind: ChangeKind::Added,
        before: None,
        after: Some(v.clone()),
    }
}

fn removed(path: String, v: &Value) -> Change {
    Change {
        path,
        kind: ChangeKind::Removed,
        before: Some(v.clone()),
        after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Database, Instance};

    fn inv(dbs: &[(&str, u32)]) -> Inventory {
        let mut i = Inventory::new();
        i.generated_at = "2026-01-01T00:00:00Z".into();
        i.instances.push(Instance {
            name: "SQL01".into(),
            databases: dbs
                .iter()
                .enumerate()
                .map(|(n, (name, compat))| Database {
                    name: name.to_string(),
                    database_id: 5 + n as i64,
                    compatibility_level: *compat,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        });
        i
    }

    #[test]
    fn items_are_matched_by_name_not_position() {
        let a = inv(&[("Sales", 130), ("Legacy", 90)]);
        let mut b = inv(&[("New", 150), ("Sales", 150), ("Legacy", 90)]);
        b.generated_at = "2026-02-01T00:00:00Z".into();
        // Ids follow position here; keep them as before so only the real changes show.
        b.instances[0].databases[1].database_id = 5;
        b.instances[0].databases[2].database_id = 6;
        b.instances[0].databases[0].database_id = 7;
        let changes = diff(&a, &b);
        let summary: Vec<(String, ChangeKind)> =
            changes.iter().map(|c| (c.path.clone(), c.kind)).collect();
        assert_eq!(
            summary,
            vec![
                (
                    "instances[SQL01].databases[Sales].compatibility_level".to_string(),
                    ChangeKind::Changed
                ),
                (
                    "instances[SQL01].databases[New]".to_string(),
                    ChangeKind::Added
                ),
            ]
        );
        assert_eq!(changes[0].before, Some(130.into()));
        assert_eq!(changes[0].after, Some(150.into()));
        assert!(diff(&a, &a).is_empty());
    }
}
