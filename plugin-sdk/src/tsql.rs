//! T-SQL helpers for plugins: names quoted and literals escaped where T-SQL takes no parameter
//! (three-part names, previews), and per-table counts and checksums computed by the server.

use crate::protocol::validation::Hash;
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

/// What [`table_sums`] asks of each table, as a plan shows it.
pub const TABLE_SUMS_PREVIEW: &str =
    "SELECT COUNT_BIG(*), CHECKSUM_AGG(BINARY_CHECKSUM(each column, long ones whole))";

/// The names of SQL Server's system data types (`sys.types` rows with `is_user_defined` 0, 2008
/// R2 to 2025: `data-types-transact-sql.md`). A type name from a catalog is written into T-SQL
/// only when it is one of these; any other is quoted.
pub const SYSTEM_TYPES: &[&str] = &[
    "bigint",
    "binary",
    "bit",
    "char",
    "date",
    "datetime",
    "datetime2",
    "datetimeoffset",
    "decimal",
    "float",
    "geography",
    "geometry",
    "hierarchyid",
    "image",
    "int",
    "json",
    "money",
    "nchar",
    "ntext",
    "numeric",
    "nvarchar",
    "real",
    "smalldatetime",
    "smallint",
    "smallmoney",
    "sql_variant",
    "sysname",
    "text",
    "time",
    "timestamp",
    "tinyint",
    "uniqueidentifier",
    "varbinary",
    "varchar",
    "vector",
    "xml",
];

/// What a query over `sys.columns c` selects of each column's type, with the joins of
/// [`column_type_joins`]: the type's name and schema, whether it is a user type (an alias or a
/// CLR type), an alias's base system type, and the column's length, precision and scale.
pub const COLUMN_TYPE_SELECT: &str = "ty.name AS type_name, tys.name AS type_schema, \
     ty.is_user_defined, ty.is_assembly_type, bt.name AS base_type_name, \
     c.max_length, c.precision, c.scale";

/// The joins [`COLUMN_TYPE_SELECT`] reads, in database `db` (written as the query names it:
/// `[Sales]`): an alias type's base is the system type of its `system_type_id`.
pub fn column_type_joins(db: &str) -> String {
    format!(
        "JOIN {db}.sys.types ty ON ty.user_type_id = c.user_type_id \
         JOIN {db}.sys.schemas tys ON tys.schema_id = ty.schema_id \
         LEFT JOIN {db}.sys.types bt ON bt.user_type_id = ty.system_type_id \
              AND ty.is_user_defined = 1 AND ty.is_assembly_type = 0"
    )
}

/// A column's type, rebuilt from the catalog (a row of [`COLUMN_TYPE_SELECT`]), never pasted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnType {
    /// The system type the values have, with its length (`nvarchar(20)`) — for an alias type its
    /// base — or, for a CLR user type, its quoted two-part name: what a CAST may name.
    pub text: String,
    /// As the column was declared: `[dbo].[Phone]` for an alias type, `text` otherwise.
    pub declared: String,
}

/// The [`ColumnType`] of a row read with [`COLUMN_TYPE_SELECT`].
pub fn column_type(row: &crate::Row) -> Result<ColumnType, Error> {
    let name = row.get::<String>("type_name")?;
    let schema = row.get::<String>("type_schema")?;
    let (len, precision, scale) = (
        row.get::<i64>("max_length")?,
        row.get::<i64>("precision")?,
        row.get::<i64>("scale")?,
    );
    let quoted = format!("{}.{}", quote_name(&schema), quote_name(&name));
    let system = |n: &str| {
        SYSTEM_TYPES
            .contains(&n.to_ascii_lowercase().as_str())
            .then(|| type_text(n, len, precision, scale))
    };
    let user_defined = row.get::<bool>("is_user_defined")?;
    Ok(if !user_defined {
        let text = system(&name).unwrap_or_else(|| quoted.clone());
        ColumnType {
            declared: text.clone(),
            text,
        }
    } else {
        let base = row.get::<Option<String>>("base_type_name")?;
        ColumnType {
            text: base
                .as_deref()
                .and_then(system)
                .unwrap_or_else(|| quoted.clone()),
            declared: quoted,
        }
    })
}

/// `nvarchar(40)`, `varbinary(max)`, `decimal(10,2)`, `datetime2(7)`, `int` from sys.columns'
/// numbers, for a system type's `name` ([`SYSTEM_TYPES`]; [`column_type`] checks).
pub fn type_text(name: &str, max_length: i64, precision: i64, scale: i64) -> String {
    let lower = name.to_ascii_lowercase();
    let length = |per_char: i64| {
        if max_length == -1 {
            "max".to_string()
        } else {
            (max_length / per_char).to_string()
        }
    };
    match lower.as_str() {
        "nvarchar" | "nchar" => format!("{lower}({})", length(2)),
        "varchar" | "char" | "varbinary" | "binary" => format!("{lower}({})", length(1)),
        "decimal" | "numeric" => format!("{lower}({precision},{scale})"),
        "datetime2" | "time" | "datetimeoffset" => format!("{lower}({scale})"),
        _ => lower,
    }
}

/// The type a column is checksummed or hashed as: a column whose type differs between the
/// sides goes in as its text on both, and so does xml (it has no binary form of its own).
fn compared_as(type_text: &str, types_differ: bool) -> String {
    let ty = type_text.to_ascii_lowercase();
    if types_differ || ty == "xml" {
        "nvarchar(max)".into()
    } else {
        ty
    }
}

/// The expression a column adds to a row's checksum. BINARY_CHECKSUM "ignores columns of
/// noncomparable data types" (cursor, image, ntext, text, xml, CLR types) and reads "up to 255
/// characters of type nvarchar(max)" (binary-checksum-transact-sql.md), so those go in as
/// `varbinary(max)`, which it reads whole. Only the quoted column name and fixed casts are
/// written: a type's name is never pasted into the text.
pub fn checksum_term(name: &str, type_text: &str, types_differ: bool, hash: Hash) -> String {
    let q = quote_name(name);
    let ty = compared_as(type_text, types_differ);
    let base = if ty != type_text.to_ascii_lowercase() {
        format!("CAST({q} AS nvarchar(max))")
    } else {
        q
    };
    match hash {
        Hash::Checksum if needs_binary(&ty) => format!("CAST({base} AS varbinary(max))"),
        Hash::Checksum => base,
        Hash::Sha2 => format!("HASHBYTES('SHA2_256', CAST({base} AS varbinary(max)))"),
    }
}

/// Why a server cannot hash these columns — (name, type, whether the sides' types differ) —
/// with SHA-2 in full, if it cannot: HASHBYTES has no SHA2_256 before SQL Server 2012
/// (hashbytes-transact-sql.md: "Applies to: SQL Server 2012 through current"; an unknown
/// algorithm answers NULL, so every row would compare equal), and before 2016 "allowed input
/// values are limited to 8000 bytes", which a (max) or LOB column can pass. `major` is the
/// server's major version (11 for 2012).
pub fn sha2_refusal(major: u32, columns: &[(&str, &str, bool)]) -> Option<String> {
    if major < 11 {
        return Some(format!(
            "SQL Server {major}.x has no SHA2_256 in HASHBYTES (2012 and later): compare with --hash checksum"
        ));
    }
    if major < 13
        && let Some((name, ty)) = columns
            .iter()
            .map(|(name, ty, differ)| (name, compared_as(ty, *differ)))
            .find(|(_, ty)| is_lob(ty) || ty.ends_with("(max)"))
    {
        return Some(format!(
            "column {name} is hashed as {ty}, and before SQL Server 2016 HASHBYTES takes at most 8,000 bytes: compare this table with --hash checksum, which reads it whole"
        ));
    }
    None
}

/// The server's major version (13 for SQL Server 2016), from SERVERPROPERTY('ProductVersion').
pub fn major_version(conn: &Connection) -> Result<u32, Error> {
    let rows = first_result(
        conn,
        "SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS v",
        &[],
    )?;
    Ok(rows
        .iter()
        .next()
        .and_then(|r| r.get::<String>("v").ok())
        .and_then(|v| v.split('.').next().and_then(|m| m.parse().ok()))
        .unwrap_or(0))
}

/// The large-object types: BINARY_CHECKSUM ignores them (text, ntext, image, xml and the CLR
/// spatial types are noncomparable) and they can hold more than 8,000 bytes.
fn is_lob(ty: &str) -> bool {
    matches!(
        ty,
        "text" | "ntext" | "image" | "xml" | "geography" | "geometry"
    )
}

/// The types BINARY_CHECKSUM does not read whole: the large objects, and strings longer than
/// the 255 characters it reads.
fn needs_binary(ty: &str) -> bool {
    if is_lob(ty) {
        return true;
    }
    let Some((base, rest)) = ty.split_once('(') else {
        return false;
    };
    if !matches!(base, "char" | "varchar" | "nchar" | "nvarchar") {
        return false;
    }
    let length = rest.trim_end_matches(')');
    length == "max" || length.parse::<u32>().is_ok_and(|n| n > 255)
}

/// One user table's row count (`COUNT_BIG`: COUNT is an int and fails past 2^31−1 rows) and
/// the checksum of its rows, each column in whole ([`checksum_term`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSum {
    /// `schema.table`.
    pub table: String,
    pub rows: i64,
    pub checksum: Option<i64>,
}

/// Row counts and checksums of every user table of database `db`, computed by the server (only
/// the aggregates cross the wire), by the same terms `validate` checksums rows with.
pub fn table_sums(conn: &Connection, db: &str) -> Result<Vec<TableSum>, Error> {
    let columns = first_result(
        conn,
        &format!(
            "SELECT s.name AS schema_name, t.name AS table_name, c.name AS column_name, \
                    {COLUMN_TYPE_SELECT} \
             FROM {db}.sys.tables t JOIN {db}.sys.schemas s ON s.schema_id = t.schema_id \
             JOIN {db}.sys.columns c ON c.object_id = t.object_id {joins} \
             WHERE t.is_ms_shipped = 0 ORDER BY s.name, t.name, c.column_id",
            db = quote_name(db),
            joins = column_type_joins(&quote_name(db)),
        ),
        &[],
    )?;
    let mut tables: Vec<(String, String, Vec<String>)> = Vec::new();
    for c in columns.iter() {
        let (schema, table) = (
            c.get::<String>("schema_name")?,
            c.get::<String>("table_name")?,
        );
        let term = checksum_term(
            &c.get::<String>("column_name")?,
            &column_type(&c)?.text,
            false,
            Hash::Checksum,
        );
        match tables.last_mut() {
            Some((s, t, terms)) if *s == schema && *t == table => terms.push(term),
            _ => tables.push((schema, table, vec![term])),
        }
    }
    let mut out = Vec::new();
    for (schema, table, terms) in tables {
        let name = format!(
            "{}.{}.{}",
            quote_name(db),
            quote_name(&schema),
            quote_name(&table)
        );
        let r = first_result(
            conn,
            &format!(
                "SELECT COUNT_BIG(*) AS n, CHECKSUM_AGG(BINARY_CHECKSUM({})) AS c FROM {name}",
                terms.join(", ")
            ),
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
    fn types_are_written_as_t_sql_writes_them() {
        assert_eq!(type_text("nvarchar", 80, 0, 0), "nvarchar(40)");
        assert_eq!(type_text("varbinary", -1, 0, 0), "varbinary(max)");
        assert_eq!(type_text("decimal", 9, 10, 2), "decimal(10,2)");
        assert_eq!(type_text("datetime2", 8, 27, 7), "datetime2(7)");
        assert_eq!(type_text("INT", 4, 10, 0), "int");
    }

    #[test]
    fn sha2_is_refused_where_hashbytes_cannot_take_it() {
        let cols = [("id", "int", false), ("note", "nvarchar(max)", false)];
        assert!(
            sha2_refusal(10, &cols[..1])
                .unwrap()
                .contains("no SHA2_256")
        );
        assert!(
            sha2_refusal(12, &cols)
                .unwrap()
                .contains("column note is hashed as nvarchar(max)")
        );
        assert_eq!(sha2_refusal(12, &cols[..1]), None);
        assert_eq!(sha2_refusal(13, &cols), None);
        // Compared as text, an int is hashed as nvarchar(max).
        assert!(sha2_refusal(12, &[("id", "int", true)]).is_some());
    }

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
