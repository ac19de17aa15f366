//! T-SQL text as the rules see it: the significant tokens of sqlparser's MS SQL tokenizer (so
//! comments and the inside of strings are never mistaken for code), split into batches at `GO`,
//! with the tokens that cannot run on Managed Instance marked (see `guards`).

use sqlparser::dialect::MsSqlDialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};

/// A text ready for the rules.
pub struct Code {
    /// The significant tokens (no whitespace or comments), as sqlparser's parser takes them.
    pub toks: Vec<TokenWithSpan>,
    /// Half-open token ranges of each batch.
    pub batches: Vec<(usize, usize)>,
    /// `true` where the token sits in a branch that never runs on Managed Instance.
    pub not_on_mi: Vec<bool>,
}

/// Why a text could not be read.
#[derive(Debug)]
pub struct LexError {
    pub line: u32,
    pub message: String,
}

impl Code {
    /// Tokenizes `text`; fails only where the tokenizer does (an unterminated string or comment).
    pub fn parse(text: &str) -> Result<Code, LexError> {
        let all = Tokenizer::new(&MsSqlDialect {}, text)
            .tokenize_with_location()
            .map_err(|e| LexError {
                line: e.location.line as u32,
                message: e.message,
            })?;
        let mut toks = Vec::with_capacity(all.len() / 2);
        let mut batches = Vec::new();
        let mut batch_start = 0;
        // A `GO` is a batch separator only as the first token of its line.
        let mut line_start = true;
        let mut all = all.into_iter().peekable();
        while let Some(t) = all.next() {
            match &t.token {
                Token::Whitespace(Whitespace::Newline) => line_start = true,
                Token::Whitespace(Whitespace::SingleLineComment { .. }) => line_start = true,
                Token::Whitespace(_) => {}
                Token::Word(w)
                    if line_start
                        && w.quote_style.is_none()
                        && w.value.eq_ignore_ascii_case("GO") =>
                {
                    batches.push((batch_start, toks.len()));
                    batch_start = toks.len();
                    // `GO 5` repeats the batch; the count is not code.
                    while all
                        .next_if(|n| !matches!(n.token, Token::Whitespace(Whitespace::Newline)))
                        .is_some()
                    {}
                }
                _ => {
                    line_start = false;
                    toks.push(t);
                }
            }
        }
        if batch_start < toks.len() || batches.is_empty() {
            batches.push((batch_start, toks.len()));
        }
        Ok(Code {
            not_on_mi: vec![false; toks.len()],
            toks,
            batches,
        })
    }

    /// The 1-based line token `i` starts on (0 past the end).
    pub fn line(&self, i: usize) -> u32 {
        self.toks.get(i).map_or(0, |t| t.span.start.line as u32)
    }

    /// The 1-based column token `i` starts at (0 past the end).
    pub fn col(&self, i: usize) -> u32 {
        self.toks.get(i).map_or(0, |t| t.span.start.column as u32)
    }

    /// The token at `i`, if any.
    pub fn get(&self, i: usize) -> Option<&Token> {
        self.toks.get(i).map(|t| &t.token)
    }

    /// Whether token `i` is the unquoted keyword `kw` (in any case).
    pub fn kw(&self, i: usize, kw: &str) -> bool {
        matches!(self.get(i), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(kw))
    }

    /// Whether the tokens from `i` are the unquoted keywords `kws`.
    pub fn kws(&self, i: usize, kws: &[&str]) -> bool {
        kws.iter().enumerate().all(|(k, kw)| self.kw(i + k, kw))
    }

    /// The name of an identifier (quoted or not) at `i`.
    pub fn ident(&self, i: usize) -> Option<&str> {
        match self.get(i) {
            Some(Token::Word(w)) => Some(&w.value),
            _ => None,
        }
    }

    /// The name at token `i` as written, or `?`.
    pub fn toks_name(&self, i: usize) -> &str {
        self.ident(i).unwrap_or("?")
    }

    /// The text of a string literal at `i` (plain or N'').
    pub fn string(&self, i: usize) -> Option<&str> {
        match self.get(i) {
            Some(Token::SingleQuotedString(s) | Token::NationalStringLiteral(s)) => Some(s),
            _ => None,
        }
    }

    /// Whether token `i` is `tok`.
    pub fn is(&self, i: usize, tok: &Token) -> bool {
        self.get(i) == Some(tok)
    }

    /// The index of the parenthesis that closes the one at `open`, or the end of the tokens.
    pub fn close_paren(&self, open: usize) -> usize {
        let mut depth = 0usize;
        for j in open..self.toks.len() {
            match self.toks[j].token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return j;
                    }
                }
                _ => {}
            }
        }
        self.toks.len()
    }

    /// The batch holding token `i` (batches are in order and do not overlap).
    pub fn batch_of(&self, i: usize) -> (usize, usize) {
        let k = self.batches.partition_point(|&(_, end)| end <= i);
        self.batches
            .get(k)
            .copied()
            .filter(|&(start, _)| start <= i)
            .unwrap_or((0, self.toks.len()))
    }

    /// Whether `i` starts a procedure call: after EXEC/EXECUTE (with `@rc =`), or first in its
    /// batch, where T-SQL lets a procedure be called without EXEC. `i` is the first part of the
    /// name.
    pub fn is_call_start(&self, i: usize) -> bool {
        if self.batch_of(i).0 == i {
            return true;
        }
        let before = |k: usize| i.checked_sub(k);
        let exec_at =
            |j: Option<usize>| j.is_some_and(|j| self.kw(j, "EXEC") || self.kw(j, "EXECUTE"));
        exec_at(before(1))
            || (self.is(i.wrapping_sub(1), &Token::Eq)
                && matches!(before(2).and_then(|j| self.ident(j)), Some(v) if v.starts_with('@'))
                && exec_at(before(3)))
    }

    /// The start of the multi-part name whose last part is at `last` (`master.dbo.x`, `master..x`).
    pub fn name_start(&self, last: usize) -> usize {
        let mut s = last;
        while s >= 1 && self.is(s - 1, &Token::Period) {
            if s >= 2 && self.ident(s - 2).is_some() {
                s -= 2;
            } else {
                s -= 1;
            }
        }
        s
    }

    /// The parts of the multi-part name starting at `start` (`master..x` has an empty middle
    /// part), and the index after it.
    pub fn name_at(&self, start: usize) -> (Vec<&str>, usize) {
        let mut parts = Vec::new();
        let mut j = start;
        loop {
            match self.ident(j) {
                Some(p) => {
                    parts.push(p);
                    j += 1;
                }
                None => parts.push(""),
            }
            if !self.is(j, &Token::Period) {
                break;
            }
            j += 1;
        }
        (parts, j)
    }

    /// The value of named argument `@name` in a procedure call whose name ends at `call`: the
    /// string after `@name =`, or the positional argument number `position` (0-based) when the
    /// call passes arguments by position.
    pub fn argument(&self, call: usize, name: &str, position: usize) -> Option<&str> {
        let end = self.statement_end(call);
        let mut j = call + 1;
        let mut pos = 0;
        while j < end {
            if let Some(p) = self.ident(j).filter(|p| p.starts_with('@'))
                && self.is(j + 1, &Token::Eq)
            {
                if p[1..].eq_ignore_ascii_case(name) {
                    return self.string(j + 2);
                }
                j += 3;
            } else {
                if pos == position {
                    return self.string(j);
                }
                j += 1;
            }
            if self.is(j, &Token::Comma) {
                pos += 1;
                j += 1;
            } else {
                // A positional value of several tokens (a number with a sign, a variable).
                while j < end && !self.is(j, &Token::Comma) {
                    j += 1;
                }
            }
        }
        None
    }

    /// A rough end of the statement starting at `i`: the next `;`, the next line starting with a
    /// statement keyword at parenthesis depth 0, or the end of the batch. Used only to bound
    /// argument lists of procedure calls and option lists.
    pub fn statement_end(&self, i: usize) -> usize {
        let end = self.batch_of(i).1;
        let mut depth = 0i32;
        let line = self.line(i);
        for j in i + 1..end {
            match self.toks[j].token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                Token::SemiColon if depth <= 0 => return j,
                _ => {}
            }
            if depth <= 0
                && self.line(j) != line
                && self.line(j - 1) != self.line(j)
                && starts_statement(self, j)
            {
                return j;
            }
        }
        end
    }
}

/// Keywords that begin a statement; after a line break at depth 0 they end the previous one.
const STATEMENT_KEYWORDS: &[&str] = &[
    "ALTER",
    "BACKUP",
    "BEGIN",
    "BREAK",
    "CLOSE",
    "COMMIT",
    "CONTINUE",
    "CREATE",
    "DBCC",
    "DEALLOCATE",
    "DECLARE",
    "DELETE",
    "DENY",
    "DROP",
    "ELSE",
    "END",
    "EXEC",
    "EXECUTE",
    "FETCH",
    "GOTO",
    "GRANT",
    "IF",
    "INSERT",
    "MERGE",
    "OPEN",
    "PRINT",
    "RAISERROR",
    "RESTORE",
    "RETURN",
    "REVOKE",
    "ROLLBACK",
    "SAVE",
    "SET",
    "THROW",
    "TRUNCATE",
    "UPDATE",
    "USE",
    "WAITFOR",
    "WHILE",
];

/// Whether token `j` is a keyword that begins a statement.
pub fn starts_statement(code: &Code, j: usize) -> bool {
    STATEMENT_KEYWORDS.iter().any(|k| code.kw(j, k))
}
