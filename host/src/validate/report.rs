//! The validation report (`sqlmig.validation/1`): per database the schema's differences, per
//! table the rows, the method and the keys that differ, and the workload's timings; the console
//! summary a DBA reads first.

use std::fmt::Write;

use serde::Serialize;
use sqlmig_protocol::validation::{
    RowDifference, RowDifferenceKind, SchemaComparison, TableComparison,
};

/// The `schema` of the report.
pub const SCHEMA: &str = "sqlmig.validation/1";

/// Everything `sqlmig validate` found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: String,
    pub generated_at: String,
    pub source: String,
    pub target: String,
    /// `counts`, `checksum` or `full`.
    pub mode: String,
    /// Equal in everything compared, and everything asked for was compared.
    pub equal: bool,
    pub summary: Summary,
    pub databases: Vec<DatabaseReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performance: Option<Performance>,
}

/// Counts for the summary line.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub databases: usize,
    pub schema_differences: usize,
    pub tables: usize,
    pub tables_equal: usize,
    pub tables_different: usize,
    /// Tables not compared (time or difference budget spent, or an error).
    pub tables_not_compared: usize,
    pub rows_differing: usize,
    pub rows_read: u64,
    pub bytes_read: u64,
    pub slower_queries: usize,
    pub seconds: f64,
}

/// One database pair.
#[derive(Clone, Debug, Serialize)]
pub struct DatabaseReport {
    pub source: String,
    pub target: String,
    /// The target has no such database: nothing else was compared.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub missing_on_target: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<SchemaComparison>,
    pub tables: Vec<TableReport>,
    /// Why the database could not be compared at all (its catalog could not be read): the
    /// others were compared, and the run fails (exit code 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One table: its comparison, or why there is none.
#[derive(Clone, Debug, Serialize)]
pub struct TableReport {
    pub table: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<TableComparison>,
    /// Why it was not compared (a budget, or the error that stopped it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_compared: Option<String>,
    /// The comparison failed (a server error): the run ends with exit code 3.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
}

/// The workload's timings.
#[derive(Clone, Debug, Serialize)]
pub struct Performance {
    pub file: String,
    pub runs: u32,
    /// A query whose target median is this many times the source's, or more, is flagged.
    pub slower_than: f64,
    pub queries: Vec<QueryTiming>,
}

/// One workload query on both sides.
#[derive(Clone, Debug, Serialize)]
pub struct QueryTiming {
    pub name: String,
    pub database: String,
    pub source_p50_ms: f64,
    pub source_p95_ms: f64,
    pub target_p50_ms: f64,
    pub target_p95_ms: f64,
    /// Target median over source median.
    pub ratio: f64,
    pub slower: bool,
    /// The query failed on a side: what it said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl DatabaseReport {
    /// A database that could not be compared at all, and why.
    pub fn not_compared(source: String, target: String, why: String) -> DatabaseReport {
        DatabaseReport {
            source,
            target,
            missing_on_target: false,
            schema: None,
            tables: Vec::new(),
            error: Some(why),
        }
    }
}

impl Report {
    /// Fills in the summary and the verdict from the parts.
    pub fn conclude(&mut self, seconds: f64) {
        let mut s = Summary {
            databases: self.databases.len(),
            seconds,
            ..Summary::default()
        };
        let mut equal = true;
        for d in &self.databases {
            if d.missing_on_target || d.error.is_some() {
                equal = false;
            }
            if let Some(schema) = &d.schema {
                s.schema_differences += schema.differences.len();
            }
            for t in &d.tables {
                s.tables += 1;
                match t.comparison.as_ref().map(Verdict::of) {
                    Some(Verdict::Equal) => s.tables_equal += 1,
                    Some(Verdict::Different(rows)) => {
                        s.tables_different += 1;
                        s.rows_differing += rows;
                    }
                    Some(Verdict::Incomplete) | None => s.tables_not_compared += 1,
                }
                if let Some(c) = &t.comparison {
                    s.rows_read += c.rows_read;
                    s.bytes_read += c.bytes_read;
                }
            }
        }
        if let Some(p) = &self.performance {
            s.slower_queries = p
                .queries
                .iter()
                .filter(|q| q.slower || q.error.is_some())
                .count();
        }
        equal &= s.schema_differences == 0
            && s.tables_different == 0
            && s.tables_not_compared == 0
            && s.slower_queries == 0;
        self.equal = equal;
        self.summary = s;
    }

    /// Whether a comparison failed on a server error.
    pub fn failed(&self) -> bool {
        self.databases
            .iter()
            .any(|d| d.error.is_some() || d.tables.iter().any(|t| t.failed))
    }

    /// EQUAL, DIFFERENT, or NOT COMPARED when nothing differs but something could not be
    /// compared (a database not online, a server's error).
    pub fn verdict(&self) -> &'static str {
        let differs = self.summary.tables_different > 0
            || self.summary.schema_differences > 0
            || self.databases.iter().any(|d| d.missing_on_target);
        if self.equal {
            "EQUAL"
        } else if !differs && self.failed() {
            "NOT COMPARED"
        } else {
            "DIFFERENT"
        }
    }

    /// The console text: the verdict, then what differs, database by database.
    pub fn console(&self) -> String {
        let mut out = String::new();
        let s = &self.summary;
        let _ = writeln!(
            out,
            "{}: {} database(s), {} table(s) — {} equal, {} different, {} not compared; {} schema difference(s); {} row difference(s) named ({:.1} s, {} read)",
            self.verdict(),
            s.databases,
            s.tables,
            s.tables_equal,
            s.tables_different,
            s.tables_not_compared,
            s.schema_differences,
            s.rows_differing,
            s.seconds,
            bytes(s.bytes_read)
        );
        for d in &self.databases {
            let _ = writeln!(out, "\n{} → {}", d.source, d.target);
            if d.missing_on_target {
                let _ = writeln!(out, "  the target has no database {}", d.target);
                continue;
            }
            if let Some(e) = &d.error {
                let _ = writeln!(out, "  not compared: {e}");
                continue;
            }
            if let Some(schema) = &d.schema {
                if schema.differences.is_empty() {
                    let _ = writeln!(out, "  schema: equal ({})", compared(schema));
                } else {
                    let _ = writeln!(out, "  schema: {} difference(s)", schema.differences.len());
                    for x in &schema.differences {
                        let sides = match (&x.source, &x.target) {
                            (Some(a), Some(b)) => format!(" [source: {a}; target: {b}]"),
                            (Some(a), None) => format!(" [source: {a}]"),
                            (None, Some(b)) => format!(" [target: {b}]"),
                            (None, None) => String::new(),
                        };
                        let _ = writeln!(out, "    {} {}: {}{sides}", x.kind, x.object, x.what);
                    }
                }
            }
            for t in &d.tables {
                let Some(c) = &t.comparison else {
                    let _ = writeln!(
                        out,
                        "  {}: NOT COMPARED — {}",
                        t.table,
                        t.not_compared.as_deref().unwrap_or("")
                    );
                    continue;
                };
                let _ = writeln!(
                    out,
                    "  {}: {} — {} / {} rows",
                    c.table,
                    Verdict::of(c).words(),
                    c.rows_source,
                    c.rows_target
                );
                if let Some(why) = &c.incomplete {
                    let _ = writeln!(out, "    stopped: {why}");
                }
                for r in c.differences.iter().take(20) {
                    let (key, what) = describe(r);
                    let _ = writeln!(out, "    {key}: {what}");
                }
                if c.differences.len() > 20 {
                    let _ = writeln!(
                        out,
                        "    … {} more in the JSON report",
                        c.differences.len() - 20
                    );
                }
                if c.truncated {
                    let _ = writeln!(out, "    (stopped at --max-diffs)");
                }
                for n in &c.notes {
                    let _ = writeln!(out, "    note: {n}");
                }
            }
        }
        if let Some(p) = &self.performance {
            let _ = writeln!(
                out,
                "\nworkload {} ({} runs each; flagged at {:.2}× the source's median):",
                p.file, p.runs, p.slower_than
            );
            for q in &p.queries {
                match &q.error {
                    Some(e) => {
                        let _ = writeln!(out, "  {}: FAILED — {e}", q.name);
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "  {}: source p50 {:.1} ms p95 {:.1} ms, target p50 {:.1} ms p95 {:.1} ms — {:.2}×{}",
                            q.name,
                            q.source_p50_ms,
                            q.source_p95_ms,
                            q.target_p50_ms,
                            q.target_p95_ms,
                            q.ratio,
                            if q.slower { " SLOWER" } else { "" }
                        );
                    }
                }
            }
        }
        out
    }
}

/// How a table's comparison ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Equal,
    /// This many rows were named as differing (or, without a key, the sums differed).
    Different(usize),
    /// Stopped by a budget before anything differed: unproven, not unequal.
    Incomplete,
}

impl Verdict {
    /// The verdict on `c`.
    pub fn of(c: &TableComparison) -> Verdict {
        if c.equal {
            Verdict::Equal
        } else if c.incomplete.is_some() && c.differences.is_empty() {
            Verdict::Incomplete
        } else {
            Verdict::Different(c.differences.len())
        }
    }

    /// In words: `equal`, `3 row(s) differ`, `incomplete`.
    pub fn words(self) -> String {
        match self {
            Verdict::Equal => "equal".into(),
            Verdict::Different(0) => "different".into(),
            Verdict::Different(n) => format!("{n} row(s) differ"),
            Verdict::Incomplete => "incomplete".into(),
        }
    }
}

/// A differing row as people read it: (`id=7, line=2`, `total: "8.75" → "99.99"`).
pub fn describe(r: &RowDifference) -> (String, String) {
    let key: Vec<String> = r.key.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let what = match r.kind {
        RowDifferenceKind::Missing => "missing on the target".to_string(),
        RowDifferenceKind::Extra => "only on the target".to_string(),
        RowDifferenceKind::Changed => r
            .columns
            .iter()
            .map(|c| format!("{}: {} → {}", c.column, c.source, c.target))
            .collect::<Vec<_>>()
            .join(", "),
    };
    (key.join(", "), what)
}

/// What a schema comparison covered, in the order a DBA reads a database: `tables 3, columns
/// 9, indexes 3, modules 1, users 1, permissions 2`.
pub fn compared(schema: &SchemaComparison) -> String {
    const ORDER: [&str; 8] = [
        "tables",
        "columns",
        "indexes",
        "constraints",
        "modules",
        "users",
        "role_members",
        "permissions",
    ];
    let rank = |k: &str| ORDER.iter().position(|o| *o == k).unwrap_or(ORDER.len());
    let mut parts: Vec<(&String, &u64)> = schema.compared.iter().filter(|(_, n)| **n > 0).collect();
    parts.sort_by_key(|(k, _)| rank(k));
    parts
        .iter()
        .map(|(k, n)| format!("{} {n}", k.replace('_', " ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1.2 MB`, `512 B`.
pub fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
