//! Tables keyed by one integer column — most are (IDENTITY keys): the key span is cut by
//! arithmetic (`(key - @lo) / @width`), so no query reads boundaries, and the first cut is also
//! the whole-table comparison, its pieces' counts adding up to the table's. An equal table costs
//! two index seeks (MIN, MAX) and one grouped pass a side; each level further reads only the
//! pieces that differ.

use super::{Compare, FAN_OUT, Params, Range, Sums, int, opt_int};
use sqlmig_plugin_sdk::Error;
use sqlmig_plugin_sdk::sql::SqlValue;
use sqlmig_plugin_sdk::tsql::quote_name;

/// The integer types a key may have for this path.
const INTEGER_TYPES: [&str; 4] = ["tinyint", "smallint", "int", "bigint"];

/// A piece of the key span, inclusive at both ends, with each side's sums.
struct Piece {
    lo: i64,
    hi: i64,
    source: Sums,
    target: Sums,
}

impl Compare<'_> {
    /// Whether the key is one column of an integer type on both sides.
    pub(super) fn integer_key(&self) -> bool {
        let [key] = self.spec.key.as_slice() else {
            return false;
        };
        self.spec.columns.iter().any(|c| {
            &c.name == key
                && INTEGER_TYPES.contains(&c.source_type.as_str())
                && INTEGER_TYPES.contains(&c.target_type.as_str())
        })
    }

    /// Compares the table by key arithmetic; false (nothing done) when its key span does not
    /// fit bigint arithmetic, so the general path takes it.
    pub(super) fn run_integer(&mut self) -> Result<bool, Error> {
        let Some((lo, hi)) = self.span()? else {
            return Ok(false);
        };
        if lo > hi {
            // Both sides empty.
            return Ok(true);
        }
        let pieces = self.pieces(lo, hi)?;
        self.result.rows_source = pieces.iter().map(|p| p.source.0).sum();
        self.result.rows_target = pieces.iter().map(|p| p.target.0).sum();
        self.total = self.result.rows_source.max(self.result.rows_target);
        self.settle(pieces)?;
        Ok(true)
    }

    /// Each piece whose sums differ is looked into; the others are settled.
    fn settle(&mut self, pieces: Vec<Piece>) -> Result<(), Error> {
        for p in pieces {
            if self.stopped() {
                break;
            }
            if p.source == p.target {
                self.settled += p.source.0;
                continue;
            }
            self.check_integer(p.lo, p.hi, (p.source.0, p.target.0))?;
        }
        self.report();
        Ok(())
    }

    fn check_integer(&mut self, lo: i64, hi: i64, rows: (u64, u64)) -> Result<(), Error> {
        let n = rows.0.max(rows.1);
        if n <= self.options.leaf_rows.max(1) || lo == hi {
            self.compare_rows(&Range {
                lo: Some(vec![SqlValue::Int(lo)]),
                lo_inclusive: true,
                hi: Some(vec![SqlValue::Int(hi)]),
            })?;
            self.settled += n;
            return Ok(());
        }
        let pieces = self.pieces(lo, hi)?;
        self.settle(pieces)
    }

    /// The smallest and largest key over both sides (two index seeks a side); `lo > hi` when
    /// both are empty; `None` when the span is too wide for bigint arithmetic.
    fn span(&mut self) -> Result<Option<(i64, i64)>, Error> {
        let key = quote_name(&self.spec.key[0]);
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for source in [true, false] {
            let sql = format!(
                "SELECT MIN({key}) AS lo, MAX({key}) AS hi FROM {}",
                self.side(source).table
            );
            let rows = self.query(source, &sql, &[])?;
            let row = rows.into_iter().next().unwrap_or_default();
            if let (Some(a), Some(b)) = (opt_int(row.first()), opt_int(row.get(1))) {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        if lo <= hi && i128::from(hi) - i128::from(lo) >= i128::from(i64::MAX) {
            return Ok(None);
        }
        Ok(Some((lo, hi)))
    }

    /// `[lo, hi]` cut into up to FAN_OUT pieces of equal key width, each side's sums per piece
    /// from one grouped query.
    fn pieces(&mut self, lo: i64, hi: i64) -> Result<Vec<Piece>, Error> {
        // The span fits i64 (checked by `span`), so it divides as u64.
        let span = (i128::from(hi) - i128::from(lo) + 1) as u64;
        let width = span.div_ceil(FAN_OUT).max(1) as i64;
        let mut by_piece: std::collections::BTreeMap<i64, Piece> = Default::default();
        for source in [true, false] {
            let key = quote_name(&self.spec.key[0]);
            let key_type = self.key_types(source).remove(0);
            let mut p = Params::default();
            let lo_p = p.add(SqlValue::Int(lo), Some(&key_type));
            let hi_p = p.add(SqlValue::Int(hi), Some(&key_type));
            let lo_big = p.add(SqlValue::Int(lo), Some("bigint"));
            let width_p = p.add(SqlValue::Int(width), Some("bigint"));
            let side = self.side(source);
            let terms = side.terms.join(", ");
            let reversed = side
                .terms
                .iter()
                .rev()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let piece = format!("(CAST({key} AS bigint) - {lo_big}) / {width_p}");
            let sql = format!(
                "SELECT {piece} AS sqlmig_piece, COUNT_BIG(*) AS n, \
                 CHECKSUM_AGG(BINARY_CHECKSUM({terms})) AS c, CHECKSUM_AGG(BINARY_CHECKSUM({reversed})) AS c2 \
                 FROM {} WHERE {key} >= {lo_p} AND {key} <= {hi_p} GROUP BY {piece}",
                side.table
            );
            for r in self.query(source, &sql, &p.list)? {
                let i = int(r.first());
                let sums = (int(r.get(1)) as u64, opt_int(r.get(2)), opt_int(r.get(3)));
                let start = lo.saturating_add(i.saturating_mul(width));
                let entry = by_piece.entry(i).or_insert(Piece {
                    lo: start,
                    hi: start.saturating_add(width - 1).min(hi),
                    source: Sums::default(),
                    target: Sums::default(),
                });
                if source {
                    entry.source = sums;
                } else {
                    entry.target = sums;
                }
            }
        }
        Ok(by_piece.into_values().collect())
    }
}
