//! Index DDL: `CREATE [UNIQUE] [CLUSTERED | NONCLUSTERED] INDEX name ON table (col [ASC|DESC], …)
//! [INCLUDE (col, …)] [WHERE …] [WITH (…)] [ON filegroup]` and `DROP INDEX name ON table` (or
//! the older `DROP INDEX table.name`), each standing alone in its batch. sqlparser reads neither
//! CLUSTERED/NONCLUSTERED nor INCLUDE the way T-SQL writes them, so the batch text is read here.

use super::{BatchResult, Engine, Outcome, Session, catalog, errors, rewrite, sqlite_ident};
use crate::tds::tokens::ServerMessage;

/// A CREATE INDEX batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateIndex {
    pub unique: bool,
    pub clustered: bool,
    pub name: String,
    /// The table as written, in parts.
    pub table: Vec<String>,
    /// Key columns in order, with whether each is descending.
    pub key: Vec<(String, bool)>,
    pub include: Vec<String>,
    /// The filter of a filtered index, as written.
    pub filter: Option<String>,
}

/// A DROP INDEX batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropIndex {
    pub name: String,
    pub table: Vec<String>,
}

/// Index DDL found in a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexDdl {
    Create(CreateIndex),
    Drop(DropIndex),
}

/// Reads `sql` as one index statement (a trailing `;` allowed), or `None`.
pub fn parse(sql: &str) -> Option<IndexDdl> {
    let mut t = Tokens::new(sql);
    match t.word()?.as_str() {
        "CREATE" => {
            let mut unique = false;
            let mut clustered = false;
            let mut w = t.word()?;
            if w == "UNIQUE" {
                unique = true;
                w = t.word()?;
            }
            if w == "CLUSTERED" || w == "NONCLUSTERED" {
                clustered = w == "CLUSTERED";
                w = t.word()?;
            }
            if w != "INDEX" {
                return None;
            }
            let name = t.name()?;
            if t.word()? != "ON" {
                return None;
            }
            let table = t.multipart()?;
            let key = t
                .list()?
                .into_iter()
                .map(|item| {
                    let mut parts = Tokens::new(&item);
                    let column = parts.name()?;
                    let desc = parts.word().is_some_and(|d| d == "DESC");
                    Some((column, desc))
                })
                .collect::<Option<Vec<_>>>()?;
            let mut include = Vec::new();
            let mut filter = None;
            let rest = t.rest().trim().trim_end_matches(';').trim().to_string();
            let mut r = Tokens::new(&rest);
            if r.peek_word().as_deref() == Some("INCLUDE") {
                r.word();
                include = r
                    .list()?
                    .iter()
                    .map(|c| Tokens::new(c).name())
                    .collect::<Option<_>>()?;
            }
            if r.peek_word().as_deref() == Some("WHERE") {
                r.word();
                let text = r.rest();
                // The filter runs up to WITH (…) or ON filegroup, if either follows.
                let upper = text.to_ascii_uppercase();
                let end = [" WITH ", " WITH(", " ON "]
                    .iter()
                    .filter_map(|k| upper.find(k))
                    .min()
                    .unwrap_or(text.len());
                filter = Some(text[..end].trim().to_string());
            }
            Some(IndexDdl::Create(CreateIndex {
                unique,
                clustered,
                name,
                table,
                key,
                include,
                filter,
            }))
        }
        "DROP" => {
            if t.word()? != "INDEX" {
                return None;
            }
            let first = t.multipart()?;
            let on = t.peek_word();
            if on.as_deref() == Some("ON") {
                t.word();
                let table = t.multipart()?;
                let [name] = <[String; 1]>::try_from(first).ok()?;
                return Some(IndexDdl::Drop(DropIndex { name, table }));
            }
            // DROP INDEX table.index (the form from before SQL Server 2005).
            let (name, table) = first.split_last()?;
            (!table.is_empty()).then(|| {
                IndexDdl::Drop(DropIndex {
                    name: name.clone(),
                    table: table.to_vec(),
                })
            })
        }
        _ => None,
    }
}

impl Engine {
    /// Runs index DDL: a SQLite index (so UNIQUE is enforced and ranges are fast) and the
    /// catalog's rows (sys.indexes, sys.index_columns, sys.stats).
    pub(super) fn index_ddl(&self, session: &Session, ddl: &IndexDdl) -> BatchResult {
        match self.run_index_ddl(session, ddl) {
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

    fn run_index_ddl(&self, session: &Session, ddl: &IndexDdl) -> Result<(), ServerMessage> {
        let rw = rewrite::Rewriter::new(session, &self.instance);
        let table_parts = match ddl {
            IndexDdl::Create(c) => &c.table,
            IndexDdl::Drop(d) => &d.table,
        };
        let (db, schema, table) = rw.resolve(table_parts);
        let written = table_parts.join(".");
        let conn = self.conn.lock().unwrap();
        let sq = |e: rusqlite::Error| errors::from_sqlite(&e, 1, &[]);
        let object_id = catalog::table_id(&conn, &db, &schema, &table)
            .map_err(sq)?
            .ok_or_else(|| {
                errors::error(
                    1088,
                    16,
                    1,
                    format!(
                        "Cannot find the object \"{written}\" because it does not exist or you do not have permissions."
                    ),
                )
            })?;
        let indexes = catalog::indexes_of(&conn, &db, object_id).map_err(sq)?;
        let sqlite_name =
            |index_id: i64| sqlite_ident(&format!("sqlsim_ix_{object_id}_{index_id}"));
        match ddl {
            IndexDdl::Create(c) => {
                if indexes.iter().any(|(_, n)| {
                    n.as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&c.name))
                }) {
                    return Err(errors::error(
                        1913,
                        16,
                        1,
                        format!(
                            "The operation failed because an index or statistics with name '{}' already exists on table '{schema}.{table}'.",
                            c.name
                        ),
                    ));
                }
                if c.clustered
                    && let Some((_, existing)) = indexes.iter().find(|(id, _)| *id == 1)
                {
                    return Err(errors::error(
                        1902,
                        16,
                        1,
                        format!(
                            "Cannot create more than one clustered index on table '{schema}.{table}'. Drop the existing clustered index '{}' before creating another.",
                            existing.clone().unwrap_or_default()
                        ),
                    ));
                }
                let columns = catalog::columns_of(&conn, &db, object_id).map_err(sq)?;
                let column_id = |name: &str| {
                    columns
                        .iter()
                        .find(|(_, n)| n.eq_ignore_ascii_case(name))
                        .map(|(id, _)| *id)
                        .ok_or_else(|| {
                            errors::error(
                                1911,
                                16,
                                1,
                                format!(
                                    "Column name '{name}' does not exist in the target table or view."
                                ),
                            )
                        })
                };
                let key = c
                    .key
                    .iter()
                    .map(|(n, desc)| Ok((column_id(n)?, *desc)))
                    .collect::<Result<Vec<_>, ServerMessage>>()?;
                let include = c
                    .include
                    .iter()
                    .map(|n| column_id(n))
                    .collect::<Result<Vec<_>, ServerMessage>>()?;
                let index_id = if c.clustered {
                    1
                } else {
                    indexes.iter().map(|(id, _)| *id).max().unwrap_or(0).max(1) + 1
                };
                let list = c
                    .key
                    .iter()
                    .map(|(n, desc)| {
                        format!("{}{}", sqlite_ident(n), if *desc { " DESC" } else { "" })
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                conn.execute(
                    &format!(
                        "CREATE {}INDEX {}.{} ON {} ({list})",
                        if c.unique { "UNIQUE " } else { "" },
                        sqlite_ident(&db),
                        sqlite_name(index_id),
                        sqlite_ident(&format!("{schema}.{table}"))
                    ),
                    [],
                )
                .map_err(|e| match e.sqlite_error_code() {
                    Some(rusqlite::ErrorCode::ConstraintViolation) => errors::error(
                        1505,
                        16,
                        1,
                        format!(
                            "The CREATE UNIQUE INDEX statement terminated because a duplicate key was found for the object name '{schema}.{table}' and the index name '{}'.",
                            c.name
                        ),
                    ),
                    _ => sq(e),
                })?;
                catalog::add_index(
                    &conn,
                    &db,
                    &catalog::IndexRecord {
                        object_id,
                        index_id,
                        name: &c.name,
                        clustered: c.clustered,
                        unique: c.unique,
                        filter: c.filter.as_deref(),
                        key: &key,
                        include: &include,
                    },
                )
                .map_err(sq)
            }
            IndexDdl::Drop(d) => {
                let Some((index_id, _)) = indexes.iter().find(|(_, n)| {
                    n.as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&d.name))
                }) else {
                    return Err(errors::error(
                        3701,
                        11,
                        1,
                        format!(
                            "Cannot drop the index '{written}.{}', because it does not exist or you do not have permission.",
                            d.name
                        ),
                    ));
                };
                conn.execute(
                    &format!(
                        "DROP INDEX IF EXISTS {}.{}",
                        sqlite_ident(&db),
                        sqlite_name(*index_id)
                    ),
                    [],
                )
                .map_err(sq)?;
                catalog::drop_index(&conn, &db, object_id, *index_id).map_err(sq)
            }
        }
    }
}

/// A small reader over the statement text: words, bracketed or quoted names, parenthesized
/// lists (split at top-level commas), comments skipped.
pub(super) struct Tokens<'a> {
    s: &'a str,
}

impl<'a> Tokens<'a> {
    pub(super) fn new(s: &'a str) -> Tokens<'a> {
        Tokens { s }
    }

    fn skip(&mut self) {
        loop {
            self.s = self.s.trim_start();
            if let Some(r) = self.s.strip_prefix("--") {
                self.s = r.split_once('\n').map_or("", |(_, r)| r);
            } else if let Some(r) = self.s.strip_prefix("/*") {
                self.s = r.split_once("*/").map_or("", |(_, r)| r);
            } else {
                return;
            }
        }
    }

    fn peek_word(&mut self) -> Option<String> {
        let saved = self.s;
        let w = self.word();
        self.s = saved;
        w
    }

    /// The next keyword, uppercased.
    pub(super) fn word(&mut self) -> Option<String> {
        self.skip();
        let end = self
            .s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(self.s.len());
        if end == 0 {
            return None;
        }
        let w = self.s[..end].to_ascii_uppercase();
        self.s = &self.s[end..];
        Some(w)
    }

    /// One name part: `[a]]b]`, `"a"`, or a bare identifier.
    pub(super) fn name(&mut self) -> Option<String> {
        self.skip();
        if let Some(r) = self.s.strip_prefix('[') {
            let mut out = String::new();
            let mut chars = r.char_indices().peekable();
            while let Some((i, c)) = chars.next() {
                if c == ']' {
                    if chars.peek().map(|(_, n)| *n) == Some(']') {
                        out.push(']');
                        chars.next();
                    } else {
                        self.s = &r[i + 1..];
                        return Some(out);
                    }
                } else {
                    out.push(c);
                }
            }
            None
        } else if let Some(r) = self.s.strip_prefix('"') {
            let (name, rest) = r.split_once('"')?;
            self.s = rest;
            Some(name.to_string())
        } else {
            let end = self
                .s
                .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '@' | '#' | '$')))
                .unwrap_or(self.s.len());
            if end == 0 {
                return None;
            }
            let n = self.s[..end].to_string();
            self.s = &self.s[end..];
            Some(n)
        }
    }

    /// `a.b.c` as its parts.
    pub(super) fn multipart(&mut self) -> Option<Vec<String>> {
        let mut parts = vec![self.name()?];
        loop {
            self.skip();
            match self.s.strip_prefix('.') {
                Some(r) => {
                    self.s = r;
                    parts.push(self.name()?);
                }
                None => return Some(parts),
            }
        }
    }

    /// `( item, item, … )` as the items' texts.
    fn list(&mut self) -> Option<Vec<String>> {
        self.skip();
        let r = self.s.strip_prefix('(')?;
        let mut depth = 0;
        let mut items = Vec::new();
        let mut start = 0;
        let mut bracket = false;
        for (i, c) in r.char_indices() {
            match c {
                '[' => bracket = true,
                ']' => bracket = false,
                '(' if !bracket => depth += 1,
                ')' if !bracket && depth > 0 => depth -= 1,
                ')' if !bracket => {
                    items.push(r[start..i].trim().to_string());
                    self.s = &r[i + 1..];
                    return Some(items);
                }
                ',' if !bracket && depth == 0 => {
                    items.push(r[start..i].trim().to_string());
                    start = i + 1;
                }
                _ => {}
            }
        }
        None
    }

    pub(super) fn rest(&mut self) -> &'a str {
        self.skip();
        self.s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_t_sql_writes() {
        let Some(IndexDdl::Create(c)) = parse(
            "CREATE UNIQUE NONCLUSTERED INDEX [IX_Orders_Note] ON dbo.[Orders] (note DESC, [id]) INCLUDE (total) WHERE note IS NOT NULL WITH (ONLINE = ON);",
        ) else {
            panic!("a create index");
        };
        assert!(c.unique && !c.clustered);
        assert_eq!(c.name, "IX_Orders_Note");
        assert_eq!(c.table, ["dbo", "Orders"]);
        assert_eq!(c.key, [("note".into(), true), ("id".into(), false)]);
        assert_eq!(c.include, ["total"]);
        assert_eq!(c.filter.as_deref(), Some("note IS NOT NULL"));
        assert_eq!(
            parse("CREATE INDEX ix ON t (a)"),
            Some(IndexDdl::Create(CreateIndex {
                unique: false,
                clustered: false,
                name: "ix".into(),
                table: vec!["t".into()],
                key: vec![("a".into(), false)],
                include: vec![],
                filter: None,
            }))
        );
        assert_eq!(
            parse("DROP INDEX ix ON dbo.t"),
            Some(IndexDdl::Drop(DropIndex {
                name: "ix".into(),
                table: vec!["dbo".into(), "t".into()]
            }))
        );
        assert_eq!(
            parse("DROP INDEX t.ix"),
            Some(IndexDdl::Drop(DropIndex {
                name: "ix".into(),
                table: vec!["t".into()]
            }))
        );
        assert_eq!(parse("CREATE TABLE t (a INT)"), None);
        assert_eq!(parse("SELECT 1"), None);
    }
}
