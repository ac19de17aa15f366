//! Two schemas compared object by object, and the tables both sides have, ready for their data
//! to be compared.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};
use sqlmig_plugin_sdk::protocol::validation::{
    ColumnSpec, SchemaComparison, SchemaDifference, TableSpec,
};

use crate::catalog::{Column, Snapshot, Table};

/// Compares `source` with `target`.
pub fn compare(source: &Snapshot, target: &Snapshot) -> SchemaComparison {
    let mut out = SchemaComparison::default();
    let mut diff =
        |kind: &str, object: &str, what: String, s: Option<String>, t: Option<String>| {
            out.differences.push(SchemaDifference {
                kind: kind.into(),
                object: object.into(),
                what,
                source: s,
                target: t,
            })
        };
    if source.compatibility_level != target.compatibility_level {
        diff(
            "database",
            "compatibility level",
            "the compatibility level differs: queries may be planned differently".into(),
            source.compatibility_level.map(|l| l.to_string()),
            target.compatibility_level.map(|l| l.to_string()),
        );
    }
    if source.collation != target.collation {
        diff(
            "database",
            "collation",
            "the database collation differs: comparisons and sorting of text may change".into(),
            source.collation.clone(),
            target.collation.clone(),
        );
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut tables = Vec::new();
    for (name, s) in &source.tables {
        *counts.entry("tables".into()).or_default() += 1;
        let Some(t) = target.tables.get(name) else {
            diff(
                "table",
                name,
                "missing on the target".into(),
                Some(columns_line(s)),
                None,
            );
            continue;
        };
        compare_table(name, s, t, &mut counts, &mut diff);
        tables.push(spec(s, t));
    }
    for (name, t) in &target.tables {
        if !source.tables.contains_key(name) {
            diff(
                "table",
                name,
                "only on the target".into(),
                None,
                Some(columns_line(t)),
            );
        }
    }
    for (name, (kind, definition)) in &source.modules {
        *counts.entry("modules".into()).or_default() += 1;
        let what = kind.to_ascii_lowercase().replace('_', " ");
        match target.modules.get(name) {
            None => diff(
                "module",
                name,
                format!("{what} missing on the target"),
                Some(digest(definition)),
                None,
            ),
            Some((_, other)) if normalize(definition) != normalize(other) => diff(
                "module",
                name,
                format!(
                    "{what}: the definitions differ ({})",
                    first_difference(definition, other)
                ),
                Some(digest(definition)),
                Some(digest(other)),
            ),
            Some(_) => {}
        }
    }
    for (name, (kind, definition)) in &target.modules {
        if !source.modules.contains_key(name) {
            let what = kind.to_ascii_lowercase().replace('_', " ");
            diff(
                "module",
                name,
                format!("{what} only on the target"),
                None,
                Some(digest(definition)),
            );
        }
    }
    compare_maps(
        "user",
        &source.principals,
        &target.principals,
        &mut counts,
        &mut diff,
    );
    compare_sets(
        "role_member",
        &source.role_members,
        &target.role_members,
        &mut counts,
        &mut diff,
    );
    compare_sets(
        "permission",
        &source.permissions,
        &target.permissions,
        &mut counts,
        &mut diff,
    );
    out.compared = counts;
    out.tables = tables;
    out
}

type Diff<'a> = dyn FnMut(&str, &str, String, Option<String>, Option<String>) + 'a;

fn compare_table(
    name: &str,
    s: &Table,
    t: &Table,
    counts: &mut BTreeMap<String, u64>,
    diff: &mut Diff,
) {
    for c in &s.columns {
        *counts.entry("columns".into()).or_default() += 1;
        let object = format!("{name}.{}", c.name);
        let Some(o) = t
            .columns
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(&c.name))
        else {
            diff(
                "column",
                &object,
                "missing on the target".into(),
                Some(column_line(c)),
                None,
            );
            continue;
        };
        let mut what = Vec::new();
        if !c.declared_type.eq_ignore_ascii_case(&o.declared_type) {
            what.push(format!("type {} → {}", c.declared_type, o.declared_type));
        }
        if c.nullable != o.nullable {
            what.push(format!(
                "{} → {}",
                null_word(c.nullable),
                null_word(o.nullable)
            ));
        }
        if c.collation != o.collation {
            what.push(format!(
                "collation {} → {}",
                c.collation.as_deref().unwrap_or("none"),
                o.collation.as_deref().unwrap_or("none")
            ));
        }
        if c.identity != o.identity {
            what.push(if c.identity {
                "IDENTITY lost".into()
            } else {
                "IDENTITY added".into()
            });
        }
        if c.computed.as_deref().map(normalize) != o.computed.as_deref().map(normalize) {
            what.push("computed definition differs".into());
        }
        if !what.is_empty() {
            diff(
                "column",
                &object,
                what.join("; "),
                Some(column_line(c)),
                Some(column_line(o)),
            );
        }
    }
    for o in &t.columns {
        if !s
            .columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(&o.name))
        {
            diff(
                "column",
                &format!("{name}.{}", o.name),
                "only on the target".into(),
                None,
                Some(column_line(o)),
            );
        }
    }
    for (slot, i) in &s.indexes {
        *counts.entry("indexes".into()).or_default() += 1;
        let kind = if i.primary_key { "key" } else { "index" };
        let object = format!("{name} {}", i.name);
        match t.indexes.get(slot) {
            None => {
                // The same index under another name (scripted with a system-generated one).
                let renamed = t
                    .indexes
                    .values()
                    .find(|o| !s.indexes.contains_key(&o.name) && o.describe() == i.describe());
                match renamed {
                    Some(o) => diff(
                        kind,
                        &object,
                        format!("named {} on the target", o.name),
                        Some(i.describe()),
                        Some(o.describe()),
                    ),
                    None => diff(
                        kind,
                        &object,
                        "missing on the target".into(),
                        Some(i.describe()),
                        None,
                    ),
                }
            }
            Some(o) if o.describe() != i.describe() => diff(
                kind,
                &object,
                "defined differently".into(),
                Some(i.describe()),
                Some(o.describe()),
            ),
            Some(_) => {}
        }
    }
    for (slot, o) in &t.indexes {
        let renamed_from = s
            .indexes
            .values()
            .any(|i| !t.indexes.contains_key(&i.name) && o.describe() == i.describe());
        if !s.indexes.contains_key(slot) && !renamed_from {
            let kind = if o.primary_key { "key" } else { "index" };
            diff(
                kind,
                &format!("{name} {}", o.name),
                "only on the target".into(),
                None,
                Some(o.describe()),
            );
        }
    }
    let prefixed = |m: &BTreeMap<String, String>, what: &str| -> BTreeMap<String, String> {
        m.iter()
            .map(|(k, v)| (format!("{name} {what}{k}"), v.clone()))
            .collect()
    };
    compare_maps(
        "constraint",
        &prefixed(&s.constraints, ""),
        &prefixed(&t.constraints, ""),
        counts,
        diff,
    );
    compare_maps(
        "constraint",
        &prefixed(&s.defaults, "default of "),
        &prefixed(&t.defaults, "default of "),
        counts,
        diff,
    );
}

fn compare_maps(
    kind: &str,
    s: &BTreeMap<String, String>,
    t: &BTreeMap<String, String>,
    counts: &mut BTreeMap<String, u64>,
    diff: &mut Diff,
) {
    for (name, a) in s {
        *counts.entry(format!("{kind}s")).or_default() += 1;
        match t.get(name) {
            None => diff(
                kind,
                name,
                "missing on the target".into(),
                Some(a.clone()),
                None,
            ),
            Some(b) if normalize(a) != normalize(b) => diff(
                kind,
                name,
                "defined differently".into(),
                Some(a.clone()),
                Some(b.clone()),
            ),
            Some(_) => {}
        }
    }
    for (name, b) in t {
        if !s.contains_key(name) {
            diff(
                kind,
                name,
                "only on the target".into(),
                None,
                Some(b.clone()),
            );
        }
    }
}

fn compare_sets(
    kind: &str,
    s: &BTreeSet<String>,
    t: &BTreeSet<String>,
    counts: &mut BTreeMap<String, u64>,
    diff: &mut Diff,
) {
    *counts.entry(format!("{kind}s")).or_default() += s.len() as u64;
    for x in s.difference(t) {
        diff(
            kind,
            x,
            "missing on the target".into(),
            Some(x.clone()),
            None,
        );
    }
    for x in t.difference(s) {
        diff(kind, x, "only on the target".into(), None, Some(x.clone()));
    }
}

/// The table to compare: the columns both sides have, and the source's key when the target has
/// all of its columns.
fn spec(s: &Table, t: &Table) -> TableSpec {
    let columns: Vec<ColumnSpec> = s
        .columns
        .iter()
        .filter_map(|c| {
            let o = t
                .columns
                .iter()
                .find(|o| o.name.eq_ignore_ascii_case(&c.name))?;
            Some(ColumnSpec {
                name: c.name.clone(),
                source_type: c.type_text.clone(),
                target_type: o.type_text.clone(),
            })
        })
        .collect();
    let key = key_of(s)
        .filter(|k| k.iter().all(|c| columns.iter().any(|x| &x.name == c)))
        .unwrap_or_default();
    TableSpec {
        schema: s.schema.clone(),
        name: s.name.clone(),
        key,
        columns,
    }
}

/// The primary key's columns, else a unique index's on columns that allow no NULL.
fn key_of(t: &Table) -> Option<Vec<String>> {
    let not_null = |col: &str| t.columns.iter().any(|c| c.name == col && !c.nullable);
    let plain = |k: &[String]| -> Vec<String> {
        k.iter()
            .map(|c| c.strip_suffix(" DESC").unwrap_or(c).to_string())
            .collect()
    };
    if let Some(pk) = t.indexes.get("PRIMARY KEY") {
        return Some(plain(&pk.key));
    }
    t.indexes
        .values()
        .filter(|i| i.unique && i.filter.is_none())
        .map(|i| plain(&i.key))
        .find(|k| k.iter().all(|c| not_null(c)))
}

fn null_word(nullable: bool) -> &'static str {
    if nullable { "NULL" } else { "NOT NULL" }
}

fn column_line(c: &Column) -> String {
    let mut s = format!("{} {}", c.declared_type, null_word(c.nullable));
    if let Some(coll) = &c.collation {
        s.push_str(&format!(" COLLATE {coll}"));
    }
    if c.identity {
        s.push_str(" IDENTITY");
    }
    if let Some(def) = &c.computed {
        s.push_str(&format!(" AS {def}"));
    }
    s
}

fn columns_line(t: &Table) -> String {
    t.columns
        .iter()
        .map(|c| format!("{} {}", c.name, c.declared_type))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A module's text for comparison: comments gone, runs of whitespace as one space, keywords and
/// names as written (a case-sensitive database tells `Total` from `total`), literals untouched.
pub fn normalize(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut space = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push(c);
                // A literal, `''` inside it included, as written.
                while let Some(d) = chars.next() {
                    out.push(d);
                    if d == '\'' {
                        if chars.peek() == Some(&'\'') {
                            out.push(chars.next().expect("peeked"));
                        } else {
                            break;
                        }
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
                space = true;
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut depth = 1;
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if prev == '/' && d == '*' {
                        depth += 1;
                    } else if prev == '*' && d == '/' {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    prev = d;
                }
                space = true;
            }
            c if c.is_whitespace() => space = true,
            c => {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push(c);
            }
        }
    }
    out
}

/// `sha256:1a2b3c4d…` of a definition's normalized text.
fn digest(definition: &str) -> String {
    let hash = Sha256::digest(normalize(definition).as_bytes());
    let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Where two definitions part, after normalizing: `at "… WHERE total > 100" vs "… WHERE total > 50"`.
fn first_difference(a: &str, b: &str) -> String {
    let (a, b) = (normalize(a), normalize(b));
    let at = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map(|((i, _), _)| i)
        .unwrap_or_else(|| a.len().min(b.len()));
    let around = |s: &str| -> String {
        let start = s[..at.min(s.len())]
            .char_indices()
            .rev()
            .nth(24)
            .map_or(0, |(i, _)| i);
        let text: String = s[start..].chars().take(48).collect();
        format!("{}{text}", if start > 0 { "…" } else { "" })
    };
    format!("source \"{}\", target \"{}\"", around(&a), around(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_text_is_compared_without_comments_or_layout() {
        let a = "CREATE PROCEDURE dbo.p AS\n  -- totals\n  SELECT  'a  b' /* x */ FROM t";
        let b = "CREATE PROCEDURE dbo.p AS SELECT 'a  b' FROM t";
        assert_eq!(normalize(a), normalize(b));
        assert_ne!(normalize("SELECT 'a  b'"), normalize("SELECT 'a b'"));
        assert_ne!(normalize("SELECT Total"), normalize("SELECT total"));
        let d = first_difference(
            "SELECT * FROM t WHERE total > 100",
            "SELECT * FROM t WHERE total > 50",
        );
        assert!(d.contains("total > 100") && d.contains("total > 50"), "{d}");
    }
}
