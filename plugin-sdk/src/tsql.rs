//! T-SQL helpers for plugins: names quoted and literals escaped where T-SQL takes no parameter
//! (three-part names, previews), and per-table counts and checksums computed by the server.

use crate::sql::Connection;
use crate::{Error, Rows, invalid_input};

/// `[name]` with `]` doubled: a database named `x]; DROP DATABASE y; --` stays a name.
pub fn quote_name(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// `N'text'` with `'` doubled.
pub fn literal(text: &str) -> String {
    format!("N'{}'", text.replace('\'', "''"))
}

/// A blob folder name for a database's backups (Managed Instance restores from one flat folder
/// per database): letters, digits, `-` and `_` kept, the rest `_`, and a short hash of the exact
/// name so that `a]b` and `a'b` do not share a folder.
pub fn blob_folder(database: &str) -> String {
    let safe: String = database
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let hash = database.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{safe}-{hash:08x}")
}

/// A text parameter (`@name`).
pub fn text_param(name: &str, value: &str) -> crate::sql::Param {
    crate::sql::Param {
        name: name.into(),
        value: crate::sql::SqlValue::Text(value.into()),
    }
}

/// An exact numeric parameter (`@name`) from its decimal text — an LSN, a `numeric(25,0)`.
pub fn decimal_param(name: &str, value: &str) -> crate::sql::Param {
    crate::sql::Param {
        name: name.into(),
        value: crate::sql::SqlValue::Decimal(value.into()),
    }
}

/// The first result set of `statement`.
pub fn first_result(
    conn: &Connection,
    statement: &str,
    params: &[crate::sql::Param],
) -> Result<Rows, Error> {
    let mut sets = conn.query(statement, params)?;
    if sets.is_empty() {
        return Err(invalid_input(format!("no result from: {statement}")));
    }
    Ok(Rows::new(sets.swap_remove(0)))
}

/// One user table's row count and `CHECKSUM_AGG(BINARY_CHECKSUM(*))`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSum {
    /// `schema.table`.
    pub table: String,
    pub rows: i64,
    pub checksum: Option<i64>,
}

/// Row counts and checksums of every user table of database `db`, computed by the server (only
/// the aggregates cross the wire).
pub fn table_sums(conn: &Connection, db: &str) -> Result<Vec<TableSum>, Error> {
    let tables = first_result(
        conn,
        &format!(
            "SELECT s.name AS schema_name, t.name AS table_name FROM {db}.sys.tables t \
             JOIN {db}.sys.schemas s ON s.schema_id = t.schema_id ORDER BY s.name, t.name",
            db = quote_name(db)
        ),
        &[],
    )?;
    let mut out = Vec::new();
    for t in tables.iter() {
        let (schema, table) = (
            t.get::<String>("schema_name")?,
            t.get::<String>("table_name")?,
        );
        let name = format!(
            "{}.{}.{}",
            quote_name(db),
            quote_name(&schema),
            quote_name(&table)
        );
        let r = first_result(
            conn,
            &format!("SELECT COUNT(*) AS n, CHECKSUM_AGG(BINARY_CHECKSUM(*)) AS c FROM {name}"),
            &[],
        )?;
        let row = r
            .iter()
            .next()
            .ok_or_else(|| invalid_input(format!("no count from {name}")))?;
        out.push(TableSum {
            table: format!("{schema}.{table}"),
            rows: row.get::<i64>("n")?,
            checksum: row.get::<Option<i64>>("c")?,
        });
    }
    Ok(out)
}

/// What differs between the tables of a source and a target (empty when they are equal).
pub fn differences(source: &[TableSum], target: &[TableSum]) -> Vec<String> {
    let mut out = Vec::new();
    for s in source {
        match target.iter().find(|t| t.table == s.table) {
            None => out.push(format!("{}: missing on the target", s.table)),
            Some(t) if t.rows != s.rows => out.push(format!(
                "{}: {} rows on the source, {} on the target",
                s.table, s.rows, t.rows
            )),
            Some(t) if t.checksum != s.checksum => {
                out.push(format!("{}: checksums differ", s.table))
            }
            Some(_) => {}
        }
    }
    for t in target {
        if !source.iter().any(|s| s.table == t.table) {
            out.push(format!("{}: only on the target", t.table));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_literals_cannot_escape() {
        assert_eq!(
            quote_name("x]; DROP DATABASE y; --"),
            "[x]]; DROP DATABASE y; --]"
        );
        assert_eq!(literal("O'Brien"), "N'O''Brien'");
        assert_ne!(blob_folder("a]b"), blob_folder("a'b"));
        assert!(blob_folder("Sales ] 'Q'").starts_with("Sales____Q_-"));
    }

    #[test]
    fn differences_name_the_table() {
        let t = |name: &str, rows, c| TableSum {
            table: name.into(),
            rows,
            checksum: Some(c),
        };
        assert!(differences(&[t("dbo.A", 1, 5)], &[t("dbo.A", 1, 5)]).is_empty());
        assert_eq!(
            differences(&[t("dbo.A", 2, 5)], &[t("dbo.A", 1, 5)]),
            ["dbo.A: 2 rows on the source, 1 on the target"]
        );
        assert_eq!(
            differences(&[t("dbo.A", 1, 5)], &[t("dbo.A", 1, 6), t("dbo.B", 0, 0)]),
            ["dbo.A: checksums differ", "dbo.B: only on the target"]
        );
    }
}
