//! T-SQL that sqlparser cannot read as written, made readable before the batch is parsed (only
//! when the batch as written does not parse, so what parses stays as it was):
//!
//! - statements written one after another without `;` (T-SQL needs none) get one, so
//!   `DECLARE … INSERT … WHILE … BEGIN … END` parses;
//! - the legacy table hint after an alias (`sys.objects o (NOLOCK)`) gets its `WITH`;
//! - `INSERT [INTO] target EXEC …` becomes `EXECUTE __sqlsim_insert_exec N'target', N'EXEC …'`
//!   and `DBCC …` becomes `EXECUTE __sqlsim_dbcc N'DBCC …'`, which the engine runs itself.
//!
//! Lines stay where they were, so errors still name the line the client wrote.

use sqlparser::dialect::MsSqlDialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// Procedure names the engine recognises for the rewritten statements.
pub const INSERT_EXEC: &str = "__sqlsim_insert_exec";
pub const DBCC: &str = "__sqlsim_dbcc";

/// Words that start a statement.
const STARTERS: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "DECLARE",
    "SET",
    "IF",
    "WHILE",
    "PRINT",
    "RETURN",
    "USE",
    "EXEC",
    "EXECUTE",
    "DBCC",
    "TRUNCATE",
    "MERGE",
    "WAITFOR",
    "RAISERROR",
    "THROW",
    "BEGIN",
    "END",
    "BREAK",
    "CONTINUE",
    "OPEN",
    "CLOSE",
    "FETCH",
    "DEALLOCATE",
    "COMMIT",
    "ROLLBACK",
    "GRANT",
    "DENY",
    "REVOKE",
    "DROP",
];

/// Words after which a statement word continues the statement or opens a new one without `;`.
const NO_BREAK_AFTER: &[&str] = &[
    "BEGIN",
    "ELSE",
    "AS",
    "UNION",
    "ALL",
    "EXCEPT",
    "INTERSECT",
    "THEN",
    "FOR",
    "TRY",
    "CATCH",
];

/// A significant token: its text's byte range in the batch and, for unquoted words, the word in
/// upper case.
pub(super) struct Tok {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) word: Option<String>,
    pub(super) token: Token,
}

/// `sql` made parseable as described above; `None` when there is nothing to change or the batch
/// defines a module (whose text is stored as written).
pub fn normalize(sql: &str) -> Option<String> {
    let toks = significant(sql)?;
    if toks
        .first()
        .and_then(|t| t.word.as_deref())
        .is_some_and(|w| matches!(w, "CREATE" | "ALTER"))
    {
        return None;
    }
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut depth = 0i32;
    let mut case_depth = 0i32;
    let mut in_condition = false;
    // The statement being read: its first word and whether its body (INSERT's SELECT/VALUES,
    // UPDATE's SET, a CTE's statement) has begun.
    let mut current: Option<String> = None;
    let mut body_seen = false;
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        match &t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth -= 1,
            Token::SemiColon => {
                current = None;
                in_condition = false;
            }
            _ => {}
        }
        let prev = i.checked_sub(1).map(|p| &toks[p]);
        // `alias (NOLOCK)`: the hint needs its WITH.
        if t.token == Token::LParen
            && is_hint_list(&toks, i)
            && prev.is_some_and(|p| {
                matches!(p.token, Token::Word(_)) && p.word.as_deref() != Some("WITH")
            })
            && prev.is_some_and(|p| {
                p.word
                    .as_deref()
                    .is_none_or(|w| !is_keyword_before_paren(w))
            })
        {
            edits.push((t.start, t.start, "WITH ".into()));
        }
        let Some(word) = t.word.as_deref() else {
            i += 1;
            continue;
        };
        if depth != 0 {
            i += 1;
            continue;
        }
        // A CTE: the statement after `WITH name AS (…)` belongs to it.
        if word == "WITH" && prev.is_none_or(|p| p.token == Token::SemiColon) {
            current = Some("WITH".into());
            body_seen = false;
            i += 1;
            continue;
        }
        if word == "CASE" {
            case_depth += 1;
            i += 1;
            continue;
        }
        if word == "END" && case_depth > 0 {
            case_depth -= 1;
            i += 1;
            continue;
        }
        // INSERT … VALUES (…): the body has begun; a SELECT after it is a new statement.
        if word == "VALUES" && current.as_deref() == Some("INSERT") {
            body_seen = true;
        }
        if !STARTERS.contains(&word) {
            i += 1;
            continue;
        }
        let prev_word = prev.and_then(|p| p.word.as_deref());
        let continues = match current.as_deref() {
            Some("INSERT") if !body_seen && matches!(word, "SELECT" | "EXEC" | "EXECUTE") => true,
            Some("UPDATE") if !body_seen && word == "SET" => true,
            Some("WITH")
                if !body_seen
                    && matches!(word, "SELECT" | "INSERT" | "UPDATE" | "DELETE" | "MERGE") =>
            {
                true
            }
            _ => false,
        };
        if continues {
            body_seen = true;
            // INSERT … EXEC: the engine runs the procedure and inserts its rows.
            if current.as_deref() == Some("INSERT") && matches!(word, "EXEC" | "EXECUTE") {
                let insert = statement_start(&toks, i);
                let end = exec_end(&toks, i);
                let target = target_text(sql, &toks, insert, i);
                let exec = &sql[t.start..toks[end - 1].end];
                edits.retain(|(s, _, _)| *s <= toks[insert].start || *s >= toks[end - 1].end);
                edits.push((
                    toks[insert].start,
                    toks[end - 1].end,
                    format!(
                        "EXECUTE {INSERT_EXEC} {}, {}",
                        literal(&target),
                        literal(exec)
                    ),
                ));
                i = end;
                continue;
            }
            i += 1;
            continue;
        }
        let after_condition = in_condition;
        let breaks = !after_condition
            && prev.is_some_and(|p| p.token != Token::SemiColon)
            && prev_word.is_none_or(|w| !NO_BREAK_AFTER.contains(&w))
            // END closes a block: a statement before it needs its `;`; BEGIN END has none.
            && !(word == "END" && prev_word == Some("BEGIN"));
        if breaks {
            edits.push((t.start, t.start, ";".into()));
        }
        in_condition = matches!(word, "IF" | "WHILE");
        current = Some(word.to_string());
        body_seen = false;
        if word == "DBCC" {
            let end = exec_end(&toks, i);
            edits.push((
                t.start,
                toks[end - 1].end,
                format!(
                    "EXECUTE {DBCC} {}",
                    literal(&sql[t.start..toks[end - 1].end])
                ),
            ));
            current = None;
            i = end;
            continue;
        }
        i += 1;
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|(s, _, _)| *s);
    let mut out = String::with_capacity(sql.len() + edits.len() * 2);
    let mut at = 0;
    for (start, end, text) in edits {
        if start < at {
            continue;
        }
        out.push_str(&sql[at..start]);
        out.push_str(&text);
        at = end;
    }
    out.push_str(&sql[at..]);
    Some(out)
}

/// The batch's tokens without whitespace and comments, with byte ranges; `None` when it cannot
/// be tokenized (the parser reports that).
pub(super) fn significant(sql: &str) -> Option<Vec<Tok>> {
    let dialect = MsSqlDialect {};
    let tokens: Vec<TokenWithSpan> = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .ok()?;
    // Byte offset of each line's start; columns count characters.
    let mut line_starts = vec![0usize];
    line_starts.extend(sql.match_indices('\n').map(|(i, _)| i + 1));
    let offset = |line: u64, column: u64| -> usize {
        let start = line_starts
            .get(line.saturating_sub(1) as usize)
            .copied()
            .unwrap_or(sql.len());
        sql[start..]
            .char_indices()
            .nth(column.saturating_sub(1) as usize)
            .map_or(sql.len(), |(i, _)| start + i)
    };
    let starts: Vec<usize> = tokens
        .iter()
        .map(|t| offset(t.span.start.line, t.span.start.column))
        .collect();
    let mut out = Vec::new();
    for (k, t) in tokens.iter().enumerate() {
        if matches!(t.token, Token::Whitespace(_) | Token::EOF) {
            continue;
        }
        let end = starts.get(k + 1).copied().unwrap_or(sql.len());
        // The text up to the next token may hold trailing whitespace: trim it off.
        let end = starts[k] + sql[starts[k]..end].trim_end().len();
        let word = match &t.token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        };
        out.push(Tok {
            start: starts[k],
            end,
            word,
            token: t.token.clone(),
        });
    }
    Some(out)
}

/// Whether `(` at `i` holds table hints only: `(NOLOCK)`, `(NOLOCK, READPAST)`.
fn is_hint_list(toks: &[Tok], i: usize) -> bool {
    let mut k = i + 1;
    let mut any = false;
    while let Some(t) = toks.get(k) {
        match (&t.token, t.word.as_deref()) {
            (Token::RParen, _) => return any,
            (Token::Comma, _) => {}
            (_, Some(w)) if super::rewrite::is_table_hint(w) => any = true,
            _ => return false,
        }
        k += 1;
    }
    false
}

/// Words followed by `(` that are not a table (`IN (`, `EXISTS (`, `VALUES (`, …).
fn is_keyword_before_paren(word: &str) -> bool {
    matches!(
        word,
        "IN" | "EXISTS"
            | "VALUES"
            | "AS"
            | "ON"
            | "AND"
            | "OR"
            | "NOT"
            | "WHERE"
            | "SELECT"
            | "FROM"
            | "JOIN"
            | "APPLY"
            | "OVER"
            | "INTO"
            | "TABLE"
            | "EXEC"
            | "EXECUTE"
    )
}

/// Where the statement holding token `i` starts (its INSERT).
fn statement_start(toks: &[Tok], i: usize) -> usize {
    (0..i)
        .rev()
        .find(|&k| toks[k].word.as_deref() == Some("INSERT"))
        .unwrap_or(0)
}

/// One past the last token of the EXEC or DBCC statement starting at `i`: `EXEC ('…')`,
/// `EXEC name arg, arg …`, `DBCC NAME [(…)] [WITH option, …]`.
fn exec_end(toks: &[Tok], i: usize) -> usize {
    let mut k = i + 1;
    // A parenthesized part (dynamic SQL, DBCC's arguments) first.
    let skip_parens = |mut k: usize| -> usize {
        if toks.get(k).is_some_and(|t| t.token == Token::LParen) {
            let mut depth = 0;
            while let Some(t) = toks.get(k) {
                match t.token {
                    Token::LParen => depth += 1,
                    Token::RParen => {
                        depth -= 1;
                        if depth == 0 {
                            return k + 1;
                        }
                    }
                    _ => {}
                }
                k += 1;
            }
        }
        k
    };
    if toks.get(k).is_some_and(|t| t.token == Token::LParen) {
        return skip_parens(k);
    }
    // A name (possibly dotted), or for DBCC the command word.
    let is_dbcc = toks[i].word.as_deref() == Some("DBCC");
    while k < toks.len() {
        k += 1;
        if toks.get(k).is_some_and(|n| n.token == Token::Period) {
            k += 1;
            continue;
        }
        break;
    }
    if is_dbcc {
        k = skip_parens(k);
        if toks.get(k).and_then(|t| t.word.as_deref()) == Some("WITH") {
            k += 1;
            while let Some(t) = toks.get(k) {
                if !matches!(t.token, Token::Word(_)) {
                    break;
                }
                k += 1;
                if toks.get(k).is_some_and(|n| n.token == Token::Comma) {
                    k += 1;
                } else {
                    break;
                }
            }
        }
        return k;
    }
    // Arguments: value [OUTPUT] {, value [OUTPUT]}, a value being a literal, a variable, a name,
    // a signed number or `@name = value`.
    let is_value = |t: &Tok| match &t.token {
        Token::Word(w) => {
            w.quote_style.is_some() || !STARTERS.contains(&w.value.to_ascii_uppercase().as_str())
        }
        Token::Number(..)
        | Token::SingleQuotedString(_)
        | Token::NationalStringLiteral(_)
        | Token::HexStringLiteral(_)
        | Token::Placeholder(_) => true,
        _ => false,
    };
    let mut first = true;
    loop {
        let save = k;
        if !first {
            if toks.get(k).is_some_and(|t| t.token == Token::Comma) {
                k += 1;
            } else {
                return save;
            }
        }
        if toks.get(k).is_some_and(|t| t.token == Token::Minus) {
            k += 1;
        }
        match toks.get(k) {
            Some(t) if is_value(t) => k += 1,
            _ => return save,
        }
        // `@name = value`
        if toks.get(k).is_some_and(|t| t.token == Token::Eq) {
            k += 1;
            if toks.get(k).is_some_and(|t| t.token == Token::Minus) {
                k += 1;
            }
            match toks.get(k) {
                Some(t) if is_value(t) => k += 1,
                _ => return save,
            }
        }
        if matches!(
            toks.get(k).and_then(|t| t.word.as_deref()),
            Some("OUTPUT" | "OUT")
        ) {
            k += 1;
        }
        first = false;
    }
}

/// The INSERT's target as written (`@t`, `dbo.t`, `#t (a, b)` without the column list).
fn target_text(sql: &str, toks: &[Tok], insert: usize, exec: usize) -> String {
    let mut k = insert + 1;
    if toks[k].word.as_deref() == Some("INTO") {
        k += 1;
    }
    let mut end = k;
    while end < exec && toks[end].token != Token::LParen {
        end += 1;
    }
    sql[toks[k].start..toks[end - 1].end].to_string()
}

/// `s` as an N'…' literal.
fn literal(s: &str) -> String {
    format!("N'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_get_their_semicolons_and_blocks_stay_blocks() {
        let got = normalize(
            "DECLARE @i INT = 0\nSELECT 1 DELETE FROM @t WHERE a > 1\nWHILE @i < 3 BEGIN SET @i = @i + 1 SELECT @i END\nSELECT 2",
        )
        .unwrap();
        assert_eq!(
            got,
            "DECLARE @i INT = 0\n;SELECT 1 ;DELETE FROM @t WHERE a > 1\n;WHILE @i < 3 BEGIN SET @i = @i + 1 ;SELECT @i ;END\n;SELECT 2"
        );
        // INSERT … SELECT, UPDATE … SET, CASE … END, UNION SELECT, IF conditions: one statement.
        assert_eq!(
            normalize("INSERT INTO t SELECT CASE WHEN 1 = 1 THEN 1 END UNION SELECT 2 UPDATE t SET a = 1 IF EXISTS (SELECT 1) SELECT 3 ELSE SELECT 4"),
            Some("INSERT INTO t SELECT CASE WHEN 1 = 1 THEN 1 END UNION SELECT 2 ;UPDATE t SET a = 1 ;IF EXISTS (SELECT 1) SELECT 3 ELSE SELECT 4".into())
        );
        assert_eq!(
            normalize("INSERT INTO @k VALUES ('a') SELECT 1").as_deref(),
            Some("INSERT INTO @k VALUES ('a') ;SELECT 1")
        );
        assert_eq!(normalize("SELECT 1; SELECT 2"), None, "nothing to change");
        assert_eq!(normalize("CREATE PROCEDURE p AS SELECT 1 SELECT 2"), None);
        // A string or a quoted name is never a statement word.
        assert_eq!(
            normalize("SELECT [select], 'x SELECT y' FROM t SELECT 2"),
            Some("SELECT [select], 'x SELECT y' FROM t ;SELECT 2".into())
        );
    }

    #[test]
    fn legacy_hints_insert_exec_and_dbcc_are_rewritten() {
        assert_eq!(
            normalize("SELECT 1 FROM sys.objects o (NOLOCK) WHERE o.x IN (1)").as_deref(),
            Some("SELECT 1 FROM sys.objects o WITH (NOLOCK) WHERE o.x IN (1)")
        );
        assert_eq!(
            normalize("DECLARE @t TABLE (a INT) INSERT INTO @t EXEC ('DBCC TRACESTATUS WITH NO_INFOMSGS') SELECT a FROM @t").as_deref(),
            Some("DECLARE @t TABLE (a INT) ;EXECUTE __sqlsim_insert_exec N'@t', N'EXEC (''DBCC TRACESTATUS WITH NO_INFOMSGS'')' ;SELECT a FROM @t")
        );
        assert_eq!(
            normalize(
                "INSERT INTO @c EXEC sys.xp_readerrorlog @i ,1 ,@filter INSERT INTO @r SELECT 1"
            )
            .as_deref(),
            Some(
                "EXECUTE __sqlsim_insert_exec N'@c', N'EXEC sys.xp_readerrorlog @i ,1 ,@filter' ;INSERT INTO @r SELECT 1"
            )
        );
        assert_eq!(
            normalize("DBCC LOGINFO (@TargetName) WITH NO_INFOMSGS").as_deref(),
            Some("EXECUTE __sqlsim_dbcc N'DBCC LOGINFO (@TargetName) WITH NO_INFOMSGS'")
        );
    }
}
