//! The T-SQL each SQL Server version has: built-in functions, catalog views and syntax that came
//! later are refused on an older instance with the error that version gives, so a query the
//! product sends to every version is proved against each one's surface, not the newest.
//!
//! Versions are from each item's page in MicrosoftDocs/sql-docs ("Applies to: SQL Server 20xx
//! and later"): `docs/t-sql/functions/<name>-transact-sql.md`,
//! `docs/relational-databases/system-dynamic-management-views/<view>-transact-sql.md`,
//! `docs/relational-databases/system-catalog-views/<view>-transact-sql.md`,
//! `docs/t-sql/statements/drop-table-transact-sql.md` (IF EXISTS) and
//! `create-procedure-transact-sql.md` (CREATE OR ALTER). Columns added to a view later are the
//! catalog's business (`catalog*.rs` creates each view with its version's columns).

use sqlparser::ast::{CastKind, Expr, Statement, visit_expressions};
use sqlparser::dialect::MsSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::errors;
use crate::tds::tokens::ServerMessage;

/// A version as `SERVERPROPERTY('ProductVersion')` gives it: major, minor, build.
pub type Version = (u8, u8, u16);

const Y2012: Version = (11, 0, 0);
const Y2016: Version = (13, 0, 0);
const Y2017: Version = (14, 0, 0);
const Y2019: Version = (15, 0, 0);
const Y2022: Version = (16, 0, 0);

/// Built-in functions and the version that brought each.
const FUNCTIONS: &[(&str, Version)] = &[
    ("IIF", Y2012),
    ("CHOOSE", Y2012),
    ("CONCAT", Y2012),
    ("FORMAT", Y2012),
    ("TRY_CONVERT", Y2012),
    ("TRY_CAST", Y2012),
    ("TRY_PARSE", Y2012),
    ("PARSE", Y2012),
    ("EOMONTH", Y2012),
    ("DATEFROMPARTS", Y2012),
    ("DATETIMEFROMPARTS", Y2012),
    ("DATETIME2FROMPARTS", Y2012),
    ("DATETIMEOFFSETFROMPARTS", Y2012),
    ("SMALLDATETIMEFROMPARTS", Y2012),
    ("TIMEFROMPARTS", Y2012),
    ("LAG", Y2012),
    ("LEAD", Y2012),
    ("FIRST_VALUE", Y2012),
    ("LAST_VALUE", Y2012),
    ("CUME_DIST", Y2012),
    ("PERCENT_RANK", Y2012),
    ("PERCENTILE_CONT", Y2012),
    ("PERCENTILE_DISC", Y2012),
    ("STRING_ESCAPE", Y2016),
    ("COMPRESS", Y2016),
    ("DECOMPRESS", Y2016),
    ("DATEDIFF_BIG", Y2016),
    ("ISJSON", Y2016),
    ("JSON_VALUE", Y2016),
    ("JSON_QUERY", Y2016),
    ("JSON_MODIFY", Y2016),
    ("SESSION_CONTEXT", Y2016),
    ("CONCAT_WS", Y2017),
    ("TRIM", Y2017),
    ("TRANSLATE", Y2017),
    ("STRING_AGG", Y2017),
    ("APPROX_COUNT_DISTINCT", Y2019),
    ("GREATEST", Y2022),
    ("LEAST", Y2022),
    ("DATETRUNC", Y2022),
    ("DATE_BUCKET", Y2022),
    ("JSON_OBJECT", Y2022),
    ("JSON_ARRAY", Y2022),
    ("LEFT_SHIFT", Y2022),
    ("RIGHT_SHIFT", Y2022),
    ("BIT_COUNT", Y2022),
    ("GET_BIT", Y2022),
    ("SET_BIT", Y2022),
];

/// Catalog views and DMVs the catalog holds on every version, and the version that brought each.
const VIEWS: &[(&str, Version)] = &[
    ("sys.dm_db_log_stats", (13, 0, 5026)),     // 2016 SP2
    ("sys.dm_os_windows_info", (10, 50, 2500)), // 2008 R2 SP1
    ("sys.dm_server_services", (10, 50, 2500)),
    ("sys.dm_os_volume_stats", (10, 50, 2500)),
    ("sys.availability_groups", Y2012),
    ("sys.availability_replicas", Y2012),
    ("sys.availability_group_listeners", Y2012),
    ("sys.availability_group_listener_ip_addresses", Y2012),
    ("sys.dm_hadr_availability_replica_states", Y2012),
    ("sys.dm_hadr_availability_group_states", Y2012),
    ("sys.dm_hadr_database_replica_states", Y2012),
    ("sys.dm_hadr_database_replica_cluster_states", Y2012),
    ("sys.column_store_row_groups", (12, 0, 0)),
    ("sys.dm_db_xtp_hash_index_stats", (12, 0, 0)),
    ("sys.dm_db_xtp_nonclustered_index_stats", (12, 0, 0)),
];

/// 195 for a built-in function `version` does not have, as that server reports it.
pub fn refuse_functions(
    stmt: &Statement,
    version: Version,
    line: i32,
) -> Result<(), ServerMessage> {
    let mut refused = None;
    let _ = visit_expressions(stmt, |e| {
        // TRY_CONVERT, TRY_CAST and TRIM are syntax of their own to the parser.
        let written = match e {
            Expr::Function(f) => match f.name.0.as_slice() {
                [part] => Some(part.to_string()),
                _ => None,
            },
            Expr::Convert { is_try: true, .. } => Some("TRY_CONVERT".to_string()),
            Expr::Cast {
                kind: CastKind::TryCast,
                ..
            } => Some("TRY_CAST".to_string()),
            Expr::Trim { .. } => Some("TRIM".to_string()),
            _ => None,
        };
        if let Some(written) = written {
            let name = written.to_ascii_uppercase();
            if FUNCTIONS
                .iter()
                .any(|(n, since)| *n == name && version < *since)
            {
                refused = Some(errors::error(
                    195,
                    15,
                    line,
                    format!("'{written}' is not a recognized built-in function name."),
                ));
                return std::ops::ControlFlow::Break(());
            }
        }
        std::ops::ControlFlow::Continue(())
    });
    refused.map_or(Ok(()), Err)
}

/// 208 for a catalog view `version` does not have; `names` are the objects a statement reads
/// as written (`sys.dm_db_log_stats`, `master.sys.dm_db_log_stats`).
pub fn refuse_views<'a>(
    names: impl IntoIterator<Item = &'a str>,
    version: Version,
    line: i32,
) -> Result<(), ServerMessage> {
    for written in names {
        let parts: Vec<&str> = written.rsplitn(3, '.').collect();
        let object = match parts.as_slice() {
            [name, schema, ..] => format!("{schema}.{name}"),
            _ => continue,
        };
        if VIEWS
            .iter()
            .any(|(v, since)| v.eq_ignore_ascii_case(&object) && version < *since)
        {
            return Err(errors::invalid_object(line, written));
        }
    }
    Ok(())
}

/// 156 for syntax 2016 brought, in a batch sent to an older server: `CREATE OR ALTER` (2016 SP1)
/// and `DROP … IF EXISTS`.
pub fn refuse_syntax(sql: &str, version: Version) -> Result<(), ServerMessage> {
    // Every batch passes here: tokenize only what could hold such syntax on a server without it.
    if version >= (13, 0, 4001) || !(contains_word(sql, "ALTER") || contains_word(sql, "EXISTS")) {
        return Ok(());
    }
    let Ok(tokens) = Tokenizer::new(&MsSqlDialect {}, sql).tokenize_with_location() else {
        return Ok(());
    };
    // Unquoted words with their lines; comments and strings are tokens of their own.
    let words: Vec<(String, u64)> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .map(|t| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => {
                (w.value.to_ascii_uppercase(), t.span.start.line)
            }
            _ => (String::new(), t.span.start.line),
        })
        .collect();
    let keyword = |near: &str, line: u64| {
        errors::error(
            156,
            15,
            line as i32,
            format!("Incorrect syntax near the keyword '{near}'."),
        )
    };
    for (i, pair) in words.windows(3).enumerate() {
        let [a, b, c] = pair else { continue };
        if a.0 == "CREATE" && b.0 == "OR" && c.0 == "ALTER" && version < (13, 0, 4001) {
            return Err(keyword("OR", b.1));
        }
        if a.0 == "DROP" && c.0 == "IF" && version < Y2016 {
            let exists = words.get(i + 3).is_some_and(|w| w.0 == "EXISTS");
            if exists {
                return Err(keyword("IF", c.1));
            }
        }
    }
    Ok(())
}

/// Whether `word` (upper case) appears in `sql` in any case.
fn contains_word(sql: &str, word: &str) -> bool {
    sql.as_bytes()
        .windows(word.len())
        .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_syntax_is_refused_where_it_is_not_and_read_where_it_is() {
        let e = refuse_syntax("CREATE OR ALTER PROCEDURE dbo.p AS SELECT 1", (12, 0, 6024))
            .unwrap_err();
        assert_eq!(
            (e.number, e.text.as_str()),
            (156, "Incorrect syntax near the keyword 'OR'.")
        );
        assert!(
            refuse_syntax("CREATE OR ALTER PROCEDURE dbo.p AS SELECT 1", (13, 0, 4001)).is_ok()
        );
        let e = refuse_syntax("SELECT 1;\nDROP TABLE IF EXISTS dbo.t", (12, 0, 6024)).unwrap_err();
        assert_eq!((e.number, e.line), (156, 2));
        assert!(refuse_syntax("DROP TABLE IF EXISTS dbo.t", (13, 0, 1601)).is_ok());
        // Words in strings and comments are not syntax.
        assert!(
            refuse_syntax(
                "SELECT 'DROP TABLE IF EXISTS' -- CREATE OR ALTER",
                (10, 50, 6000)
            )
            .is_ok()
        );
    }

    #[test]
    fn views_are_matched_by_schema_and_name_in_any_database() {
        assert!(refuse_views(["master.sys.dm_db_log_stats"], (13, 0, 4001), 1).is_err());
        assert!(refuse_views(["sys.dm_db_log_stats"], (13, 0, 5026), 1).is_ok());
        assert!(refuse_views(["sys.availability_groups"], (10, 50, 6000), 1).is_err());
        assert!(refuse_views(["dbo.availability_groups"], (10, 50, 6000), 1).is_ok());
    }
}
