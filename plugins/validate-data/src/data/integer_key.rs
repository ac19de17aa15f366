//! Tables keyed by one integer column — most are (IDENTITY keys): the key span is cut into
//! pieces of equal width by arithmetic, so no query reads boundaries (on text or composite keys,
//! `ROW_NUMBER()` over the range does), and the first cut is the whole-table comparison. An equal
//! table costs its key's two ends (index seeks) and one batch of range aggregates a side: one
//! pass over the table, as a whole-table checksum would be.

use super::{Compare, FAN_OUT, Range, Sums, opt_int};
use sqlmig_plugin_sdk::Error;
use sqlmig_plugin_sdk::sql::SqlValue;
use sqlmig_plugin_sdk::tsql::quote_name;

/// The integer types a key may have for this path.
const INTEGER_TYPES: [&str; 4] = ["tinyint", "smallint", "int", "bigint"];

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

    /// The smallest and largest key over both sides (an index seek each); `None` when both are
    /// empty or the span is too wide for bigint arithmetic (the general path takes those).
    pub(super) fn span(&mut self) -> Result<Option<(i64, i64)>, Error> {
        let key = quote_name(&self.spec.key[0]);
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for source in [true, false] {
            // Two subqueries: each end is one index seek (one MIN and one MAX in a single
            // SELECT may scan).
            let table = &self.side(source).table;
            let sql = format!(
                "SELECT (SELECT MIN({key}) FROM {table}) AS lo, (SELECT MAX({key}) FROM {table}) AS hi"
            );
            let rows = self.query(source, &sql, &[])?;
            let row = rows.into_iter().next().unwrap_or_default();
            if let (Some(a), Some(b)) = (opt_int(row.first()), opt_int(row.get(1))) {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        let fits = lo <= hi && i128::from(hi) - i128::from(lo) < i128::from(i64::MAX);
        Ok(fits.then_some((lo, hi)))
    }

    /// Compares the whole table by keys `lo..=hi`: the first cut is the whole-table comparison
    /// (its pieces' counts are the table's), so no separate pass precedes it.
    pub(super) fn run_integer(&mut self, lo: i64, hi: i64) -> Result<(), Error> {
        let (bounds, s, t) = self.integer_pieces(lo, hi)?;
        self.result.rows_source = s.iter().map(|x| x.0).sum();
        self.result.rows_target = t.iter().map(|x| x.0).sum();
        self.total = self.result.rows_source.max(self.result.rows_target);
        self.settle_integer(bounds, s, t)
    }

    /// Settles keys `lo..=hi`, which hold `rows` (source, target): row by row when few, else cut
    /// again.
    fn check_integer(&mut self, lo: i64, hi: i64, rows: (u64, u64)) -> Result<(), Error> {
        if self.stopped() {
            return Ok(());
        }
        let n = rows.0.max(rows.1);
        if n <= self.options.leaf_rows.max(1) || lo == hi {
            self.compare_rows(&between(lo, hi))?;
            self.settled += n;
            self.report();
            return Ok(());
        }
        let (bounds, s, t) = self.integer_pieces(lo, hi)?;
        self.settle_integer(bounds, s, t)
    }

    /// `lo..=hi` cut into FAN_OUT pieces of equal width, with each side's sums per piece.
    #[allow(clippy::type_complexity)]
    fn integer_pieces(
        &mut self,
        lo: i64,
        hi: i64,
    ) -> Result<(Vec<(i64, i64)>, Vec<Sums>, Vec<Sums>), Error> {
        // The span fits i64 (see `span`), so it divides as u64.
        let span = (i128::from(hi) - i128::from(lo) + 1) as u64;
        let width = span.div_ceil(FAN_OUT).max(1) as i64;
        let bounds: Vec<(i64, i64)> = (0..FAN_OUT as i64)
            .map(|i| lo.saturating_add(i.saturating_mul(width)))
            .take_while(|start| *start <= hi)
            .map(|start| (start, start.saturating_add(width - 1).min(hi)))
            .collect();
        let pieces: Vec<Range> = bounds.iter().map(|(a, b)| between(*a, *b)).collect();
        let s = self.piece_sums(true, &pieces)?;
        let t = self.piece_sums(false, &pieces)?;
        Ok((bounds, s, t))
    }

    /// Looks into each piece whose sums differ; settles the others.
    fn settle_integer(
        &mut self,
        bounds: Vec<(i64, i64)>,
        s: Vec<Sums>,
        t: Vec<Sums>,
    ) -> Result<(), Error> {
        for (((a, b), x), y) in bounds.into_iter().zip(s).zip(t) {
            if x == y {
                self.settled += x.0;
                continue;
            }
            self.check_integer(a, b, (x.0, y.0))?;
            if self.stopped() {
                break;
            }
        }
        self.report();
        Ok(())
    }
}

/// Keys `lo..=hi`.
fn between(lo: i64, hi: i64) -> Range {
    Range {
        lo: Some(vec![SqlValue::Int(lo)]),
        lo_inclusive: true,
        hi: Some(vec![SqlValue::Int(hi)]),
    }
}
