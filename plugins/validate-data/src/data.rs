//! One table's data compared. Both servers count and checksum key ranges — a level's ranges
//! in one batch of range aggregates a side — and only the ranges whose counts or checksums
//! differ are cut again, until a range is small enough to read its rows from both sides and
//! name the keys missing, extra or changed. A table keyed by one integer column is cut by
//! arithmetic on the key (`integer_key`); other keys at boundaries read from one side. A
//! 1,000,000-row table with one changed row costs ten queries and two reads of a few hundred
//! rows.

use std::collections::HashMap;

use sqlmig_plugin_sdk::protocol::migration::{SOURCE, TARGET};
use sqlmig_plugin_sdk::protocol::validation::{
    ColumnDifference, DataOptions, DatabasePair, Hash, Mode, RowDifference, RowDifferenceKind,
    TableComparison, TableSpec,
};
use sqlmig_plugin_sdk::sql::{self, Connection, Param, SqlValue};
use sqlmig_plugin_sdk::tsql::{checksum_term, major_version, quote_name, sha2_refusal};
use sqlmig_plugin_sdk::{Error, clock, invalid_input, progress};

use crate::values::{key_text, same, to_json, wire_size};

mod integer_key;

/// Ranges a differing range is cut into.
const FAN_OUT: u64 = 16;
/// Rows read per batch from a row stream.
const BATCH: u32 = 2000;
/// Rows per chunk in full mode.
const FULL_CHUNK: u64 = 10_000;

/// A key range: above `lo` (from it, when `lo_inclusive`) up to `hi` (inclusive); `None` is
/// open.
#[derive(Clone, Debug, Default)]
struct Range {
    lo: Option<Vec<SqlValue>>,
    lo_inclusive: bool,
    hi: Option<Vec<SqlValue>>,
}

/// (rows, checksum) of a range on one side.
type Sums = (u64, Option<i64>);

/// One side of the comparison.
struct Side {
    conn: Connection,
    /// `[db].[schema].[table]`.
    table: String,
    /// Per column, the expression the checksum is made of.
    terms: Vec<String>,
}

/// The comparison of one table, as it goes.
struct Compare<'a> {
    spec: &'a TableSpec,
    options: &'a DataOptions,
    source: Side,
    target: Side,
    result: TableComparison,
    /// Rows known equal or compared so far (for progress).
    settled: u64,
    total: u64,
}

/// Compares one table.
pub fn compare(
    db: &DatabasePair,
    spec: &TableSpec,
    options: &DataOptions,
) -> Result<TableComparison, Error> {
    let side = |source: bool| -> Result<Side, Error> {
        let (endpoint, database, label) = if source {
            (SOURCE, &db.source, "source")
        } else {
            (TARGET, &db.target, "target")
        };
        let conn = sql::connect(endpoint)?;
        // (name, this side's type, whether the sides' types differ)
        let columns: Vec<(&str, &str, bool)> = spec
            .columns
            .iter()
            .map(|c| {
                let ty = if source {
                    &c.source_type
                } else {
                    &c.target_type
                };
                (c.name.as_str(), ty.as_str(), c.source_type != c.target_type)
            })
            .collect();
        if options.hash == Hash::Sha2
            && let Some(why) = sha2_refusal(major_version(&conn)?, &columns)
        {
            return Err(invalid_input(format!(
                "{}: cannot be hashed with SHA-2 on the {label}: {why}",
                spec.label()
            )));
        }
        Ok(Side {
            conn,
            table: format!(
                "{}.{}.{}",
                quote_name(database),
                quote_name(&spec.schema),
                quote_name(&spec.name)
            ),
            terms: columns
                .iter()
                .map(|(name, ty, differ)| checksum_term(name, ty, *differ, options.hash))
                .collect(),
        })
    };
    let (source, target) = (side(true)?, side(false)?);
    let mut c = Compare {
        spec,
        options,
        source,
        target,
        result: TableComparison {
            table: spec.label(),
            ..TableComparison::default()
        },
        settled: 0,
        total: 0,
    };
    for col in spec
        .columns
        .iter()
        .filter(|c| c.source_type != c.target_type)
    {
        c.result.notes.push(format!(
            "column {} is {} on the source and {} on the target: compared as text",
            col.name, col.source_type, col.target_type
        ));
    }
    c.run()?;
    Ok(c.result)
}

impl Compare<'_> {
    fn run(&mut self) -> Result<(), Error> {
        if self.options.mode == Mode::Checksum && self.integer_key() {
            // (Both sides empty, or a key span too wide for bigint arithmetic: the general path.)
            if let Some((lo, hi)) = self.span()? {
                self.result.method =
                    self.checksum_method("key ranges of equal width on the integer key");
                self.run_integer(lo, hi)?;
                return self.conclude();
            }
        }
        let all = Range::default();
        let s = self.sums(true, &all)?;
        let t = self.sums(false, &all)?;
        self.result.rows_source = s.0;
        self.result.rows_target = t.0;
        self.total = s.0.max(t.0);
        if self.options.mode == Mode::Counts {
            self.result.method = "row counts".into();
            self.result.equal = s.0 == t.0;
            return Ok(());
        }
        if self.spec.key.is_empty() {
            return self.without_key(s, t);
        }
        match self.options.mode {
            Mode::Full => {
                self.result.method = format!(
                    "every row read from both sides and compared by key, in chunks of {FULL_CHUNK}"
                );
                self.check(&all, (s.0, t.0), true)?;
            }
            _ => {
                self.result.method =
                    self.checksum_method("key ranges cut at boundaries read from one side");
                if s == t {
                    self.settled = self.total;
                } else {
                    self.check(&all, (s.0, t.0), false)?;
                }
            }
        }
        self.conclude()
    }

    /// How checksum mode compared, in words.
    fn checksum_method(&self, cut: &str) -> String {
        format!(
            "{} computed by both servers over {cut}, ranges that differ split until at most {} rows, then compared row by row",
            match self.options.hash {
                Hash::Checksum => "counts and CHECKSUM_AGG(BINARY_CHECKSUM(…))",
                Hash::Sha2 => "counts and checksums of each column's HASHBYTES('SHA2_256', …)",
            },
            self.options.leaf_rows
        )
    }

    /// The verdict, once the ranges are settled.
    fn conclude(&mut self) -> Result<(), Error> {
        let sums_differed = self.settled < self.total || !self.result.differences.is_empty();
        if self.options.mode == Mode::Checksum
            && sums_differed
            && self.result.differences.is_empty()
            && self.result.incomplete.is_none()
        {
            self.result.notes.push(
                "the checksums differed but every row compared equal (column types differ, or text equal under a different byte form)".into(),
            );
        }
        self.result.equal = self.result.differences.is_empty() && self.result.incomplete.is_none();
        self.report();
        Ok(())
    }

    /// A table without a key: the whole table's count and checksum, or (full mode) every row
    /// of each side matched as a multiset.
    fn without_key(&mut self, s: Sums, t: Sums) -> Result<(), Error> {
        self.result.notes.push(
            "no primary key or unique index on NOT NULL columns: differing rows cannot be named by key".into(),
        );
        if self.options.mode != Mode::Full {
            self.result.method = "count and checksum of the whole table".into();
            self.result.equal = s == t;
            return Ok(());
        }
        self.result.method = "every row read from both sides and matched as a multiset".into();
        let mut counts: HashMap<String, (i64, Vec<SqlValue>)> = HashMap::new();
        for (is_source, sign) in [(true, 1), (false, -1)] {
            let rows = self.read_rows(is_source, &Range::default())?;
            for row in rows {
                let entry = counts.entry(key_text(&row)).or_insert((0, row));
                entry.0 += sign;
            }
        }
        let mut listed: Vec<(i64, Vec<SqlValue>)> =
            counts.into_values().filter(|(n, _)| *n != 0).collect();
        listed.sort_by_key(|(_, row)| key_text(row));
        for (n, row) in listed {
            let kind = if n > 0 {
                RowDifferenceKind::Missing
            } else {
                RowDifferenceKind::Extra
            };
            for _ in 0..n.unsigned_abs() {
                if !self.push(RowDifference {
                    kind,
                    key: self
                        .spec
                        .columns
                        .iter()
                        .zip(&row)
                        .map(|(c, v)| (c.name.clone(), to_json(v)))
                        .collect(),
                    columns: Vec::new(),
                }) {
                    break;
                }
            }
        }
        self.result.equal = self.result.differences.is_empty();
        Ok(())
    }

    /// Settles `range`, which holds `rows` (source, target): row by row when small, else cut
    /// into ranges whose sums are compared (in full mode, into chunks read row by row).
    fn check(&mut self, range: &Range, rows: (u64, u64), full: bool) -> Result<(), Error> {
        if self.stopped() {
            return Ok(());
        }
        let n = rows.0.max(rows.1);
        let leaf = if full {
            FULL_CHUNK
        } else {
            self.options.leaf_rows.max(1)
        };
        if n <= leaf {
            self.compare_rows(range)?;
            self.settled += n;
            self.report();
            return Ok(());
        }
        let parts = if full {
            n.div_ceil(leaf)
        } else {
            FAN_OUT.min(n.div_ceil(leaf)).max(2)
        };
        // Boundaries from the side with more rows here, so its rows spread evenly.
        let bounds = self.boundaries(rows.0 >= rows.1, range, n.div_ceil(parts))?;
        if bounds.is_empty() {
            self.compare_rows(range)?;
            self.settled += n;
            return Ok(());
        }
        let pieces = split(range, &bounds);
        if full {
            for piece in &pieces {
                if self.stopped() {
                    break;
                }
                self.check(piece, (leaf, leaf), true)?;
            }
            return Ok(());
        }
        let s = self.piece_sums(true, &pieces)?;
        let t = self.piece_sums(false, &pieces)?;
        for ((piece, a), b) in pieces.iter().zip(s).zip(t) {
            if a == b {
                self.settled += a.0;
                continue;
            }
            self.check(piece, (a.0, b.0), false)?;
            if self.stopped() {
                break;
            }
        }
        self.report();
        Ok(())
    }

    /// Whether to stop: enough differences named, or the time budget spent.
    fn stopped(&mut self) -> bool {
        if self.result.truncated || self.result.incomplete.is_some() {
            return true;
        }
        if let Some(deadline) = self.options.deadline_ms
            && clock::now() > deadline
        {
            self.result.incomplete = Some(format!(
                "the time budget ran out after {} queries; {} of about {} rows settled",
                self.result.queries, self.settled, self.total
            ));
            return true;
        }
        false
    }

    /// Records a difference; false once the budget of differences is spent.
    fn push(&mut self, d: RowDifference) -> bool {
        if self.result.differences.len() as u64 >= self.options.max_diffs {
            self.result.truncated = true;
            return false;
        }
        self.result.differences.push(d);
        true
    }

    fn report(&self) {
        progress::report(
            self.settled.min(self.total),
            Some(self.total),
            &format!(
                "{}: {} differing row(s) so far, {} queries",
                self.result.table,
                self.result.differences.len(),
                self.result.queries
            ),
        );
    }

    fn side(&self, source: bool) -> &Side {
        if source { &self.source } else { &self.target }
    }

    fn key_columns(&self) -> Vec<String> {
        self.spec.key.iter().map(|k| quote_name(k)).collect()
    }

    /// The key columns' types, by which boundaries are cast back (so an index seek stays one).
    fn key_types(&self, source: bool) -> Vec<String> {
        self.spec
            .key
            .iter()
            .map(|k| {
                let c = self
                    .spec
                    .columns
                    .iter()
                    .find(|c| &c.name == k)
                    .expect("key columns are compared");
                if source {
                    c.source_type.clone()
                } else {
                    c.target_type.clone()
                }
            })
            .collect()
    }

    /// Count and checksum of `range` on one side.
    fn sums(&mut self, source: bool, range: &Range) -> Result<Sums, Error> {
        Ok(self
            .piece_sums(source, std::slice::from_ref(range))?
            .remove(0))
    }

    /// Keys cutting `range` into pieces of `step` rows, read from one side.
    fn boundaries(
        &mut self,
        source: bool,
        range: &Range,
        step: u64,
    ) -> Result<Vec<Vec<SqlValue>>, Error> {
        let mut p = Params::default();
        let filter = self.filter(source, range, &mut p);
        let keys = self.key_columns().join(", ");
        let step_param = p.add(SqlValue::Int(step.max(1) as i64), None);
        let sql = format!(
            "SELECT {keys} FROM (SELECT {keys}, ROW_NUMBER() OVER (ORDER BY {keys}) AS sqlmig_rn \
             FROM {} WHERE {filter}) AS sqlmig_ranked WHERE sqlmig_rn % {step_param} = 0 ORDER BY sqlmig_rn",
            self.side(source).table
        );
        self.query(source, &sql, &p.list)
    }

    /// Count and checksum of each of `pieces` on one side: one range aggregate per piece, all
    /// in one batch (one round trip). Separate range scans rather than one GROUP BY: each is an
    /// index range scan on any engine, and together they read the range once.
    fn piece_sums(&mut self, source: bool, pieces: &[Range]) -> Result<Vec<Sums>, Error> {
        let mut p = Params::default();
        let side = self.side(source);
        let terms = side.terms.join(", ");
        let table = side.table.clone();
        let mut batch = String::new();
        for piece in pieces {
            let filter = self.filter(source, piece, &mut p);
            batch.push_str(&format!(
                "SELECT COUNT_BIG(*) AS n, CHECKSUM_AGG(BINARY_CHECKSUM({terms})) AS c \
                 FROM {table} WHERE {filter};\n"
            ));
        }
        self.result.queries += 1;
        let sets = self.side(source).conn.query(&batch, &p.list)?;
        if sets.len() != pieces.len() {
            return Err(sqlmig_plugin_sdk::invalid_input(format!(
                "{}: {} results for {} ranges",
                self.result.table,
                sets.len(),
                pieces.len()
            )));
        }
        Ok(sets
            .into_iter()
            .map(|set| {
                let row = set.rows.into_iter().next().unwrap_or_default();
                self.result.bytes_read += row.iter().map(wire_size).sum::<u64>();
                (int(row.first()) as u64, opt_int(row.get(1)))
            })
            .collect())
    }

    /// Reads the rows of `range` from one side: the key's values first, then every column's.
    fn read_rows(&mut self, source: bool, range: &Range) -> Result<Vec<Vec<SqlValue>>, Error> {
        let mut p = Params::default();
        let filter = self.filter(source, range, &mut p);
        let columns: Vec<String> = self
            .spec
            .columns
            .iter()
            .map(|c| quote_name(&c.name))
            .collect();
        let sql = format!(
            "SELECT {} FROM {} WHERE {filter}",
            columns.join(", "),
            self.side(source).table
        );
        self.result.queries += 1;
        let stream = self.side(source).conn.stream(&sql, &p.list)?;
        let mut out = Vec::new();
        loop {
            let batch = stream.next_batch(BATCH)?;
            if batch.is_empty() {
                break;
            }
            for row in batch {
                self.result.rows_read += 1;
                self.result.bytes_read += row.iter().map(wire_size).sum::<u64>();
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Reads `range` from both sides and names the rows that differ.
    fn compare_rows(&mut self, range: &Range) -> Result<(), Error> {
        let key_at: Vec<usize> = self
            .spec
            .key
            .iter()
            .map(|k| {
                self.spec
                    .columns
                    .iter()
                    .position(|c| &c.name == k)
                    .expect("key columns are compared")
            })
            .collect();
        let key_of = |row: &[SqlValue]| -> Vec<SqlValue> {
            key_at.iter().map(|i| row[*i].clone()).collect()
        };
        let source_rows = self.read_rows(true, range)?;
        let target_rows = self.read_rows(false, range)?;
        let mut by_key: HashMap<String, Vec<SqlValue>> = HashMap::with_capacity(target_rows.len());
        for row in target_rows {
            by_key.insert(key_text(&key_of(&row)), row);
        }
        let key_json = |spec: &TableSpec, key: &[SqlValue]| -> Vec<(String, serde_json::Value)> {
            spec.key
                .iter()
                .cloned()
                .zip(key.iter().map(to_json))
                .collect()
        };
        let mut found = Vec::new();
        for row in source_rows {
            let key = key_of(&row);
            let text = key_text(&key);
            match by_key.remove(&text) {
                None => found.push((
                    text.clone(),
                    RowDifference {
                        kind: RowDifferenceKind::Missing,
                        key: key_json(self.spec, &key),
                        columns: Vec::new(),
                    },
                )),
                Some(other) => {
                    let columns: Vec<ColumnDifference> = self
                        .spec
                        .columns
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !same(&row[*i], &other[*i]))
                        .map(|(i, c)| ColumnDifference {
                            column: c.name.clone(),
                            source: to_json(&row[i]),
                            target: to_json(&other[i]),
                        })
                        .collect();
                    if !columns.is_empty() {
                        found.push((
                            text.clone(),
                            RowDifference {
                                kind: RowDifferenceKind::Changed,
                                key: key_json(self.spec, &key),
                                columns,
                            },
                        ));
                    }
                }
            }
        }
        for (text, row) in by_key {
            let key = key_of(&row);
            found.push((
                text,
                RowDifference {
                    kind: RowDifferenceKind::Extra,
                    key: key_json(self.spec, &key),
                    columns: Vec::new(),
                },
            ));
        }
        // In a stable order, whatever order the servers returned the rows in.
        found.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, d) in found {
            if !self.push(d) {
                break;
            }
        }
        Ok(())
    }

    /// `WHERE` text for `range` on one side (`1 = 1` for the whole table).
    fn filter(&self, source: bool, range: &Range, p: &mut Params) -> String {
        let keys = self.key_columns();
        let types = self.key_types(source);
        let mut parts = Vec::new();
        if let Some(lo) = &range.lo {
            let op = if range.lo_inclusive { ">=" } else { ">" };
            parts.push(key_compare(&keys, &types, lo, op, p));
        }
        if let Some(hi) = &range.hi {
            parts.push(key_compare(&keys, &types, hi, "<=", p));
        }
        if parts.is_empty() {
            "1 = 1".into()
        } else {
            parts.join(" AND ")
        }
    }

    /// Runs a query on one side and returns its rows, counting what crossed the wire.
    fn query(
        &mut self,
        source: bool,
        sql: &str,
        params: &[Param],
    ) -> Result<Vec<Vec<SqlValue>>, Error> {
        self.result.queries += 1;
        let sets = self.side(source).conn.query(sql, params)?;
        let rows: Vec<Vec<SqlValue>> = sets.into_iter().next().map(|s| s.rows).unwrap_or_default();
        for r in &rows {
            self.result.bytes_read += r.iter().map(wire_size).sum::<u64>();
        }
        Ok(rows)
    }
}

/// `range` cut at `bounds` (ascending keys inside it): `bounds.len() + 1` pieces.
fn split(range: &Range, bounds: &[Vec<SqlValue>]) -> Vec<Range> {
    let mut pieces = Vec::with_capacity(bounds.len() + 1);
    let (mut lo, mut inclusive) = (range.lo.clone(), range.lo_inclusive);
    for b in bounds {
        pieces.push(Range {
            lo: lo.clone(),
            lo_inclusive: inclusive,
            hi: Some(b.clone()),
        });
        lo = Some(b.clone());
        inclusive = false;
    }
    pieces.push(Range {
        lo,
        lo_inclusive: inclusive,
        hi: range.hi.clone(),
    });
    pieces
}

/// `(k1, k2) OP (@a, @b)` written out for SQL Server, which has no row comparison:
/// `k1 > @a OR (k1 = @a AND k2 > @b)`; `<=` likewise, with the last column inclusive.
fn key_compare(
    keys: &[String],
    types: &[String],
    values: &[SqlValue],
    op: &str,
    p: &mut Params,
) -> String {
    // Every column but the last compares strictly; the last as `op` says.
    let strict = match op {
        "<=" => "<",
        ">=" => ">",
        other => other,
    };
    let placeholders: Vec<String> = values
        .iter()
        .zip(types)
        .map(|(v, t)| p.add(v.clone(), Some(t)))
        .collect();
    let mut alternatives = Vec::new();
    for i in 0..keys.len() {
        let mut terms: Vec<String> = (0..i)
            .map(|j| format!("{} = {}", keys[j], placeholders[j]))
            .collect();
        let last = if i + 1 == keys.len() { op } else { strict };
        terms.push(format!("{} {last} {}", keys[i], placeholders[i]));
        alternatives.push(format!("({})", terms.join(" AND ")));
    }
    format!("({})", alternatives.join(" OR "))
}

/// Parameters of one statement: `@p0`, `@p1`, …, each cast back to its column's type.
#[derive(Default)]
struct Params {
    list: Vec<Param>,
}

impl Params {
    fn add(&mut self, value: SqlValue, type_text: Option<&str>) -> String {
        let name = format!("p{}", self.list.len());
        let text = match type_text {
            Some(t) => format!("CAST(@{name} AS {t})"),
            None => format!("@{name}"),
        };
        self.list.push(Param { name, value });
        text
    }
}

fn int(v: Option<&SqlValue>) -> i64 {
    opt_int(v).unwrap_or(0)
}

fn opt_int(v: Option<&SqlValue>) -> Option<i64> {
    match v {
        Some(SqlValue::Int(i)) => Some(*i),
        Some(SqlValue::Decimal(s)) => s.parse().ok(),
        Some(SqlValue::Float(f)) => Some(*f as i64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_keys_compare_column_by_column() {
        let mut p = Params::default();
        let keys = vec!["[a]".to_string(), "[b]".to_string()];
        let types = vec!["int".to_string(), "nvarchar(10)".to_string()];
        let text = key_compare(
            &keys,
            &types,
            &[SqlValue::Int(1), SqlValue::Text("x".into())],
            "<=",
            &mut p,
        );
        assert_eq!(
            text,
            "(([a] < CAST(@p0 AS int)) OR ([a] = CAST(@p0 AS int) AND [b] <= CAST(@p1 AS nvarchar(10))))"
        );
        assert_eq!(p.list.len(), 2);
    }

    #[test]
    fn long_strings_and_lobs_are_checksummed_whole() {
        assert_eq!(
            checksum_term("n", "nvarchar(40)", false, Hash::Checksum),
            "[n]"
        );
        assert_eq!(
            checksum_term("n", "nvarchar(max)", false, Hash::Checksum),
            "CAST([n] AS varbinary(max))"
        );
        assert_eq!(
            checksum_term("n", "varchar(300)", false, Hash::Checksum),
            "CAST([n] AS varbinary(max))"
        );
        assert_eq!(
            checksum_term("x", "xml", false, Hash::Checksum),
            "CAST(CAST([x] AS nvarchar(max)) AS varbinary(max))"
        );
        assert_eq!(checksum_term("f", "float", false, Hash::Checksum), "[f]");
        assert_eq!(
            checksum_term("g", "geography", false, Hash::Checksum),
            "CAST([g] AS varbinary(max))"
        );
        assert_eq!(
            checksum_term("f", "int", true, Hash::Checksum),
            "CAST(CAST([f] AS nvarchar(max)) AS varbinary(max))"
        );
        assert_eq!(
            checksum_term("f", "float", false, Hash::Sha2),
            "HASHBYTES('SHA2_256', CAST([f] AS varbinary(max)))"
        );
    }

    #[test]
    fn ranges_are_cut_at_their_bounds() {
        let b = |i: i64| vec![SqlValue::Int(i)];
        let ends = |r: &Range| (r.lo.as_deref().map(key_text), r.hi.as_deref().map(key_text));
        let pieces = split(&Range::default(), &[b(10), b(20)]);
        let (ten, twenty) = (Some(key_text(&b(10))), Some(key_text(&b(20))));
        assert_eq!(
            pieces.iter().map(ends).collect::<Vec<_>>(),
            [(None, ten.clone()), (ten, twenty.clone()), (twenty, None)]
        );
    }
}
