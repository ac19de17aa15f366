//! Alias data types (sql-docs `docs/t-sql/statements/create-type-transact-sql.md`):
//! `CREATE TYPE [schema.]name FROM base_type [NULL | NOT NULL]`, standing alone in its batch, is
//! recorded in the database's `sys.types` as a server records it — `is_user_defined` 1, the base
//! type's `system_type_id`, length, precision and scale, a `user_type_id` of its own from 257
//! (`sys-types-transact-sql.md`: "For system data types, user_type_id = system_type_id") — and a
//! CREATE TABLE column written with one is stored as its base type and recorded in `sys.columns`
//! with the alias's `user_type_id`. A name of any characters, quoted (`[int)) --]`), is a name.

use rusqlite::{Connection, OptionalExtension, params};

use super::batch_text::significant;
use super::indexes::Tokens;
use super::{BatchResult, Engine, Outcome, Session, catalog, errors, sqlite_ident};
use crate::tds::tokens::ServerMessage;
use crate::tds::types::ColumnType;
use sqlparser::tokenizer::Token;

/// The base types CREATE TYPE takes, as the page's table lists them (and `integer`, a synonym).
/// sqlsim models all but text, ntext, image and sql_variant.
const BASE_TYPES: &[&str] = &[
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
    "image",
    "int",
    "integer",
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
    "text",
    "time",
    "tinyint",
    "uniqueidentifier",
    "varbinary",
    "varchar",
];

/// A CREATE TYPE … FROM batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateType {
    pub schema: Option<String>,
    pub name: String,
    /// The base type as written: `nvarchar(20)`.
    pub base: String,
    pub nullable: bool,
}

/// Reads `sql` as one CREATE TYPE … FROM statement (a trailing `;` allowed), or `None`.
pub fn parse(sql: &str) -> Option<CreateType> {
    let mut t = Tokens::new(sql);
    if t.word()? != "CREATE" || t.word()? != "TYPE" {
        return None;
    }
    let mut parts = t.multipart()?;
    if t.word()? != "FROM" {
        return None;
    }
    let name = parts.pop()?;
    let schema = parts.pop();
    let mut base = t
        .rest()
        .trim_end()
        .trim_end_matches(';')
        .trim_end()
        .to_string();
    let upper = base.to_ascii_uppercase();
    let mut nullable = true;
    if let Some(b) = upper.strip_suffix("NOT NULL") {
        nullable = false;
        base.truncate(b.trim_end().len());
    } else if let Some(b) = upper.strip_suffix("NULL") {
        base.truncate(b.trim_end().len());
    }
    Some(CreateType {
        schema,
        name,
        base,
        nullable,
    })
}

impl Engine {
    /// Runs a CREATE TYPE … FROM batch in the session's database.
    pub(super) fn create_type(&self, session: &Session, ct: &CreateType) -> BatchResult {
        let conn = self.conn.lock().unwrap();
        match create(&conn, &session.database, ct) {
            Ok(()) => BatchResult {
                outcomes: vec![Outcome::Done],
                ..Default::default()
            },
            Err(e) => BatchResult {
                error: Some(e),
                ..Default::default()
            },
        }
    }
}

fn create(conn: &Connection, db: &str, ct: &CreateType) -> Result<(), ServerMessage> {
    let d = sqlite_ident(db);
    let sq = |e: rusqlite::Error| errors::from_sqlite(&e, 1, &[]);
    let schema = ct.schema.as_deref().unwrap_or("dbo");
    let schema_id: i64 = conn
        .query_row(
            &format!("SELECT schema_id FROM {d}.\"sys.schemas\" WHERE name = ?1 COLLATE NOCASE"),
            [schema],
            |r| r.get(0),
        )
        .optional()
        .map_err(sq)?
        .ok_or_else(|| {
            errors::error(
                2760,
                16,
                1,
                format!(
                    "The specified schema name \"{schema}\" either does not exist or you do not have permission to use it."
                ),
            )
        })?;
    let base_word = ct
        .base
        .split('(')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if !BASE_TYPES.contains(&base_word.as_str()) {
        return Err(errors::error(
            243,
            16,
            1,
            format!("Type {} is not a defined system type.", ct.base),
        ));
    }
    let ty = ColumnType::parse(&ct.base).ok_or_else(|| {
        errors::error(
            50000,
            16,
            1,
            format!(
                "sqlsim does not model alias types of {}; use another base type",
                ct.base
            ),
        )
    })?;
    let taken: i64 = conn
        .query_row(
            &format!(
                "SELECT COUNT(*) FROM {d}.\"sys.types\" WHERE name = ?1 COLLATE NOCASE \
                 AND (schema_id = ?2 OR is_user_defined = 0)"
            ),
            params![ct.name, schema_id],
            |r| r.get(0),
        )
        .map_err(sq)?;
    if taken > 0 {
        return Err(errors::error(
            219,
            16,
            1,
            format!(
                "The type '{}' already exists, or you do not have permission to create it.",
                ct.name
            ),
        ));
    }
    let (system_type_id, max_length, precision, scale) = catalog::type_numbers(&ty);
    let collation =
        matches!(system_type_id, 167 | 175 | 231 | 239).then_some("SQL_Latin1_General_CP1_CI_AS");
    conn.execute(
        &format!(
            "INSERT INTO {d}.\"sys.types\" VALUES (?1, ?2, \
             (SELECT MAX(256, COALESCE(MAX(user_type_id), 0)) + 1 FROM {d}.\"sys.types\"), \
             ?3, NULL, ?4, ?5, ?6, ?7, ?8, 1, 0, 0, 0, 0)"
        ),
        params![
            ct.name,
            system_type_id,
            schema_id,
            max_length,
            precision,
            scale,
            collation,
            ct.nullable
        ],
    )
    .map_err(sq)?;
    Ok(())
}

/// A CREATE TABLE batch whose columns use alias types of `db`, with each such type replaced by
/// its base type for SQLite, and the columns that used one: (table as written, column,
/// user_type_id). `None` when the batch creates no table or uses no alias type.
pub fn substitute(conn: &Connection, db: &str, sql: &str) -> Option<(String, Vec<AliasColumn>)> {
    let upper = sql.to_ascii_uppercase();
    if !(upper.contains("CREATE") && upper.contains("TABLE")) {
        return None;
    }
    let d = sqlite_ident(db);
    let aliases: Vec<(String, String, i64, String)> = conn
        .prepare(&format!(
            "SELECT t.name, s.name, t.user_type_id, b.name || CASE \
                 WHEN b.name IN ('nvarchar', 'nchar') THEN '(' || CASE WHEN t.max_length = -1 THEN 'max' ELSE t.max_length / 2 END || ')' \
                 WHEN b.name IN ('varchar', 'char', 'varbinary', 'binary') THEN '(' || CASE WHEN t.max_length = -1 THEN 'max' ELSE t.max_length END || ')' \
                 WHEN b.name IN ('decimal', 'numeric') THEN '(' || t.precision || ',' || t.scale || ')' \
                 WHEN b.name IN ('datetime2', 'time', 'datetimeoffset') THEN '(' || t.scale || ')' \
                 ELSE '' END \
             FROM {d}.\"sys.types\" t JOIN {d}.\"sys.schemas\" s ON s.schema_id = t.schema_id \
             JOIN {d}.\"sys.types\" b ON b.user_type_id = t.system_type_id \
             WHERE t.is_user_defined = 1"
        ))
        .ok()?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .ok()?
        .collect::<Result<_, _>>()
        .ok()?;
    if aliases.is_empty() {
        return None;
    }
    let toks = significant(sql)?;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut columns = Vec::new();
    let mut i = 0;
    while i + 1 < toks.len() {
        if !(toks[i].word.as_deref() == Some("CREATE")
            && toks[i + 1].word.as_deref() == Some("TABLE"))
        {
            i += 1;
            continue;
        }
        // The table's name runs to its `(`.
        let mut k = i + 2;
        let mut table = String::new();
        while let Some(t) = toks.get(k).filter(|t| t.token != Token::LParen) {
            if let Token::Word(w) = &t.token {
                table = w.value.clone();
            }
            k += 1;
        }
        let mut depth = 0;
        let mut expect_column = true;
        while let Some(t) = toks.get(k) {
            match &t.token {
                Token::LParen => {
                    depth += 1;
                    expect_column = depth == 1;
                }
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                Token::Comma if depth == 1 => expect_column = true,
                Token::Word(column) if expect_column && depth == 1 => {
                    expect_column = false;
                    // The type: `name` or `schema.name`.
                    let (schema, name, end) =
                        match (toks.get(k + 1), toks.get(k + 2), toks.get(k + 3)) {
                            (Some(a), Some(dot), Some(b)) if dot.token == Token::Period => {
                                (word(a), word(b), b.end)
                            }
                            (Some(a), _, _) => (None, word(a), a.end),
                            _ => (None, None, 0),
                        };
                    if let Some(name) = name
                        && let Some((_, _, id, base)) = aliases.iter().find(|(n, s, _, _)| {
                            n.eq_ignore_ascii_case(&name)
                                && s.eq_ignore_ascii_case(schema.as_deref().unwrap_or("dbo"))
                        })
                    {
                        edits.push((toks[k + 1].start, end, base.clone()));
                        columns.push(AliasColumn {
                            table: table.clone(),
                            column: column.value.clone(),
                            user_type_id: *id,
                        });
                    }
                }
                _ => {}
            }
            k += 1;
        }
        i = k;
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(sql.len());
    let mut at = 0;
    for (start, end, text) in edits {
        out.push_str(&sql[at..start]);
        out.push_str(&text);
        at = end;
    }
    out.push_str(&sql[at..]);
    Some((out, columns))
}

fn word(t: &super::batch_text::Tok) -> Option<String> {
    match &t.token {
        Token::Word(w) => Some(w.value.clone()),
        _ => None,
    }
}

/// A CREATE TABLE column written with an alias type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliasColumn {
    /// The table's name as written (its last part).
    pub table: String,
    pub column: String,
    pub user_type_id: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_create_type_as_the_page_writes_it() {
        assert_eq!(
            parse("CREATE TYPE dbo.Phone FROM nvarchar(20) NOT NULL;"),
            Some(CreateType {
                schema: Some("dbo".into()),
                name: "Phone".into(),
                base: "nvarchar(20)".into(),
                nullable: false,
            })
        );
        assert_eq!(
            parse("CREATE TYPE [int)) --x] FROM int").map(|c| (c.name, c.nullable)),
            Some(("int)) --x".into(), true))
        );
        assert_eq!(parse("CREATE TYPE t AS TABLE (a int)"), None);
        assert_eq!(parse("CREATE TABLE t (a int)"), None);
    }
}
