//! Tables whose row count a fixture declares, for sizes no test can store (`"declared_rows":
//! {"dbo.Events": 3000000000}`): the table holds the rows its setup inserted, and counts the
//! declared number. Over the whole table, `COUNT` past int's range raises 8115 as SQL Server's
//! does (count-transact-sql.md: "COUNT always returns an int data type value"; for more rows,
//! "use COUNT_BIG"), `COUNT_BIG` (and `COUNT` below that) answers the declared count, and
//! sys.partitions reports it. A count with a WHERE, a join or a GROUP BY counts the stored rows.
//!
//! The declarations live in each database's `__sqlsim_declared_rows`, so a backup carries them
//! to where it is restored.

use rusqlite::{Connection, OptionalExtension};
use sqlparser::ast::{Expr, SelectItem, Statement, TableFactor};

use super::rewrite::{Rewriter, ident_parts};
use super::{Outcome, errors};
use crate::tds::tokens::ServerMessage;
use crate::tds::types::Value;

/// The table of declarations in database `d` (quoted).
pub fn install(conn: &Connection, d: &str) -> rusqlite::Result<()> {
    conn.execute_batch(&format!(
        "CREATE TABLE {d}.__sqlsim_declared_rows (object_id INT PRIMARY KEY, rows BIGINT NOT NULL);"
    ))
}

/// Records that table `object_id` of database `d` (quoted) counts `rows`.
pub fn declare(conn: &Connection, d: &str, object_id: i64, rows: i64) -> rusqlite::Result<()> {
    conn.execute(
        &format!("INSERT OR REPLACE INTO {d}.__sqlsim_declared_rows VALUES (?1, ?2)"),
        [object_id, rows],
    )
    .map(|_| ())
}

/// The declared count of table `object_id` in database `d` (quoted), if any.
pub fn of(conn: &Connection, d: &str, object_id: i64) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        &format!("SELECT rows FROM {d}.__sqlsim_declared_rows WHERE object_id = ?1"),
        [object_id],
        |r| r.get(0),
    )
    .optional()
}

/// The COUNT or COUNT_BIG a result column is, if it is one.
fn count_of(item: &SelectItem) -> Option<String> {
    let (SelectItem::UnnamedExpr(Expr::Function(f))
    | SelectItem::ExprWithAlias {
        expr: Expr::Function(f),
        ..
    }) = item
    else {
        return None;
    };
    let name = f.name.to_string().to_ascii_uppercase();
    matches!(name.as_str(), "COUNT" | "COUNT_BIG").then_some(name)
}

/// The one table a query counts whole: a COUNT or COUNT_BIG over a single table in FROM, with
/// no WHERE, join or GROUP BY. (Every other statement is left alone without a lookup.)
pub fn whole_table(stmt: &Statement, rw: &Rewriter) -> Option<(String, String, String)> {
    let select = super::result_types::first_select(stmt)?;
    if !select.projection.iter().any(|i| count_of(i).is_some()) {
        return None;
    }
    let [from] = select.from.as_slice() else {
        return None;
    };
    if !from.joins.is_empty() || select.selection.is_some() || select.having.is_some() {
        return None;
    }
    if !matches!(&select.group_by, sqlparser::ast::GroupByExpr::Expressions(e, _) if e.is_empty()) {
        return None;
    }
    let TableFactor::Table { name, .. } = &from.relation else {
        return None;
    };
    Some(rw.resolve(&ident_parts(name)))
}

/// Applies a declared count of `rows` to a whole-table query's results: COUNT_BIG answers it,
/// COUNT too while it fits an int, and raises 8115 past that.
pub fn apply(
    stmt: &Statement,
    rows: i64,
    line: i32,
    outcomes: &mut [Outcome],
) -> Result<(), ServerMessage> {
    let Some(select) = super::result_types::first_select(stmt) else {
        return Ok(());
    };
    for (i, item) in select.projection.iter().enumerate() {
        let Some(count) = count_of(item) else {
            continue;
        };
        if count == "COUNT" && rows > i32::MAX as i64 {
            return Err(errors::error(
                8115,
                16,
                line,
                "Arithmetic overflow error converting expression to data type int.",
            ));
        }
        for o in outcomes.iter_mut() {
            if let Outcome::Rows { rows: values, .. } = o {
                for r in values.iter_mut() {
                    r[i] = Value::Integer(rows);
                }
            }
        }
    }
    Ok(())
}
